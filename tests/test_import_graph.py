"""The import graph points one way (docs/architecture.md): read from the sources, every import
counted, at module level or inside a function, under TYPE_CHECKING or not."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Lower layers first; a module may import its own package and the packages of lower layers only.
LAYERS = {"townconfig": 0, "storage": 1, "handlers": 2, "outbox": 3, "scheduler": 3, "bot": 4}
#: Platform libraries, each allowed only in its adapter's modules.
PLATFORM_LIBRARIES = {
    "telegram": "bot.telegram",
    "wechaty": "bot.wechat",
    "wechaty_puppet": "bot.wechat",
    "wechaty_puppet_service": "bot.wechat",
    "wechaty_grpc": "bot.wechat",
    "grpclib": "bot.wechat",
}
ADAPTERS = ("bot.telegram", "bot.wechat")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in LAYERS
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = modules()[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@cache
def imports(module: str) -> frozenset[str]:
    """Every module (ours or a library's top-level name) that `module` imports."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules() else target)
    return frozenset(found)


def _ours(name: str) -> str | None:
    """The module of ours that an import names (a package's __init__ for the package)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def our_graph() -> dict[str, set[str]]:
    return {m: {o for i in imports(m) if (o := _ours(i)) and o != m} for m in modules()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for nxt in sorted(graph[module]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_graph_is_read() -> None:
    """The checks below mean something only if the reader finds the imports we know are there."""
    assert "bot.telegram_adapter" in modules() and "handlers.parsing.parser" in modules()
    assert "telegram" in imports("bot.telegram_adapter")
    assert "handlers.transport" in imports("bot.telegram_adapter")
    assert "handlers.texts" in imports("handlers.chat_events")  # `from . import texts`


def test_a_cycle_is_found_where_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_module_imports_another_that_imports_it_back() -> None:
    cycle = _cycle(our_graph())
    assert cycle is None, " → ".join(cycle or [])


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_point_down_the_layers(module: str) -> None:
    package = module.split(".")[0]
    wrong = sorted(
        name
        for name in imports(module)
        if (ours := _ours(name)) and (other := ours.split(".")[0]) != package and LAYERS[other] >= LAYERS[package]
    )
    assert wrong == [], f"{module} ({package}, layer {LAYERS[package]}) imports {wrong}"


@pytest.mark.parametrize("module", sorted(modules()))
def test_platform_libraries_stay_in_their_adapters(module: str) -> None:
    wrong = sorted(
        name
        for name in imports(module)
        if (home := PLATFORM_LIBRARIES.get(name.split(".")[0])) is not None and not module.startswith(home)
    )
    assert wrong == [], f"{module} imports {wrong}, which only its adapter may"


def _loaded_with(module: str) -> set[str]:
    """Every module of ours that importing `module` loads: what it imports, and theirs, and the
    packages (their __init__) on the way, as Python does."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts)) if ".".join(parts[:n]) in modules()]
        todo += [o for i in imports(current) if (o := _ours(i))]
    return seen


def _libraries_loaded_with(module: str) -> set[str]:
    return {name.split(".")[0] for m in _loaded_with(module) for name in imports(m) if _ours(name) is None}


@pytest.mark.parametrize("module", sorted(m for m in modules() if m.startswith(ADAPTERS)))
def test_adapters_touch_no_database(module: str) -> None:
    """Not even through what they import: an adapter is transport only."""
    ours = sorted(m for m in _loaded_with(module) if m.split(".")[0] in ("storage", "outbox"))
    assert ours == [], f"{module} loads {ours}"
    assert "sqlalchemy" not in _libraries_loaded_with(module)


def test_the_closure_is_read() -> None:
    assert "storage.models" in _loaded_with("handlers.dispatcher")
    assert "sqlalchemy" in _libraries_loaded_with("handlers.dispatcher")
