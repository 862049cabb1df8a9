"""The package's imports point down the pipeline only (read with ``ast``, function-level imports included).

The layer order (low → high) is the one the README's "Layout" section documents.
A module may import modules of its own layer or below, never above; there is no
import cycle between modules; nothing inside the package does ``import ens2zoo``;
no ``_private`` name or private module is imported from outside its own module/package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ens2zoo"

#: low → high; the most specific prefix decides a module's layer
LAYERS = [
    ["ens2zoo.errors", "ens2zoo.defaults", "ens2zoo._version"],
    ["ens2zoo.utils"],
    ["ens2zoo.architectures"],
    ["ens2zoo.inference"],
    ["ens2zoo.metrics"],
    ["ens2zoo.zoo"],  # entries, weights, manifest, plugins, builtins, registry
    ["ens2zoo.data"],
    ["ens2zoo.training"],  # config, losses, checkpoint, step, loop, fit, distill, recipes
    ["ens2zoo.model"],
    ["ens2zoo.simulate", "ens2zoo.io", "ens2zoo.plotting"],
    ["ens2zoo.workflows"],  # factory, cascade_folder, runner, family: whole models
    ["ens2zoo.benchmark"],
    ["ens2zoo.cluster"],  # Dask: many inputs, LODO folds
    ["ens2zoo.cli"],
    ["ens2zoo.__main__", "ens2zoo.__init__"],
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts != ["ens2zoo", "__init__"]:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and the README's Layout"
    return best


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _resolve(target: str, known: dict[str, Path]) -> str:
    """The module an imported dotted name lives in (``ens2zoo.zoo.registry.get_architecture`` → the module)."""
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def _imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every ens2zoo import, wherever it sits in the file."""
    tree = ast.parse(path.read_text(), str(path))
    out = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "ens2zoo"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] != "ens2zoo":
                continue
            names = [a.name for a in node.names]
            for name in names:  # `from pkg import submodule` imports the submodule
                sub = f"{base}.{name}"
                out.append((sub if sub in known else base, [] if sub in known else [name], node.lineno))
    return out


def _graph():
    known = _modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    problems = []
    for module, path in known.items():
        for target, names, line in _imports(module, path, known):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if target == "ens2zoo" and module != "ens2zoo.__main__":
                problems.append(f"{where}: imports the top-level package; import the defining module")
                continue
            target = _resolve(target, known)
            if target == module:
                continue
            edges[module].add(target)
            if layer_of(target) > layer_of(module):
                problems.append(f"{where}: {module} (layer {layer_of(module)}) imports {target} "
                                f"(layer {layer_of(target)}), which sits above it")
            private_names = [n for n in names if n.startswith("_") and n != "__version__"]
            if private_names:
                problems.append(f"{where}: imports private names {private_names} from {target}")
            leaf = target.rsplit(".", 1)[-1]
            if leaf.startswith("_") and not leaf.startswith("__") and target != "ens2zoo._version":
                owner = target.rsplit(".", 1)[0]
                if not module.startswith(owner + ".") and module != owner:
                    problems.append(f"{where}: imports private module {target} from outside {owner}")
    return edges, problems


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_imports_point_down_the_pipeline():
    _, problems = _graph()
    assert not problems, "\n".join(problems)


def test_no_import_cycles():
    edges, _ = _graph()
    assert not _cycles(edges)


def test_checker_catches_an_upward_import_and_a_cycle():
    assert layer_of("ens2zoo.cli.main") > layer_of("ens2zoo.model") > layer_of("ens2zoo.zoo.registry")
    assert layer_of("ens2zoo.workflows.factory") > layer_of("ens2zoo.model") > layer_of("ens2zoo.training.fit")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["ens2zoo", "ens2zoo.metrics"])
def test_light_imports_do_not_build_the_zoo(module):
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'ens2zoo.zoo.registry', 'ens2zoo.model') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
