"""GUI test fixtures: offscreen Qt, isolated QSettings, one model per session, windows closed after use."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import: no display here

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool

sys.path.insert(0, str(Path(__file__).parent))  # gui_helpers, whatever pytest's import mode
from gui_helpers import render_scan, write_scans


@pytest.fixture(scope="session", autouse=True)
def _isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Any default QSettings() a test reaches writes into a temporary folder, never the user's settings."""
    root = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, root)


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test(qtbot) -> Iterator[None]:
    """Every worker thread a test started has finished before the next test (or interpreter exit)."""
    yield
    assert QThreadPool.globalInstance().waitForDone(10_000), "workers still running after the test"


@pytest.fixture(scope="session")
def gui_model():
    """The bundled model, loaded once the way the app loads it."""
    from ecg_desktop.gui.app import load_model, settle_heap

    model, error = load_model()
    if model is None:
        pytest.fail(f"the bundled model does not load: {error}")
    settle_heap()  # as run_gui does once the window is built
    return model


@pytest.fixture
def settings_store(tmp_path: Path):
    """A SettingsStore on a fresh INI file in tmp_path."""
    from ecg_desktop.gui.settings import SettingsStore

    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def make_window(qtbot, settings_store, gui_model) -> Iterator[Callable[..., object]]:
    """Build shown 1280x800 main windows (default: the real model, temporary settings); closed after the test."""
    from ecg_desktop.gui.main_window import MainWindow

    windows = []

    def make(model=gui_model, *, model_error: str | None = None, store=None):
        window = MainWindow(model, model_error=model_error, store=store or settings_store)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    assert QThreadPool.globalInstance().waitForDone(10_000), "workers still running after the test"
    for window in windows:
        window.deleteLater()
    qtbot.wait(10)


@pytest.fixture
def main_window(make_window):
    """A main window with the real model and temporary settings."""
    return make_window()


@pytest.fixture
def scan_file(tmp_path: Path) -> Path:
    """One full-size synthetic scan as PNG."""
    return render_scan(tmp_path / "patient scan.png", kind="st_elevation", seed=3, width=2213)


@pytest.fixture(scope="session")
def scan_folder_30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 synthetic scans, shared by the batch tests (each writes to its own output folder)."""
    folder = tmp_path_factory.mktemp("scans30")
    write_scans(folder, 30)
    return folder
