"""The layering rules: the core never imports Qt, the app never imports training code or network modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ecg_desktop"
FORBIDDEN_EVERYWHERE = {"torch", "training", "socket", "requests", "urllib", "http"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_qt() -> None:
    for path in (PACKAGE / "core").rglob("*.py"):
        qt = {n for n in _imports(path) if n.lower().startswith(("pyside", "pyqt", "qtpy", "superqt"))}
        assert not qt, f"{path} imports {qt}"


def test_app_imports_no_training_torch_or_network() -> None:
    for path in PACKAGE.rglob("*.py"):
        bad = _imports(path) & FORBIDDEN_EVERYWHERE
        assert not bad, f"{path} imports {bad}"


def test_app_never_imports_the_test_renderer() -> None:
    app = [*(PACKAGE / "core").rglob("*.py"), *(PACKAGE / "gui").rglob("*.py"), PACKAGE / "cli.py"]
    for path in app:
        text = path.read_text(encoding="utf-8")
        assert "ecg_desktop.testing" not in text and "from ..testing" not in text, f"{path} imports the test renderer"
