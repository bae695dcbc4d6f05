"""PyInstaller entry point of the ECG Desk bundle (the same as ``python -m ecg_desktop``)."""

import sys

from ecg_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
