"""The one error path of the GUI: every failure becomes a user-ready sentence in a non-blocking dialog."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ecg_desktop.core.errors import EcgDeskError

log = logging.getLogger("ecg_desktop.gui")


def user_message(error: BaseException | str) -> str:
    """The sentence to show for ``error``: core errors speak for themselves, anything else is summarised."""
    if isinstance(error, str):
        return error
    if isinstance(error, EcgDeskError):
        return str(error)
    if isinstance(error, MemoryError):
        return "There is not enough memory to finish this operation; close other programs and try again."
    # The log gets the type and where it happened, never the message: it may hold a file's (patient's) name.
    log.error("unexpected %s\n%s", type(error).__name__, "".join(traceback.format_tb(error.__traceback__)).rstrip())
    return f"An unexpected error occurred ({type(error).__name__}: {error}). Details were written to the log."


def show_error(parent: QWidget | None, error: BaseException | str, *, title: str = "ECG Desk") -> QMessageBox:
    """Show ``error`` in a window-modal message box that does not block the caller; returns the box."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, user_message(error), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box
