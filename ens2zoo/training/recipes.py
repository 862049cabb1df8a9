"""Named training recipes: an architecture, its hyper-parameters and a :class:`TrainingConfig`.

``ens2zoo train --recipe NAME`` and ``ens2zoo benchmark --recipe NAME`` select one; its
name is recorded in the weights' metadata and the zoo manifest and names the benchmark's
output files (``<recipe>_lodo_DSxx.*``).  A fold's weights are reused only when they were
trained with the same recipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.errors import UnknownNameError
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.distill import DistillConfig


@dataclass(frozen=True)
class Recipe:
    """A named, recorded way to train.

    Attributes:
        name: recipe name (names output files).
        architecture: registered architecture.
        hparams: its hyper-parameters (missing ones take the architecture's defaults).
        config: the training settings.
        description: one line.
        datasets: the training data it is meant for: a dataset group of
            :data:`ens2zoo.data.groups.GROUPS` or a selection (``--datasets`` overrides it).
        overrides: settings changed from the named recipe for a smoke test (e.g. ``{"max_iter": 5}``);
            recorded, and the zoo's manifest refuses weights that have any.
    """

    name: str
    architecture: str = "unet"
    hparams: Mapping[str, Any] = field(default_factory=dict)
    config: TrainingConfig = field(default_factory=TrainingConfig)
    description: str = ""
    datasets: str = "excitatory"
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def override(self, **settings: Any) -> Recipe:
        """This recipe with some :class:`TrainingConfig` settings changed; the speed settings
        (threads, compile) are not recorded as overrides, anything else is."""
        recorded = {k: v for k, v in settings.items() if k not in TrainingConfig.SPEED_KEYS}
        return replace(self, config=self.config.replace(**settings), overrides={**self.overrides, **recorded})

    @property
    def threads(self) -> int | None:
        """Torch CPU threads its runs use (None: leave as is)."""
        return self.config.threads

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (stored in weights metadata and the manifest)."""
        return {"name": self.name, "architecture": self.architecture, "hparams": dict(self.hparams),
                "config": self.config.to_dict(), "description": self.description, "datasets": self.datasets,
                **({"overrides": dict(self.overrides)} if self.overrides else {})}


_LODO = TrainingConfig(max_iter=1500, loss_window=100)
_ZOO = TrainingConfig(max_iter=3000, loss_window=100)
#: the noise-matched training data: the recordings plus 3 re-imaged copies (7.5/15/30 Hz, ν 1–9)
_NOISE_MATCHED = ReimageSpec(frame_rates=(7.5, 15.0, 30.0), noise_levels=(1.0, 9.0), copies=3)
#: noisy ROIs straight from suite2p: 3 copies at 7.5/15/30 Hz and ν 6–20 (overlapping ens2-nm's top)
_HIGH_NOISE = ReimageSpec(frame_rates=(7.5, 15.0, 30.0), noise_levels=(6.0, 20.0), copies=3)
#: the CASCADE peer: its optimiser and batch on the noise-matched data
#: GCaMP8 members: the recordings (~122 Hz) plus copies re-imaged at the frame rates labs use
_GCAMP8_RATES = (7.5, 15.0, 30.0, 60.0)
#: ... at their own noise (ν 0 = add none): the recordings as they are, at any frame rate
_GCAMP8_OWN_NOISE = ReimageSpec(frame_rates=_GCAMP8_RATES, noise_levels=(0.0, 0.0), copies=2)
#: ... with white noise at the ν of the condition grid (ν 1–9, the frame rates of ens2-nm)
_GCAMP8_MID_NOISE = ReimageSpec(frame_rates=(7.5, 15.0, 30.0), noise_levels=(1.0, 9.0), copies=3)
#: ... and with white noise up to ν 20 (noisy ROIs straight from suite2p)
_GCAMP8_NOISE_MATCHED = ReimageSpec(frame_rates=_GCAMP8_RATES, noise_levels=(1.0, 20.0), copies=4)
_GCAMP8 = TrainingConfig(max_iter=1500, loss_window=100)
_CASCADE = TrainingConfig(optimizer="adagrad", batch_size=8192, max_iter=6000, loss_window=100, reimage=_NOISE_MATCHED)


def _gcamp8_single_rate(name: str, frame_rate: float) -> Recipe:
    """A noise-matched jGCaMP8 member whose copies are all at one frame rate (Hz): a model per frame rate, as
    CASCADE trains them."""
    reimage = ReimageSpec(frame_rates=(frame_rate,), noise_levels=(1.0, 20.0), copies=4)
    return Recipe(name, "unet", config=_GCAMP8.replace(reimage=reimage, ensemble=3), datasets="gcamp8",
                  description=f"noise-matched jGCaMP8 U-Nets for ~{frame_rate:g} Hz: DS30-DS32 plus 4 copies "
                              f"re-imaged at {frame_rate:g} Hz and ν 1-20, 1500 iterations, 100-iteration loss mean; "
                              "an ensemble of 3 such networks (seeds 0-2), their outputs averaged")


RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("published", "unet", config=TrainingConfig(),
           description="the published ENS² protocol: U-Net, MSE, patience 500 on each batch's loss, ≤ 5000 iterations"),
    Recipe("unet", "unet", config=_LODO,
           description="U-Net for the LODO table: 1500 iterations, early stopping on the 100-iteration mean loss"),
    Recipe("mlp", "mlp", config=_LODO, description="FCNet MLP, LODO setting"),
    Recipe("cnn", "cnn", config=_LODO, description="LeNet-style CNN, LODO setting"),
    Recipe("lstm", "lstm", config=_LODO.replace(batch_size=256), description="bidirectional LSTM, LODO setting"),
    Recipe("ens2-nm", "unet", config=_ZOO.replace(reimage=_NOISE_MATCHED),
           description="noise- and frame-rate-matched U-Net: the data plus 3 re-imaged copies "
                       "(7.5/15/30 Hz, ν 1–9), 3000 iterations, 100-iteration loss mean"),
    Recipe("ens2-hn", "unet", config=_LODO.replace(reimage=_HIGH_NOISE),
           description="high-noise U-Net: the data plus 3 copies re-imaged at 7.5/15/30 Hz and ν 6–20, "
                       "1500 iterations, 100-iteration loss mean"),
    Recipe("cascade", "cascade", config=_CASCADE,
           description="peer: CASCADE's network, loss (MSE), optimiser (Adagrad, Keras defaults) and batch "
                       "(8192) on the noise-matched data of ens2-nm; one model across ν 1–9 (CASCADE trains "
                       "one ensemble per integer ν); at most 6000 iterations, early stopping on the "
                       "100-iteration loss mean (patience 500)"),
    Recipe("cascade-fixed", "cascade", config=_CASCADE.replace(patience=_CASCADE.max_iter),
           description="peer: recipe cascade without early stopping, all 6000 iterations: CASCADE's own "
                       "budget (10 epochs of at most 5,000,000 windows at batch 8192, ~6,100 iterations "
                       "per model, no early stopping)"),
    Recipe("ens2-v1", "unet", config=_ZOO,
           description="the zoo's first U-Nets (ens2-exc-v1, ens2-inh-v1): 3000 iterations, 100-iteration loss mean"),
    Recipe("ens2-gcamp8-v1", "unet", config=_GCAMP8.replace(reimage=_GCAMP8_OWN_NOISE), datasets="gcamp8",
           description="jGCaMP8 U-Net for the recordings as they are: DS30-DS32 plus 2 copies re-imaged at "
                       "7.5/15/30/60 Hz at their own noise, 1500 iterations, 100-iteration loss mean"),
    Recipe("ens2-gcamp8-nm9", "unet", config=_GCAMP8.replace(reimage=_GCAMP8_MID_NOISE, ensemble=3),
           datasets="gcamp8",
           description="jGCaMP8 U-Nets for ν 1.5–9: DS30-DS32 plus 3 copies re-imaged at 7.5/15/30 Hz and ν 1-9, "
                       "1500 iterations, 100-iteration loss mean; an ensemble of 3 such networks (seeds 0-2), "
                       "their outputs averaged"),
    _gcamp8_single_rate("ens2-gcamp8-nm30", 30.0),  # the frame rate labs use most
    _gcamp8_single_rate("ens2-gcamp8-nm7", 7.5),  # the slowest rate of the grid: a candidate (session 18)
    Recipe("ens2-gcamp8-nm", "unet", config=_GCAMP8.replace(reimage=_GCAMP8_NOISE_MATCHED, ensemble=3),
           datasets="gcamp8",
           description="noise-matched jGCaMP8 U-Nets: DS30-DS32 plus 4 copies re-imaged at 7.5/15/30/60 Hz "
                       "and ν 1-20, 1500 iterations, 100-iteration loss mean; an ensemble of 3 such networks "
                       "(seeds 0-2), their outputs averaged"),
)}


