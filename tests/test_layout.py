"""The package has no import cycle (a module never imports, even lazily, one that imports it
back), and every module and folder README.md's "How it works" names exists."""

from __future__ import annotations

import ast
import re

from .conftest import ROOT

PACKAGE = ROOT / "symbp"


def _modules() -> dict[str, object]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path, modules) -> set[str]:
    """The symbp modules `name` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        submodules = {f"{target}.{a.name}" for a in node.names} & set(modules)
        found |= submodules
        if len(submodules) < len(node.names) and target in modules:
            found.add(target)
    return found - {name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                return [*stack[stack.index(w) :], w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = "done"
        stack.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    graph = {k: {w for w in v if w != "symbp"} for k, v in graph.items() if k != "symbp"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_readmes_layout_names_what_exists():
    text = (ROOT / "README.md").read_text()
    section = text.split("## How it works", 1)[1].split("\n## ", 1)[0]
    for folder in re.findall(r"^\| `(\w+)/` \|", section, flags=re.M):
        assert (PACKAGE / folder).is_dir() or (ROOT / folder).is_dir(), folder
    for path in re.findall(r"`((?:\w+/)+\w+\.(?:py|j2))`", section):
        candidates = [PACKAGE / path, ROOT / path]
        assert "<" in path or any(c.exists() for c in candidates), path


def test_each_folder_row_names_modules_of_that_folder():
    text = (ROOT / "README.md").read_text()
    section = text.split("## How it works", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)/` \|(.*)$", section, flags=re.M)
    assert len(rows) >= 8
    for folder, row in rows:
        for module in re.findall(r"`(\w+\.py)`", row):
            assert list((PACKAGE / folder).rglob(module)), f"{folder}/{module}"
