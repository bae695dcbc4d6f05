"""The PySide6 desktop GUI of ECG Desk on top of the Qt-free core; ``run_gui`` starts it."""

from ecg_desktop.gui.app import run_gui

__all__ = ["run_gui"]