@dataclass(frozen=True)
class MemberRecipe:
    """One member of a family recipe: its name in the family folder, its training recipe, the
    [low, high) ν it serves (%·Hz^-1/2; None = open) and the [low, high) frame rates it serves
    (Hz; default every rate).  A neuron goes to the first member that serves it."""

    name: str
    recipe: str
    noise_range: tuple[float | None, float | None]
    frame_rate_range: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class FamilyRecipe:
    """A named way to build a routed family: members trained on the same data, each serving a ν range.

    ``ens2zoo train --recipe NAME -o FOLDER`` trains every member (resumable: a member whose
    weights are already in FOLDER with the same recipe is kept) and writes the family folder
    (members' weights and ``manifest.json``; load it with ``ens2zoo.load_folder``).  Each
    member's trained frame-rate and ν ranges are derived from its data and re-imaging spec.
    ``spike_estimator`` is the family's default discrete spike estimator (its manifest's
    ``preprocessing.spike_estimator``).
    """

    name: str
    members: tuple[MemberRecipe, ...]
    datasets: str
    description: str = ""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    spike_estimator: str = "greedy"

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def override(self, **settings: Any) -> FamilyRecipe:
        """This family with ``settings`` applied to every member's recipe (see :meth:`Recipe.override`)."""
        return replace(self, overrides={**self.overrides, **settings})

    def member_recipes(self) -> list[Recipe]:
        """Each member's recipe, with the family's overrides."""
        return [get_recipe(m.recipe).override(**self.overrides) for m in self.members]

    @property
    def threads(self) -> int | None:
        """Torch CPU threads its runs use (None: leave as is)."""
        return self.overrides.get("threads")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "datasets": self.datasets, "description": self.description,
                "members": [{"name": m.name, "recipe": m.recipe, "noise_range": list(m.noise_range),
                             **({"frame_rate_range": list(m.frame_rate_range)}
                                if m.frame_rate_range != (None, None) else {})}
                            for m in self.members],
                **({"spike_estimator": self.spike_estimator} if self.spike_estimator != "greedy" else {})}


