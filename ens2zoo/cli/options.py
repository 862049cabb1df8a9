"""Options shared by the command groups: model selection, hyper-parameters and training settings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ens2zoo.errors import InputError
from ens2zoo.training.config import LR_SCHEDULES, OPTIMIZERS, TrainingConfig
from ens2zoo.training.recipes import FamilyRecipe, Recipe, get_family_recipe, get_recipe, list_recipes

if TYPE_CHECKING:
    from ens2zoo.model import SpikeModel
    from ens2zoo.workflows.factory import ModelSpec

DEFAULT_MODEL = "ens2-exc"


def parse_hparams(items: list[str] | None) -> dict:
    """``KEY=VALUE`` hyper-parameters; values parsed as JSON where they are JSON."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--hparam {item!r}: write KEY=VALUE, e.g. --hparam features=16")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def add_model_args(p: argparse.ArgumentParser) -> None:
    """``--model`` or ``--arch/--weights/--hparam``, and ``--device``."""
    g = p.add_argument_group("model (a zoo name, or an architecture with a weights file)")
    g.add_argument("--model", help=f"zoo model name (default: {DEFAULT_MODEL}; see `ens2zoo list`)")
    g.add_argument("--arch", help="architecture name, used with --weights (default: read from the weights' "
                                  "metadata, else unet)")
    g.add_argument("--weights", help=".safetensors or .pt state dict")
    g.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                   help="architecture hyper-parameter of --arch (for weights trained with non-default ones)")
    g.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")


def weights_description(path: str) -> dict:
    """Architecture and hyper-parameters recorded in an ens2zoo safetensors file (``{}`` for other files)."""
    from ens2zoo.utils.files import safetensors_metadata

    if not (str(path).endswith(".safetensors") and Path(path).is_file()):
        return {}
    try:
        meta = safetensors_metadata(path)
    except Exception:  # corrupt or foreign: create() reports it with the fix
        return {}
    return meta if isinstance(meta.get("architecture"), str) else {}


def weights_architecture(args: argparse.Namespace) -> tuple[str, dict]:
    """(architecture, hyper-parameters) for ``--weights FILE``: ``--arch``/``--hparam`` where given,
    else what the weights record (ens2zoo-saved safetensors), else the U-Net."""
    arch, hparams = args.arch, parse_hparams(args.hparam)
    if arch is None:
        meta = weights_description(args.weights)
        arch = meta.get("architecture")
        hparams = {**meta.get("hparams", {}), **hparams}
    return arch or "unet", hparams


def model_spec_from_args(args: argparse.Namespace) -> ModelSpec:
    """The model the options name (a zoo name, a folder, or an architecture with weights), checked."""
    from ens2zoo.workflows.factory import ModelSpec  # lazily: CLI start-up time

    if args.weights and Path(args.weights).is_dir():  # a family or CASCADE folder: its files say the rest
        if args.model or args.arch or args.hparam:
            raise InputError(f"--weights {args.weights} is a model folder: drop --model/--arch/--hparam")
        return ModelSpec.of(weights=args.weights, device=args.device)
    if args.weights:
        if args.model:
            raise InputError("give either --model NAME or --arch ARCH --weights FILE, not both")
        arch, hparams = weights_architecture(args)
        return ModelSpec.of(arch=arch, weights=args.weights, hparams=hparams, device=args.device)
    if args.hparam:
        raise InputError("--hparam needs --arch ARCH --weights FILE")
    if args.arch:
        raise InputError(f"--arch {args.arch} needs --weights FILE (or use --model NAME)")
    return ModelSpec.of(args.model or DEFAULT_MODEL, device=args.device)


def model_from_args(args: argparse.Namespace) -> SpikeModel:
    """The model the options name, loaded (:func:`model_spec_from_args`)."""
    return model_spec_from_args(args).load()


#: training flags → TrainingConfig fields
_CONFIG_FLAGS = {"loss": "loss", "optimizer": "optimizer",
                 "lr": "lr", "lr_schedule": "lr_schedule", "batch_size": "batch_size", "max_iter": "max_iter",
                 "patience": "patience", "seed": "seed", "loss_window": "loss_window", "hours": "hours",
                 "threads": "threads", "compile": "compile", "ensemble": "ensemble",
                 "init_weights": "init_weights"}


