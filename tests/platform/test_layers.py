"""Imports run one way: handlers -> domains -> kernel -> foundation. A new cycle, an upward
import or a handler importing another handler fails here, before it becomes a tangle."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What every layer may stand on: errors, audit, the clock, people's accounts, the union tree and
# its scope, the catalogue, prepared queries, and the server's settings, crypto, password hashing, shared-state
# limits and database connections.
FOUNDATION = {
    "models.errors",
    "models.audit",
    "models.accounts",
    "models.orgs",
    "models.scope",
    "models.scoping",
    "models.catalogue",
    "models.idempotency",
    "models.prepared",
    "server.clock",
    "server.crypto",
    "server.settings",
    "server.auth.passwords",
    "server.auth.rate_limits",
    "server.shared_state",
    "server.pg_backend",
    "server.postgres_backend",
}
# The server's composition root: it builds the app and the processes and may import anything.
COMPOSITION = {"server.app", "server.__main__", "server.dispatcher", "server.jobs", "server.demo", "server.db"}


def _layer(module: str) -> int:
    if module in FOUNDATION:
        return 0
    if module.startswith("models.kernel"):
        return 1
    if module.startswith("models."):
        return 2
    if module in COMPOSITION:
        return 4
    return 3  # handlers, and the HTTP infrastructure they use (server.http, server.auth, ...)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in ("models", "handlers", "server"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules a file imports, at any depth in the file (function-level imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_the_kernel_imports_no_domain() -> None:
    graph = _graph()
    kernel = {name for name in graph if name.startswith("models.kernel")}
    assert kernel, "the kernel package is missing"
    assert [f"{m} -> {t}" for m in kernel for t in graph[m] if _layer(t) > 1] == []


def test_no_handler_imports_another_handler() -> None:
    """A handler module is one with routes (`bp`); shapes and page helpers are shared freely."""
    graph = _graph()
    handlers = {
        name for name, path in _modules().items() if name.startswith("handlers.") and "bp = " in path.read_text()
    }
    crossing = [
        f"{module} -> {target}"
        for module in graph
        if module.startswith("handlers.") and module != "handlers"
        for target in graph[module]
        if target in handlers
    ]
    assert crossing == []


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    cycles = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_can_fail() -> None:
    """The layer rule itself, on made-up names: a kernel module importing a domain is upward."""
    assert _layer("models.kernel.machine") < _layer("models.enrolment.actions") < _layer("handlers.enrolment.worker")
    assert _layer("models.notifications") == _layer("models.enrolment.actions") > _layer("models.errors") == 0