#: ν at which the families hand neurons from the member for the recordings as they are to the
#: noise-matched one (chosen for ens2-exc on DS01, never used for training; carried over)
ROUTING_THRESHOLD = 1.5
#: ν from which ens2-exc and ens2-inh hand neurons to their high-noise member (the top of
#: ens2-nm's trained range)
HIGH_NOISE_THRESHOLD = 9.0


def _members(name: str, *recipes: str, thresholds: tuple[float, ...]) -> tuple[MemberRecipe, ...]:
    """Members ``<name>-<suffix>`` (the recipe's name after ``ens2-``/``ens2-gcamp8-``) serving
    consecutive ν ranges split at ``thresholds``."""
    bounds = (None, *thresholds, None)
    return tuple(MemberRecipe(f"{name}-{recipe.rsplit('-', 1)[1]}", recipe, (bounds[i], bounds[i + 1]))
                 for i, recipe in enumerate(recipes))


#: the frame rates a member trained at 30 Hz serves: within half an octave of 30 Hz (30/√2 to 30·√2)
BAND_30HZ = (21.2, 42.4)

_CLASSIC_MEMBERS = ("ens2-v1", "ens2-nm", "ens2-hn")
_CLASSIC_THRESHOLDS = (ROUTING_THRESHOLD, HIGH_NOISE_THRESHOLD)

