"""Save docs/screenshot.png: the main window (asked for 1280x800, fitted to the offscreen screen) showing a classified bundled sample.

    .venv/bin/python tools/screenshot.py [--sample sample_normal.png] [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from ecg_desktop.core import resources
from ecg_desktop.gui.app import build_window, ensure_application
from ecg_desktop.gui.settings import SettingsStore

SIZE = (1280, 800)
TIMEOUT_MS = 30_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", default="sample_normal.png", help="file name in resources/samples")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    samples = {p.name: p for p in resources.sample_scans()}
    if not samples:
        print("no bundled samples in resources/samples (run `make samples`)", file=sys.stderr)
        return 1
    sample = samples.get(args.sample) or next(iter(samples.values()))

    app = ensure_application()
    with tempfile.TemporaryDirectory() as tmp:  # never read or change the user's settings
        window = build_window(store=SettingsStore(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)))
        window.resize(*SIZE)
        window.show()
        loop = QEventLoop()
        outcome = []
        window.resultShown.connect(lambda o: (outcome.append(o), loop.quit()))
        window.controller.failed.connect(lambda _g, error: (print(f"failed: {error}", file=sys.stderr), loop.quit()))
        QTimer.singleShot(TIMEOUT_MS, loop.quit)
        window.open_path(sample)
        loop.exec()
        if not outcome or (window.model is not None and outcome[0].result is None):
            print("the sample was not classified in time", file=sys.stderr)
            return 1
        for _ in range(5):  # let layouts settle and paint
            app.processEvents()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shot = window.grab()  # the window as placed: asked for SIZE, fitted to the screen
        if not shot.save(str(args.out)):
            print(f"cannot write {args.out}", file=sys.stderr)
            return 1
        window.close()
    print(f"{args.out} ({shot.width()}x{shot.height()}): {sample.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
