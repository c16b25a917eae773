"""The architecture as a rule: imports point one way, and only the shell and the renderers touch the terminal.

cli -> library -> audit, capacity -> render -> engine -> exports -> matrix -> leaves (errors, files, sanitize). A module may
import its own package and any package below it; audit and capacity stand side by side and import neither each
other. Imports inside functions count as well as those at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "triage"
RANK = {"leaf": 0, "matrix": 1, "exports": 2, "engine": 3, "render": 4, "audit": 5, "capacity": 5, "library": 6,
        "cli": 7, "__main__": 8}
TERMINAL = {"typer", "rich", "questionary", "prompt_toolkit", "click"}
MAY_USE_TERMINAL = {"cli", "render"}


def package(module: str) -> str:
    """The layer of a dotted module name under `triage`."""
    if module == "triage":  # the package's face: the library API, loaded on first use
        return "library"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else "leaf"


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        dotted = ".".join(("triage", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        found.append((dotted, path))
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            base = node.module or ""
            found += [(node.lineno, f"{base}.{alias.name}" if base == "triage" else base) for alias in node.names]
    return found


def test_every_package_is_ranked():
    assert {package(m) for m, _ in modules()} <= set(RANK)


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_imports_point_down_the_layers(module: str, path: Path) -> None:
    own = package(module)
    for line, imported in imports(path):
        top = imported.split(".")[0]
        if top == "triage" and imported != "triage":
            other = package(imported)
            assert other == own or RANK[other] < RANK[own], f"{path.name}:{line}: {own} imports {imported}"
        if top in TERMINAL:
            assert own in MAY_USE_TERMINAL, f"{path.name}:{line}: {own} imports {imported}"


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The check above is live: an engine module importing the shell, or typer, is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from triage.cli.app import app\n    import rich\n")
    found = imports(bad)
    assert [(line, name) for line, name in found] == [(2, "triage.cli.app"), (3, "rich")]
    assert RANK[package("triage.cli.app")] > RANK[package("triage.engine.decide")]