FAMILY_RECIPES: dict[str, FamilyRecipe] = {f.name: f for f in (
    FamilyRecipe("ens2-exc", _members("ens2-exc", *_CLASSIC_MEMBERS, thresholds=_CLASSIC_THRESHOLDS), "excitatory",
                 "ENS² U-Net family, excitatory neurons (DS02–DS21), routed by each neuron's noise level ν: "
                 "ν < 1.5 → ens2-exc-v1 (recordings as they are), 1.5 ≤ ν < 9 → ens2-exc-nm (also trained on "
                 "copies re-imaged at 7.5–30 Hz, ν 1–9), ν ≥ 9 → ens2-exc-hn (copies at 7.5–30 Hz, ν 6–20)"),
    FamilyRecipe("ens2-inh", _members("ens2-inh", *_CLASSIC_MEMBERS, thresholds=_CLASSIC_THRESHOLDS), "inhibitory",
                 "ENS² U-Net family, inhibitory neurons (DS22–DS27), routed like ens2-exc"),
    FamilyRecipe("ens2-gcamp8", (
        MemberRecipe("ens2-gcamp8-v1", "ens2-gcamp8-v1", (None, ROUTING_THRESHOLD)),
        MemberRecipe("ens2-gcamp8-nm30", "ens2-gcamp8-nm30", (ROUTING_THRESHOLD, None), BAND_30HZ),
        MemberRecipe("ens2-gcamp8-nm", "ens2-gcamp8-nm", (ROUTING_THRESHOLD, None))), "gcamp8",
                 "ENS² U-Net family for jGCaMP8f/m/s (DS30–DS32), routed by ν and frame rate: ν < 1.5 → "
                 "ens2-gcamp8-v1 (the recordings and copies at 7.5–60 Hz at their own noise); ν ≥ 1.5 at "
                 "21.2–42.4 Hz → ens2-gcamp8-nm30 (copies at 30 Hz and ν 1–20), at other rates → ens2-gcamp8-nm "
                 "(copies at 7.5–60 Hz and ν 1–20); each noise-matched member the mean of 3 networks; discrete "
                 "spikes by the count-preserving estimator",
                 # chosen on the selection fold M1 (session 19): spikes = Σ rate, er50 lower at 30:0/30:4/7.5:4
                 spike_estimator="count"),
)}


