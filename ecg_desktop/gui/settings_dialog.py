"""Settings: facility name and page size for reports, parallel files in a batch."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ecg_desktop.core.batch.run import MAX_WORKERS
from ecg_desktop.gui.settings import PAGE_SIZES, AppSettings


class SettingsDialog(QDialog):
    """Edits a copy of AppSettings; ``settings()`` returns the edited copy."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self.facility = QLineEdit(settings.facility, objectName="facility", placeholderText="printed on every report")
        self.page_size = QComboBox(objectName="pageSize")
        self.page_size.addItems(list(PAGE_SIZES))
        self.page_size.setCurrentText(settings.page_size)
        self.workers = QSpinBox(objectName="batchWorkers", minimum=1, maximum=MAX_WORKERS, value=settings.batch_workers)
        self.workers.setToolTip("Scans decoded and classified at the same time in a batch (about one per CPU core).")
        form = QFormLayout()
        form.addRow("Facility name:", self.facility)
        form.addRow("Report page size:", self.page_size)
        form.addRow("Batch: files in parallel:", self.workers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    def settings(self) -> AppSettings:
        return replace(
            self._settings,
            facility=self.facility.text().strip(),
            page_size=self.page_size.currentText(),
            batch_workers=self.workers.value(),
        )
