"""Start the GUI: create the QApplication, load the model (the window opens even if that fails), run."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ecg_desktop import __version__
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.errors import ModelError
from ecg_desktop.core.logs import setup_logging
from ecg_desktop.gui.errors import show_error
from ecg_desktop.gui.main_window import MainWindow
from ecg_desktop.gui.settings import APPLICATION, ORGANISATION, SettingsStore
from ecg_desktop.gui.theme import apply_theme

log = logging.getLogger("ecg_desktop.gui")

MODEL_THREADS = 1  # one onnxruntime thread per call: batch workers run in parallel and the GUI stays responsive


def load_model() -> tuple[EcgModel | None, str | None]:
    """The verified bundled model, or None and the reason it cannot be used."""
    try:
        model = EcgModel.load(threads=MODEL_THREADS)
    except ModelError as exc:
        log.error("model not loaded: %s", exc)
        return None, str(exc)
    log.info("model loaded: version %s", model.version)
    return model, None


def build_window(*, store: SettingsStore | None = None) -> MainWindow:
    """The main window with the model loaded (or the reason it is missing); needs a QApplication."""
    model, error = load_model()
    return MainWindow(model, model_error=error, store=store)


def settle_heap() -> None:
    """Put the objects made at start-up (Qt wrappers, model, libraries) out of the cyclic GC's reach.

    A full collection over them takes ~80 ms with the GIL held; a worker thread allocating (e.g. reportlab
    writing batch PDFs) triggers one at any moment, and the GUI thread freezes for that long. Frozen, the
    collector only scans what was made since.
    """
    gc.collect()
    gc.freeze()


def ensure_application() -> QApplication:
    """The running QApplication (created if needed) with the app's names and look."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    apply_theme(app)
    return app


def run_gui(path: Path | None = None) -> int:
    """Show the main window (opening ``path`` if given) and run the event loop; returns its exit code."""
    app = ensure_application()
    setup_logging()  # the core's log folder, the same as the command line's; events only, never file paths
    log.info("ECG Desk %s started", __version__)
    window = build_window()
    settle_heap()
    show_window(window, path)
    return app.exec()


def show_window(window: MainWindow, path: Path | None = None) -> None:
    """Show ``window``, explain a model failure in a dialog once it is up, then open ``path`` if given."""
    window.show()
    if window.model_error:
        error = window.model_error
        QTimer.singleShot(0, window, lambda: show_error(window, error, title="The model could not be loaded"))
    if path is not None:
        window.open_path(path)
