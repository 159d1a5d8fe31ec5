"""The layers of docs/ARCHITECTURE.md, enforced: an import only ever points down.

Read from the source (AST), not the running code. A module-level import counts; one under
`if TYPE_CHECKING:` does not. Three rules:
- no import points up a layer (the sandbox is beside the product: only its command imports it);
- no import cycle between modules, counting `from package import name` as an import of the
  package's __init__ when `name` is not a module of its own;
- no function-level import outside an AppConfig.ready() (those connect receivers once the
  apps are loaded; any other deferred import hides a cycle or a cost).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.packages import PACKAGES

ROOT = Path(__file__).resolve().parents[2]
# Bottom up. A module belongs to the layer named by its top-level package: the tree is the
# picture (docs/ARCHITECTURE.md).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("core",)),
    ("wechat", ("wechat",)),
    ("component", ("component",)),
    ("accounts", ("authorizers",)),
    ("merchant api", ("merchant_api",)),
    ("apis", ("tags", "token_center")),
    ("webhooks", ("webhooks",)),
    ("project", ("platform_app",)),
)
# Beside the product: only its own command imports the stand-in's server, which imports no
# Django (it runs as the command's thread, or alone in the tests).
SANDBOX = "sandbox"
SANDBOX_USERS = ("sandbox.management.commands.wechat_sandbox",)
SANDBOX_DJANGO_SIDE = ("sandbox.apps", "sandbox.management")


def layer_of(module: str) -> int | None:
    best, level = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    return level


@dataclass
class Graph:
    modules: dict[str, Path]
    edges: dict[str, set[str]] = field(default_factory=dict)
    deferred: list[tuple[str, str, int]] = field(default_factory=list)  # outside ready()


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(module: str, is_package: bool, node: ast.stmt, modules: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    found = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        found.append(sub if sub in modules else base)  # a module, or a name of the package
    return found


def _known(name: str, modules: dict) -> str:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def build_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> Graph:
    modules = {
        _module_name(path, root): path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph = Graph(modules)
    for module, path in modules.items():
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, function: str | None, module=module, is_package=is_package):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    visit(child, child.name)
                elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                elif isinstance(child, ast.Import | ast.ImportFrom):
                    for target in _targets(module, is_package, child, modules):
                        target = _known(target, modules)
                        if not target or target == module:
                            continue
                        if function is None:
                            graph.edges.setdefault(module, set()).add(target)
                        elif function != "ready":
                            graph.deferred.append((module, target, child.lineno))
                else:
                    visit(child, function)

        visit(ast.parse(path.read_text()), None)
    return graph


def upward_imports(graph: Graph) -> list[str]:
    found = []
    for module, targets in graph.edges.items():
        for target in targets:
            if target.startswith(SANDBOX) and not module.startswith(SANDBOX):
                if module not in SANDBOX_USERS:
                    found.append(f"{module} -> {target} (nothing in the product imports it)")
                continue
            if module.startswith(SANDBOX):
                continue
            mine, theirs = layer_of(module), layer_of(target)
            if mine is None or theirs is None:
                found.append(f"{module} -> {target}: not in a declared layer")
            elif theirs > mine:
                found.append(f"{module} ({LAYERS[mine][0]}) -> {target} ({LAYERS[theirs][0]})")
    return sorted(found)


def cycles(graph: Graph) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.edges.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph.modules:
        if node not in index:
            connect(node)
    return found


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph()


def test_no_import_points_up_a_layer(graph: Graph) -> None:
    assert upward_imports(graph) == []


def test_the_sandbox_server_imports_no_django() -> None:
    found = []
    for path in (ROOT / SANDBOX).rglob("*.py"):
        module = _module_name(path, ROOT)
        if module.startswith(SANDBOX_DJANGO_SIDE):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                found += [
                    f"{module} imports {n}"
                    for n in names
                    if n.split(".")[0] in ("django", "rest_framework")
                ]
    assert found == []


def test_no_import_cycles(graph: Graph) -> None:
    assert cycles(graph) == []


def test_no_function_level_imports_outside_app_ready(graph: Graph) -> None:
    assert [f"{m}:{line} imports {t}" for m, t, line in graph.deferred] == []


# --- the audit itself sees what it must --------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Graph:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return build_graph(tmp_path, ("authorizers", "tags", "platform_app", "sandbox"))


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "authorizers/__init__.py": "",
            "authorizers/services.py": "from tags.services import lookup\n",
            "tags/__init__.py": "",
            "tags/services.py": "from authorizers.services import x\n",
        },
    )
    assert upward_imports(graph) == ["authorizers.services (accounts) -> tags.services (apis)"]
    assert cycles(graph) == [["authorizers.services", "tags.services"]]


def test_a_cycle_through_a_package_init_and_a_deferred_import_are_caught(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "platform_app/__init__.py": "",
            "sandbox/__init__.py": "from .server import World\n",
            "sandbox/server.py": "from . import World\n",
            "platform_app/ops/__init__.py": "",
            "platform_app/ops/views.py": "def f():\n    from sandbox import server\n",
        },
    )
    assert cycles(graph) == [["sandbox", "sandbox.server"]]
    assert graph.deferred == [("platform_app.ops.views", "sandbox.server", 2)]


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "authorizers/__init__.py": "",
            "authorizers/a.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from tags.b import B\n",
            "tags/__init__.py": "",
            "tags/b.py": "",
        },
    )
    assert upward_imports(graph) == []
