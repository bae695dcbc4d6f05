"""The empty state shown before a scan is opened: what to do, and a way to try a sample."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ecg_desktop.core.loading.image_io import SUPPORTED


class WelcomePage(QWidget):
    """Big friendly buttons: open a scan, open a bundled sample, process a folder."""

    openRequested = Signal()
    sampleRequested = Signal()
    batchRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, has_samples: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        title = QLabel("ECG Desk", objectName="welcomeTitle")
        text = QLabel(
            f"Open a scanned 12-lead ECG printout ({SUPPORTED}), or drop it here.\n"
            "PDF exports from the ECG cart open page by page. Drop a folder to classify every scan in it.",
            objectName="welcomeText",
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)  # a small screen's narrow viewer wraps it instead of widening the window
        self.text_label = text
        self.open_button = QPushButton("Open Scan…")
        self.sample_button = QPushButton("Open a Sample", objectName="sampleButton", visible=has_samples)
        self.batch_button = QPushButton("Process Folder…", objectName="sampleButton")
        self.open_button.clicked.connect(self.openRequested)
        self.sample_button.clicked.connect(self.sampleRequested)
        self.batch_button.clicked.connect(self.batchRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.open_button, self.sample_button, self.batch_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(title, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addSpacing(6)
        layout.addWidget(text)
        layout.addSpacing(18)
        layout.addLayout(buttons)
        layout.addStretch(3)
