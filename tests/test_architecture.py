"""The layers' import rules (docs/architecture.md), read from every module's source."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "canvass"

LIBRARY = (
    "domain",
    "ingest",
    "tabulate",
    "reconcile",
    "audit",
    "log",
    "certify",
    "errors",
    "keys",
    "guard",
    "parallel",
)
SHELLS = ("canvass.cli", "canvass.web", "canvass.demo", "canvass.signing")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{
        layer: (
            "canvass.store",
            "canvass.app",
            "canvass.publish",
            "canvass.verify",
            *SHELLS,
            "sqlalchemy",
            "alembic",
        )
        for layer in LIBRARY
    },
    "store": ("canvass.app", "canvass.publish", "canvass.verify", *SHELLS),
    "app": ("canvass.verify", *SHELLS),
    "publish": ("canvass.store", "canvass.app", "canvass.verify", *SHELLS),
    "verify": (
        "canvass.store",
        "canvass.app",
        *SHELLS,
        "sqlalchemy",
        "alembic",
    ),
    "signing": ("canvass.store", "canvass.cli", "canvass.web", "canvass.demo", "sqlalchemy"),
    "cli": ("canvass.store", "alembic", "sqlalchemy"),
    "web": ("canvass.store", "canvass.cli", "canvass.demo", "alembic", "sqlalchemy"),
    "demo": ("canvass.web",),
}
ALLOWED = {
    # The command line turns the database's own errors into one line.
    ("cli", "sqlalchemy.exc"),
}
ALLOWED_MODULES: set[tuple[str, str]] = set()
"""Modules allowed an import their layer is not (none: the bundle is rendered as a pure
function of the log and its artifacts, and the application layer records and writes it)."""


def layer_of(module: str) -> str:
    parts = module.split(".")
    return "cli" if parts[1] == "__main__" else parts[1]


def imported(source: str) -> list[str]:
    """Every module a source imports, wherever in it (functions and type checks too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "canvass":  # from canvass import keys: the module keys
                found += [f"canvass.{alias.name}" for alias in node.names]
            else:
                found.append(node.module)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, source: str) -> list[str]:
    layer = layer_of(module)
    found = []
    for name in imported(source):
        if any(lay == layer and _within(name, a) for lay, a in ALLOWED) or any(
            m == module and _within(name, a) for m, a in ALLOWED_MODULES
        ):
            continue
        found += [
            f"{module} imports {name} ({layer} never imports {banned})"
            for banned in FORBIDDEN.get(layer, ())
            if _within(name, banned)
        ]
        if layer not in ("cli", "demo") and _within(name, "canvass.demo"):
            found.append(f"{module} imports {name} (only the demo command imports the demo)")
    return sorted(set(found))


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(ROOT).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        if len(parts) > 1:  # the package's own __init__ holds nothing
            found.append((".".join(parts), path))
    return found


def test_every_module_keeps_its_layer_s_import_rules() -> None:
    found = [v for module, path in modules() for v in violations(module, path.read_text())]
    assert found == []


def test_every_module_is_in_a_layer_with_rules() -> None:
    layers = {layer_of(module) for module, _ in modules()}
    assert layers - set(FORBIDDEN) == set()


def test_the_rules_catch_what_they_forbid() -> None:
    assert violations("canvass.tabulate.x", "from sqlalchemy import select\n") == [
        "canvass.tabulate.x imports sqlalchemy (tabulate never imports sqlalchemy)"
    ]
    assert violations("canvass.store.x", "def f():\n    from canvass.app import boards\n") == [
        "canvass.store.x imports canvass.app (store never imports canvass.app)"
    ]
    assert violations("canvass.log.x", "from canvass import app\n") == [
        "canvass.log.x imports canvass.app (log never imports canvass.app)"
    ]
    assert violations("canvass.verify.x", "import canvass.store.election\n") == [
        "canvass.verify.x imports canvass.store.election (verify never imports canvass.store)"
    ]
    assert violations("canvass.cli.x", "from canvass.store.log import LogReader\n") == [
        "canvass.cli.x imports canvass.store.log (cli never imports canvass.store)"
    ]
    assert violations("canvass.app.x", "from canvass.demo.build import build_demo\n") == [
        "canvass.app.x imports canvass.demo.build (app never imports canvass.demo)",
        "canvass.app.x imports canvass.demo.build (only the demo command imports the demo)",
    ]
    assert violations("canvass.cli.common", "from sqlalchemy.exc import OperationalError\n") == []
    assert violations("canvass.publish.bundle", "from canvass.app.results import results\n") == [
        "canvass.publish.bundle imports canvass.app.results (publish never imports canvass.app)"
    ]
    assert violations("canvass.publish.err", "from canvass.app import results\n") == [
        "canvass.publish.err imports canvass.app (publish never imports canvass.app)"
    ]
