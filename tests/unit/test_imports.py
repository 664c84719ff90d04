"""The import rule of docs/design.md ("Imports"): polyir's own modules are imported at the top of
modules, so the dependency graph is visible and an import error is an import error; only heavy
or optional third-party packages may be imported inside a function, and the top-level imports
between polyir's modules have no cycle."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import polyir

SOURCE = Path(polyir.__file__).parent
# third-party packages a function may import: heavy to load (seconds: torch, transformers,
# sentence-transformers, numba, scipy, matplotlib, faiss; ~0.1 s with its network stack:
# huggingface_hub; ~0.07 s: tqdm, which `polyir --help` never needs) or an optional extra
# (pyproject.toml: datasets, ray, ctranslate2, mlflow, tensorboard, pyarrow, sentencepiece, py3langid)
HEAVY_OR_OPTIONAL = {
    "torch", "transformers", "sentence_transformers", "numba", "scipy", "matplotlib", "faiss",
    "huggingface_hub", "tqdm", "datasets", "ray", "ctranslate2", "mlflow", "tensorboard", "pyarrow",
    "sentencepiece", "py3langid", "accelerate",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for p in SOURCE.rglob("*.py"))


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute names an import statement refers to (``from . import x``: the package and ``.x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")[:len(module.split(".")) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def imports_in_functions(tree: ast.Module):
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def test_no_polyir_import_and_no_light_import_inside_functions():
    offences = []
    for name, path in modules():
        for node in imports_in_functions(ast.parse(path.read_text(encoding="utf-8"))):
            first = imported_names(node, name, path.name == "__init__.py")[0]
            top = first.split(".")[0]
            if top == "polyir":
                offences.append(f"{path.relative_to(SOURCE)}:{node.lineno}: polyir's own {first} inside a function")
            elif top not in HEAVY_OR_OPTIONAL and top not in sys.stdlib_module_names:
                offences.append(f"{path.relative_to(SOURCE)}:{node.lineno}: {first} (not heavy nor optional) "
                                "inside a function")
            elif top in sys.stdlib_module_names:
                offences.append(f"{path.relative_to(SOURCE)}:{node.lineno}: standard library {first} inside a function")
    assert not offences, "\n".join(offences)


def top_level_graph() -> dict[str, set[str]]:
    """module -> the polyir modules its module-level statements import (TYPE_CHECKING blocks left out)."""
    known = {name for name, _ in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        for node in tree.body:  # module level only: function bodies are checked above
            statements = [node]
            if isinstance(node, (ast.If, ast.Try)) and not _type_checking(node):
                statements = list(ast.walk(node))
            for statement in statements:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    targets = imported_names(statement, name, path.name == "__init__.py")
                    submodules = [t for t in targets[1:] if t in known]
                    # ``from package import submodule`` needs the submodule; the package's own
                    # __init__ is only a dependency when a name is taken from it
                    needed = submodules if isinstance(statement, ast.ImportFrom) and len(submodules) == len(
                        targets) - 1 else targets
                    edges |= {target for target in needed if target in known and target != name}
        graph[name] = edges
    return graph


def _type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def test_no_import_cycle_between_polyir_modules():
    graph = top_level_graph()
    assert graph["polyir.experiments.spec"] >= {"polyir.experiments.grid", "polyir.experiments.sweep_types"}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("name", [n for n, _ in modules() if not n.endswith("__main__")])
def test_every_module_imports(name):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as err:  # an optional extra that is not installed: say so, do not fail
        if err.name and err.name.split(".")[0] in HEAVY_OR_OPTIONAL - {"torch", "transformers", "numba", "scipy"}:
            pytest.skip(f"optional dependency {err.name} not installed")
        raise


def test_help_loads_no_heavy_library_and_no_other_commands_options():
    # `polyir --help` and `polyir COMMAND --help` read only the command's options (docs/benchmarks.md,
    # "Command-line start-up"): no numpy, no torch, no other command's module
    code = ("import sys; from polyir.cli import COMMANDS, main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "heavy = ('numpy', 'torch', 'transformers', 'sentence_transformers', 'numba', 'scipy', 'matplotlib', 'faiss')\n"
            "print(sorted(m for m in heavy if m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('polyir.cli.') and m != 'polyir.cli.argtypes'))")
    for command in ["", "model", "data", "translate", "evaluate", "train", "sweep", "report", "demo"]:
        argv = [command, "--help"] if command else ["--help"]
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
        loaded = out.strip().splitlines()[-1]
        assert loaded.startswith("[] "), (command, loaded)
        options = {"data": ["data_options", "translate_options"]}.get(command, [f"{command}_options"] if command else [])
        assert loaded == f"[] {sorted(f'polyir.cli.{m}' for m in options)}", (command, loaded)


def test_file_names_are_unique_in_the_tree():
    names = [p.name for p in SOURCE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