@dataclass(frozen=True)
class DistillRecipe:
    """A named way to distil a whole-trace student from a teacher model (``ens2zoo train --recipe NAME``).

    The teacher labels an unlabelled set drawn from the training data (``hours_original`` of the
    recordings as they are and ``hours_reimaged`` of copies re-imaged by ``reimage``) at stride 1;
    the student learns those labels, then is fine-tuned on the true rate
    (:func:`ens2zoo.training.distill.distill`).

    Attributes:
        name: recipe name (recorded in the student's weights).
        teacher: zoo name of the teacher (``--teacher`` may give a fold's family folder instead).
        architecture, hparams: the student.
        config: the two stages' settings.
        hours_original, hours_reimaged: hours of unlabelled input.
        reimage: how the re-imaged part is made.
        datasets: the dataset group the unlabelled input comes from.
        overrides: settings changed for a smoke test (``max_iter``), recorded.
    """

    name: str
    teacher: str
    architecture: str = "tcn"
    hparams: Mapping[str, Any] = field(default_factory=dict)
    config: DistillConfig = field(default_factory=DistillConfig)
    hours_original: float = 4.0
    hours_reimaged: float = 4.0
    reimage: ReimageSpec = field(default_factory=lambda: ReimageSpec(
        frame_rates=(7.5, 15.0, 30.0), noise_levels=(1.0, 9.0), copies=1, keep_original=False))
    datasets: str = "excitatory"
    description: str = ""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    threads: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def override(self, **settings: Any) -> DistillRecipe:
        """This recipe with ``max_iter`` (caps both stages' iterations; recorded) or ``threads`` changed."""
        unknown = set(settings) - {"max_iter", *TrainingConfig.SPEED_KEYS}
        if unknown:
            raise UnknownNameError(f"distillation recipe {self.name}: cannot change {sorted(unknown)} "
                                   "(only --max-iter and --threads)")
        changed = replace(self, threads=settings.get("threads", self.threads))
        if "max_iter" in settings:  # caps both stages
            cap = settings["max_iter"]
            config = replace(self.config, max_iter=cap, finetune_iter=min(self.config.finetune_iter, cap))
            changed = replace(changed, config=config, overrides={**self.overrides, "max_iter": cap})
        return changed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (stored in the student's weights)."""
        return {"name": self.name, "architecture": self.architecture, "hparams": dict(self.hparams),
                "config": {**self.config.to_dict(), "teacher": self.teacher, "hours_original": self.hours_original,
                           "hours_reimaged": self.hours_reimaged, "reimage": self.reimage.to_dict()},
                "description": self.description, "datasets": self.datasets,
                **({"overrides": dict(self.overrides)} if self.overrides else {})}


DISTILL_RECIPES: dict[str, DistillRecipe] = {r.name: r for r in (
    DistillRecipe("ens2-exc-fast", teacher="ens2-exc", hours_original=4.0, hours_reimaged=4.0,
                  description="whole-trace dilated CNN distilled from the ens2-exc U-Net family's stride-1 rate "
                              "(4 h of unlabelled excitatory ground truth + 4 h re-imaged at 7.5/15/30 Hz, ν 1–9), "
                              "then fine-tuned on the smoothed true rate"),
)}


def get_recipe(name: str) -> Recipe:
    """The recipe ``name`` (error lists the known ones)."""
    try:
        return RECIPES[name]
    except KeyError:
        hint = (f" ({name} is a family recipe: ens2zoo train --recipe {name} -o FOLDER)" if name in FAMILY_RECIPES
                else f" ({name} is a distillation recipe: ens2zoo train --recipe {name} -o FILE)"
                if name in DISTILL_RECIPES else "")
        raise UnknownNameError(f"unknown recipe {name!r}{hint}: known: {', '.join(sorted(RECIPES))}") from None


def get_family_recipe(name: str) -> FamilyRecipe | None:
    """The family recipe ``name``, or None if ``name`` is not one."""
    return FAMILY_RECIPES.get(name)


def get_distill_recipe(name: str) -> DistillRecipe | None:
    """The distillation recipe ``name``, or None if ``name`` is not one."""
    return DISTILL_RECIPES.get(name)


def list_recipes() -> list[str]:
    """Names of the single-network, family and distillation recipes."""
    return sorted({*RECIPES, *FAMILY_RECIPES, *DISTILL_RECIPES})


def same_recipe(recorded: Any, recipe: Recipe) -> bool:
    """Whether a weights file's recorded recipe (its ``recipe`` metadata) trains like ``recipe``:
    same architecture, hyper-parameters and settings (speed settings aside; settings added since
    the file was written take their defaults)."""
    defaults = TrainingConfig().to_dict()
    reimage_defaults = ReimageSpec().to_dict()

    def key(r: dict) -> tuple:
        config = {**defaults, **r.get("config", {})}
        if isinstance(config["reimage"], dict):
            config["reimage"] = {**reimage_defaults, **config["reimage"]}
        return (r.get("architecture"), r.get("hparams"),
                {k: v for k, v in config.items() if k not in TrainingConfig.SPEED_KEYS})

    return isinstance(recorded, dict) and key(recorded) == key(recipe.to_dict())
