"""Runtime hook of the ECG Desk bundle: runs before the app's first import.

- superqt goes through qtpy, which must pick PySide6 (the only Qt binding in the bundle).
- The headless commands (--self-test, --version, classify, batch, report) import no Qt today; should one
  ever do, the offscreen platform keeps Qt from aborting when there is no display.
"""

import os
import sys

os.environ.setdefault("QT_API", "pyside6")

if (
    sys.platform.startswith("linux")
    and sys.argv[1:2] and sys.argv[1] in {"--self-test", "--version", "-h", "--help", "classify", "batch", "report"}
    and not os.environ.get("DISPLAY")
    and not os.environ.get("WAYLAND_DISPLAY")
):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
