"""The small dialog that asks for the (optional) patient details printed on a PDF report."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ecg_desktop.core.reports.report_pdf import PatientInfo


class PatientDialog(QDialog):
    """Patient ID, name, date of birth and acquisition date; every field may stay empty."""

    def __init__(self, parent: QWidget | None = None, *, source_name: str = "", printing: bool = False) -> None:
        """``printing``: asked after the print dialog, so the dialog says Print Report and its button Print."""
        super().__init__(parent)
        self.setWindowTitle("Print Report" if printing else "Save Report")
        self.patient_id = QLineEdit(objectName="patientId")
        self.name = QLineEdit(objectName="patientName")
        self.date_of_birth = QLineEdit(objectName="dateOfBirth", placeholderText="e.g. 1961-04-23")
        self.acquisition_date = QLineEdit(objectName="acquisitionDate", placeholderText="date the ECG was recorded")
        intro = QLabel(
            f"Details to print on the report for <b>{source_name}</b>. All fields are optional; "
            "ECG Desk never reads them from the scan."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Patient ID:", self.patient_id)
        form.addRow("Name:", self.name)
        form.addRow("Date of birth:", self.date_of_birth)
        form.addRow("Acquisition date:", self.acquisition_date)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Print" if printing else "Save", QDialogButtonBox.ButtonRole.AcceptRole).setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def patient(self) -> PatientInfo:
        return PatientInfo(
            patient_id=self.patient_id.text().strip(),
            name=self.name.text().strip(),
            date_of_birth=self.date_of_birth.text().strip(),
        )
