"""PyInstaller entry point of the ECG Desk bundle (the same as ``python -m ecg_desktop``).

With ``ECG_DESK_GUI_SMOKE=1`` (set by tests/test_bundle.py), ``ECG-Desk SCAN`` starts the window on SCAN as a
user's start does, waits until the result is shown, then closes the window as a user would: exit status 0.
A model that does not load, a scan that fails or an exception in the event loop exits 1 at once.
"""

import os
import sys
from pathlib import Path

from ecg_desktop.cli import main

SMOKE_ENV = "ECG_DESK_GUI_SMOKE"


def gui_smoke(scan: Path) -> int:
    """Open ``scan`` in the main window; 0 once its result is shown and the window closed, else 1."""
    from ecg_desktop.gui.app import build_window, ensure_application, show_window

    app = ensure_application()

    def fail(message: str) -> None:
        print(f"GUI smoke test FAILED: {message}", file=sys.stderr, flush=True)
        app.exit(1)

    def on_exception(kind, error, trace) -> None:
        sys.__excepthook__(kind, error, trace)
        fail(f"unhandled {kind.__name__}")

    sys.excepthook = on_exception  # PySide6 prints a slot's exception and carries on: here it is a failure
    window = build_window()
    if window.model_error:
        fail(f"the model was not loaded: {window.model_error}")
        return 1

    def shown(_outcome) -> None:
        print(f"GUI smoke test: {scan.name} shown ({window.result.label if window.result else 'no result'})",
              flush=True)
        window.close()  # the user's way out: the app quits when its last window closes

    window.resultShown.connect(shown)
    window.controller.failed.connect(lambda _generation, error: fail(f"{scan.name}: {type(error).__name__}: {error}"))
    show_window(window, scan)
    return app.exec()


if __name__ == "__main__":
    if os.environ.get(SMOKE_ENV) == "1" and len(sys.argv) == 2:
        sys.exit(gui_smoke(Path(sys.argv[1])))
    sys.exit(main())