def add_training_args(p: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``benchmark``: a recipe, or an architecture with settings."""
    d = TrainingConfig()
    p.add_argument("--recipe", help=f"named training recipe ({', '.join(list_recipes())}); fixes the "
                                    "architecture and settings and names the outputs (benchmark: several, "
                                    "comma-separated)")
    p.add_argument("--arch", help="architecture without a recipe (default: unet; benchmark: several, "
                                  "comma-separated, each with the settings given)")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="architecture hyper-parameter")
    p.add_argument("--loss", help=f"mse (published), eucd or corr (default: {d.loss})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"adam (published) or adagrad (CASCADE's) "
                                                          f"(default: {d.optimizer})")
    p.add_argument("--lr", type=float, help=f"learning rate (default: {d.lr:g})")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help=f"constant (published) or cosine (annealed to 0 at --max-iter) (default: {d.lr_schedule})")
    p.add_argument("--batch-size", type=int, help=f"windows per iteration (default: {d.batch_size})")
    p.add_argument("--max-iter", type=int, help=f"iteration cap (default: {d.max_iter})")
    p.add_argument("--patience", type=int, help=f"early-stopping patience, iterations (default: {d.patience})")
    p.add_argument("--seed", type=int, help=f"random seed (default: {d.seed})")
    p.add_argument("--loss-window", type=int,
                   help="iterations averaged for early stopping (default 1 = published: each batch's loss)")
    p.add_argument("--hours", type=float, help="train on this many hours of randomly drawn windows")
    p.add_argument("--reimage", metavar="SPEC",
                   help="also train on re-imaged copies, e.g. 'rates=7.5,15,30;noise=1-9;copies=3' "
                        "(frame rates in Hz, ν range in %%·Hz^-1/2; see ens2zoo.data.reimage.ReimageSpec)")
    p.add_argument("--ensemble", type=int, metavar="N",
                   help=f"train N networks alike (seeds --seed … --seed+N-1) and save their mean, as CASCADE "
                        f"averages five; each is kept beside -o as it finishes, so a re-run resumes "
                        f"(default: {d.ensemble})")
    p.add_argument("--init-weights", metavar="NAME_OR_FILE",
                   help="fine-tune: start every network from these weights (a zoo model of one network, e.g. "
                        "ens2-exc-nm, or a .safetensors file of the same architecture) instead of a random "
                        "initialisation (default: from scratch)")
    p.add_argument("--threads", type=int, help="torch CPU threads (restored afterwards)")
    p.add_argument("--compile", action="store_true", default=None,
                   help="train the network compiled by torch.compile: ~1.2x per U-Net iteration on the CPU, "
                        "weights equal to an eager run's up to the last bits (allowed with --recipe)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--log-every", type=int, default=100, help="log the loss every N iterations (0: never)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def recipes_from_args(args: argparse.Namespace) -> list[Recipe | FamilyRecipe]:
    """One recipe per name of ``--recipe A,B`` (a family recipe such as ``ens2-exc`` included; or per
    architecture of ``--arch A,B``, each with the settings the flags give): ``benchmark`` runs every
    fold of each."""
    field = "recipe" if args.recipe else "arch"
    names = [n.strip() for n in (getattr(args, field) or "").split(",") if n.strip()]
    if len(names) != len(set(names)):
        raise InputError(f"--{field} {getattr(args, field)} names one twice")
    if len(names) <= 1 and not (args.recipe and get_family_recipe(args.recipe.strip())):
        return [recipe_from_args(args)]

    def unit(name: str) -> Recipe | FamilyRecipe:
        one = argparse.Namespace(**{**vars(args), field: name})
        family = get_family_recipe(name) if field == "recipe" else None
        return family.override(**recipe_settings(one, given_settings(one))) if family else recipe_from_args(one)

    return [unit(name) for name in names]


#: what may be added to a named recipe: its speed, and an iteration cap for smoke tests (recorded)
RECIPE_SETTINGS = (*TrainingConfig.SPEED_KEYS, "max_iter")


def recipe_settings(args: argparse.Namespace, given: dict) -> dict:
    """The settings ``given`` on the command line that may change a named recipe (:data:`RECIPE_SETTINGS`);
    anything else is an error naming the flags."""
    changing = sorted(set(given) - set(RECIPE_SETTINGS))
    if changing or args.arch or args.hparam:
        flags = ", ".join("--" + f.replace("_", "-") for f in changing + (["arch"] if args.arch else []) +
                          (["hparam"] if args.hparam else []))
        raise InputError(f"--recipe {args.recipe} fixes the training settings; drop {flags} "
                         "(or leave out --recipe and give the settings; --max-iter N may cap a recipe for a "
                         "smoke test, recorded as an override)")
    return {k: v for k, v in given.items() if k in RECIPE_SETTINGS}


def given_settings(args: argparse.Namespace) -> dict:
    """The :class:`TrainingConfig` settings the training flags give (``--reimage`` parsed)."""
    given = {field: getattr(args, flag) for flag, field in _CONFIG_FLAGS.items() if getattr(args, flag) is not None}
    if args.reimage:
        from ens2zoo.data.reimage import ReimageSpec

        given["reimage"] = ReimageSpec.parse(args.reimage)
    return given


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The recipe named by ``--recipe`` (only the speed settings ``--threads`` and ``--compile`` may be
    added, and ``--max-iter`` as a recorded override), or one built from the flags."""
    if "," in (args.recipe or "") + (args.arch or ""):
        raise InputError("train takes one --recipe or --arch (benchmark takes several: --recipe A,B)")
    given = given_settings(args)
    if args.recipe:
        return get_recipe(args.recipe).override(**recipe_settings(args, given))
    arch = args.arch or "unet"
    return Recipe(arch, arch, parse_hparams(args.hparam), TrainingConfig(**given),
                  description="settings given on the command line")
