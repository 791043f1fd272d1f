"""core's modules import one another without a circle and only from their own stage of the
flow or an earlier one (core.STAGES), counting imports inside functions too
(a local import hides a circle from Python's loader, not from a reader)."""
from __future__ import annotations

import ast
from pathlib import Path

from core import STAGES

CORE = Path(__file__).resolve().parents[1] / "core"


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST):
    """Every node of a module but those under `if TYPE_CHECKING:`: an import made only for
    type annotations never runs, so it cannot close a circle."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The core modules a file imports anywhere in it (`from core.x import y` counts
    core.x.y when that is a module, else core.x), type-checking-only imports left out."""
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name in modules:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in CORE.rglob("*.py")}
    graph = {name: imports_of(path, set(files)) for name, path in files.items()}
    for name, targets in graph.items():  # a package's own __init__ is not an edge
        targets -= {t for t in targets if name.startswith(t + ".") or t == name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, or None (depth-first search, three colours)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_core_has_no_import_circle():
    graph = import_graph()
    assert "core.sampling.generation" in graph and graph["core.sampling.generation"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# --------------------------------------------------------------------------- layers

ROOT = CORE.parent
PAGES = len(STAGES)  # views/ and app.py: above every stage of core


def stage_of(module: str) -> int | None:
    """The index in core.STAGES of the stage a module belongs to (PAGES for the dashboard's
    pages), None for what is no stage's (the root package, outside libraries)."""
    if module == "app" or module == "views" or module.startswith("views."):
        return PAGES
    for index, (_, members) in enumerate(STAGES):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    return None


def every_import(path: Path) -> set[str]:
    """Every name a file imports, anywhere in it: inside functions and under TYPE_CHECKING
    too (a layer is what a module knows of, not only what runs first), `from X import Y`
    giving both X.Y and X, a relative import resolved against the file's package."""
    module = module_name(path) if path.is_relative_to(CORE) else \
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]
                            if node.level else [node.module or ""]).strip(".")
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def source_files() -> dict[str, Path]:
    """core's modules, the pages and app.py, by module name."""
    files = {module_name(p): p for p in CORE.rglob("*.py")}
    files.update({".".join(p.relative_to(ROOT).with_suffix("").parts): p
                  for p in [*(ROOT / "views").glob("*.py"), ROOT / "app.py"]})
    return files


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """'importer -> imported (stage -> stage)' for each import of a later stage."""
    names = [name for name, _ in STAGES] + ["pages"]
    found = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = stage_of(source), stage_of(target)
            if here is not None and there is not None and there > here:
                found.append(f"{source} -> {target} ({names[here]} -> {names[there]})")
    return found


def test_every_module_of_core_belongs_to_a_stage():
    modules = [m for m in source_files() if m != "core"]
    assert [m for m in modules if stage_of(m) is None] == []
    assert stage_of("core.data.prepare") < stage_of("core.runs.record") < \
        stage_of("core.sampling.generation") < stage_of("core.outputs.report") < PAGES


def test_no_module_imports_a_later_stage_of_the_flow():
    graph = {name: every_import(path) for name, path in source_files().items()}
    assert "core.runs.training" in graph["core.cli.training"]   # lazy imports are read too
    assert upward_imports(graph) == []


def test_core_never_imports_streamlit():
    graph = {name: every_import(path) for name, path in source_files().items()}
    assert any(n.startswith("streamlit") for n in graph["app"])
    assert [m for m, names in graph.items() if stage_of(m) != PAGES
            and any(n == "streamlit" or n.startswith("streamlit.") for n in names)] == []


def test_the_layer_check_finds_an_import_that_runs_back_up():
    assert upward_imports({"core.data.prepare": {"core.runs.record"},
                           "core.runs.record": {"core.data.vocabulary"}}) == \
        ["core.data.prepare -> core.runs.record (data -> runs)"]
    assert upward_imports({"core.outputs.figures": {"views.common"}}) == \
        ["core.outputs.figures -> views.common (outputs -> pages)"]
