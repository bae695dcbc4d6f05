"""Screenshots of the app as a person sees it: run in a real X display (tools/look_gui.sh starts one), fresh settings.

    tools/look_gui.sh 1024x600 OUT.png window --scan SCAN [--saliency] [--traces]
    tools/look_gui.sh 1024x600 OUT.png batch --folder DIR        (Process Folder running on DIR)
    tools/look_gui.sh 1024x600 OUT.png batch-close --folder DIR  (the question closing it mid-run asks)
    tools/look_gui.sh 1024x600 OUT.png view-menu --scan SCAN     (the View menu's toggles)
    tools/look_gui.sh 1024x600 OUT.png print --scan SCAN         (File ▸ Print's first dialog)

The whole screen is saved (window manager frame included, when one runs), so what is off-screen is seen missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QSettings, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication, QMenu

from ecg_desktop.gui.app import build_window, ensure_application
from ecg_desktop.gui.main_window import MainWindow
from ecg_desktop.gui.settings import SettingsStore

TIMEOUT_MS = 60_000


def wait(signal: SignalInstance | None = None, ms: int = TIMEOUT_MS) -> None:
    """Run the event loop until ``signal`` fires (or ``ms`` pass)."""
    loop = QEventLoop()
    if signal is not None:
        signal.connect(lambda *_: loop.quit())
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(out: Path) -> None:
    """Save the whole screen as ``out``."""
    QApplication.processEvents()
    if not QApplication.primaryScreen().grabWindow(0).save(str(out)):
        raise SystemExit(f"cannot write {out}")


def while_modal(out: Path, action: Callable[[], object], *, after_ms: int = 1500) -> None:
    """Run ``action`` (which opens a modal dialog), shoot the screen while it is up, then close the dialog."""
    def grab_and_close() -> None:
        shoot(out)
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            dialog.close()

    QTimer.singleShot(after_ms, grab_and_close)
    action()


def open_scan(window: MainWindow, scan: Path) -> None:
    window.open_path(scan)
    wait(window.resultShown)


def run(window: MainWindow, args: argparse.Namespace) -> None:
    wait(ms=1500)  # shown, fitted to the screen by the window manager's frame
    if args.scenario in ("window", "view-menu", "print"):
        open_scan(window, args.scan)
    if args.saliency:
        window.acts.saliency.setChecked(True)
        wait(window.saliencyShown)
    if args.traces:
        window.acts.traces.setChecked(True)
        wait(window.signalsShown)
    if args.centre:
        x, y = (float(v) for v in args.centre.split(","))
        window.viewer.actual_size()
        window.viewer.zoom_by(args.zoom, under_mouse=False)
        window.viewer.centerOn(x, y)
    if args.scenario == "view-menu":
        menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&View")
        bar = window.menuBar()
        menu.popup(bar.mapToGlobal(bar.actionGeometry(menu.menuAction()).bottomLeft()))
        wait(ms=800)
    elif args.scenario == "print":
        while_modal(args.out, window.print_dialog)
        return
    elif args.scenario in ("batch", "batch-close"):
        window.open_batch(folder=args.folder)
        dialog = window.batch_dialog
        dialog.pdf_check.setChecked(True)
        dialog.start()
        for _ in range(args.rows):
            if dialog.running:
                wait(dialog.itemShown)
        if args.scenario == "batch-close":
            while_modal(args.out, dialog.close, after_ms=800)  # the question, answered Cancel by closing it
            return
    wait(ms=800)
    shoot(args.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=("window", "batch", "batch-close", "view-menu", "print"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scan", type=Path, help="the scan to open")
    parser.add_argument("--folder", type=Path, help="the folder Process Folder runs on")
    parser.add_argument("--rows", type=int, default=3, help="batch rows to wait for before the screenshot")
    parser.add_argument("--centre", help="x,y: show this scan pixel in the middle of the viewer, at --zoom")
    parser.add_argument("--zoom", type=float, default=1.0, help="with --centre: the zoom (1 = one scan pixel a pixel)")
    parser.add_argument("--saliency", action="store_true", help="View ▸ Show Saliency on")
    parser.add_argument("--traces", action="store_true", help="View ▸ Show Digitized Traces on")
    args = parser.parse_args(argv)
    ensure_application()
    with tempfile.TemporaryDirectory() as tmp:  # a first start: never the user's settings
        window = build_window(store=SettingsStore(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)))
        window.show()
        run(window, args)
        dialog = window.batch_dialog
        if dialog is not None and dialog.running:  # stopped, and its end handled, before the window closes
            dialog.cancel()
            wait(dialog.batchFinished)
        window.close()
    print(f"{args.out}: {args.scenario}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
