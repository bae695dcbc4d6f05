"""Batch ▸ Process Folder: classify a folder in a superqt generator worker, one table row per scan."""

from __future__ import annotations

import html
import threading
from collections import deque
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import GeneratorWorker, create_worker

from ecg_desktop.core.batch.progress import TABLE_ROWS, BatchProgress, table_note
from ecg_desktop.core.batch.run import DEFAULT_WORKERS, BatchPlan, BatchStep
from ecg_desktop.core.batch.scan import BatchItem
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.outcome import format_percent
from ecg_desktop.core.palette import ALARM, CAUTION
from ecg_desktop.core.reports.report_pdf import ReportOptions
from ecg_desktop.gui.batch_job import batch_job
from ecg_desktop.gui.elided_label import ElidedLabel
from ecg_desktop.gui.errors import show_error

OUTPUT_SUBFOLDER = "ECG Desk results"
FIRST_SIZE = (1120, 640)  # shrunk to the screen on a small one (a 1024x600 netbook)
FRAME = (16, 40)  # a window manager's borders and title bar
KEEP_RUNNING, STOP, STAY = "keep running", "stop", "stay"


def ask_close_while_running(parent: QWidget, progress: str, *, quitting: bool = False) -> str:
    """Ask what closing the dialog (or quitting the app, ``quitting``) does to a running batch: KEEP_RUNNING (in the
    background; Batch ▸ Process Folder shows it again), STOP (files done so far stay in results.csv) or STAY."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit ECG Desk" if quitting else "Close Process Folder")
    box.setText("A batch is still running.")
    kept = "Stopping keeps every file done so far in results.csv; Start again later resumes where it stopped."
    box.setInformativeText(f"{progress}\n\n{kept}" if progress else kept)
    keep = None if quitting else box.addButton("Keep Running in Background", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop and Quit" if quitting else "Stop Batch", QMessageBox.ButtonRole.DestructiveRole)
    stay = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep or stay)
    box.exec()
    clicked = box.clickedButton()
    return KEEP_RUNNING if keep is not None and clicked is keep else STOP if clicked is stop else STAY


def _wrapped(lines: list[str]) -> str:
    """A tooltip showing each line in full, wrapped to the tooltip's width (plain text would not wrap)."""
    lines = [line for line in lines if line]
    if not lines:
        return ""
    return "<p style='white-space:pre-wrap'>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


class BatchDialog(QDialog):
    """Choose folders and options, run, watch the table fill; Cancel stops within a second.

    The counts and the time left are the core's (BatchProgress): the dialog shows them as they come.
    """

    itemShown = Signal(object)  # BatchItem, after its row was added
    batchFinished = Signal(bool)  # True if it was cancelled
    batchStarted = Signal(str, bool)  # the output folder the user chose ("" if it follows the scans) and the PDF option

    def __init__(
        self, model: EcgModel, parent: QWidget | None = None, *, options: ReportOptions = ReportOptions(),
        workers: int = DEFAULT_WORKERS, folder: str = "", output: str = "", pdf: bool = False,
    ) -> None:
        """``folder``: the scans folder shown; ``output``: an output folder the user chose before ("": the output
        follows the scans folder); ``pdf``: the PDF option as last used."""
        super().__init__(parent)
        self.model, self.options, self.workers = model, options, workers
        self.items: deque[BatchItem] = deque(maxlen=TABLE_ROWS)  # the files in the table (the latest ones)
        self.plan: BatchPlan | None = None
        self.batch_progress: BatchProgress | None = None  # the core's counts after the last file shown
        self.throughput = 0.0  # scans per second of the last batch
        self._worker: GeneratorWorker | None = None
        self._pool = QThreadPool(self)  # the batch's own thread: it runs niced and never blocks single scans
        self._pool.setMaxThreadCount(1)
        self._stop = threading.Event()
        self._close_when_done = False
        self._fitted = False
        self.setWindowTitle("Process Folder")
        self.resize(*FIRST_SIZE)

        self.progress = QProgressBar(objectName="batchProgress", minimum=0, maximum=1, value=0)
        self.progress.setTextVisible(False)
        # One line each, elided: a long folder path must never widen the dialog past the screen.
        self.progress_label = ElidedLabel("Choose a folder and press Start.", objectName="batchStatus")
        self.table = self._build_table()
        self.table_note = ElidedLabel(objectName="tableNote")
        self.table_note.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_folder_grid(folder, output))
        self.pdf_check.setChecked(pdf)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.table_note)
        layout.addLayout(self._build_buttons())

    def _build_folder_grid(self, folder: str, output: str) -> QGridLayout:
        """The scans and output folders with their Browse buttons, and the PDF and re-run options."""
        self.input_edit = QLineEdit(
            folder, objectName="inputFolder", placeholderText="folder with scans (searched recursively)"
        )
        self.output_edit = QLineEdit(objectName="outputFolder", placeholderText="where results.csv and PDFs go")
        # The output follows the scans folder until the user types or browses an output folder of their own:
        # results of another folder must never be appended to the previous folder's results.csv.
        self.output_explicit = bool(output)
        self.output_edit.setText(output)
        self._follow_input(folder)
        self.input_edit.textEdited.connect(self._follow_input)
        self.output_edit.textEdited.connect(self._on_output_edited)
        browse_in, browse_out = QPushButton("Browse…"), QPushButton("Browse…")
        browse_in.clicked.connect(self._choose_input)
        browse_out.clicked.connect(self._choose_output)
        self.pdf_check = QCheckBox("Write a PDF report per scan and a summary PDF", objectName="pdfOption")
        self.rerun_check = QCheckBox("Re-run files already in results.csv", objectName="rerunOption")
        grid = QGridLayout()
        grid.addWidget(QLabel("Scans:"), 0, 0)
        grid.addWidget(self.input_edit, 0, 1)
        grid.addWidget(browse_in, 0, 2)
        grid.addWidget(QLabel("Output:"), 1, 0)
        grid.addWidget(self.output_edit, 1, 1)
        grid.addWidget(browse_out, 1, 2)
        grid.addWidget(self.pdf_check, 2, 1)
        grid.addWidget(self.rerun_check, 3, 1)
        return grid

    def _build_table(self) -> QTableWidget:
        """One row per file: name, result, a column per class, then reasons, warnings or the error."""
        classes = self.model.manifest.classes
        table = QTableWidget(0, 3 + len(classes), objectName="batchTable")
        table.setHorizontalHeaderLabels(["File", "Result", *(c.name for c in classes), "Reasons / warnings / error"])
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        table.setColumnWidth(0, 190)
        table.setColumnWidth(1, 200)
        metrics = header.fontMetrics()
        for index, info in enumerate(classes, start=2):
            table.setColumnWidth(index, max(70, metrics.horizontalAdvance(info.name) + 24))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(False)
        return table

    def _build_buttons(self) -> QHBoxLayout:
        """Open Output Folder on the left; Start, Cancel and Close on the right."""
        self.start_button = QPushButton("Start", objectName="startButton", default=True)
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton", enabled=False)
        self.open_button = QPushButton("Open Output Folder", enabled=False)
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self._open_output)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        return buttons

    @property
    def running(self) -> bool:
        return self._worker is not None

    # -- actions -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the batch with the folders and options shown."""
        if self.running:
            return
        folder, out_text = self.input_edit.text().strip(), self.output_edit.text().strip()
        if not folder or not Path(folder).is_dir():
            show_error(self, f"Choose a folder of scans to process ({folder or 'none chosen'} is not a folder).")
            return
        out_dir = Path(out_text) if out_text else Path(folder) / OUTPUT_SUBFOLDER
        self.output_edit.setText(str(out_dir))
        self.items, self.plan, self.batch_progress = deque(maxlen=TABLE_ROWS), None, None
        self.table.setRowCount(0)
        self.table_note.hide()
        self.progress.setRange(0, 0)  # busy until the plan is known
        self.progress_label.setText("Looking for scans…")
        self._stop = threading.Event()
        worker = create_worker(
            batch_job, self.model, Path(folder), out_dir, rerun=self.rerun_check.isChecked(),
            pdf=self.pdf_check.isChecked(), options=self.options, workers=self.workers, stop=self._stop,
            _start_thread=False, _ignore_errors=True,
        )
        self.batchStarted.emit(str(out_dir) if self.output_explicit else "", self.pdf_check.isChecked())
        worker.yielded.connect(self._on_yielded)
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._set_running(True)
        self._pool.start(worker)

    def cancel(self) -> None:
        """Ask the batch to stop: the file being finished is still recorded, nothing new starts."""
        if self.running:
            self._stop.set()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(f"Stopping…  {self.progress_label.text()}")

    def wait(self, msecs: int = -1) -> bool:
        """Block until the batch thread is idle (after cancel, when the app closes); False on timeout."""
        return self._pool.waitForDone(msecs)

    def reject(self) -> None:
        """Close, Esc or the window's close button. A running batch asks first: it keeps running in the background
        (the dialog hides; Batch ▸ Process Folder shows it again), or it stops and the dialog closes once it has."""
        if not self.running:
            super().reject()
            return
        if self._close_when_done:  # already stopping
            return
        answer = ask_close_while_running(self, self.progress_label.text())
        if answer == KEEP_RUNNING:
            self.hide()
        elif answer == STOP:
            self._close_when_done = True
            self.cancel()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Shrink the dialog (title bar and borders included) to the screen's available area, and move it onto it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        width = max(min(self.width(), available.width() - FRAME[0]), self.minimumSizeHint().width())
        height = max(min(self.height(), available.height() - FRAME[1]), self.minimumSizeHint().height())
        self.resize(width, height)
        x = min(max(self.frameGeometry().x(), available.x()), available.right() + 1 - width - FRAME[0])
        y = min(max(self.frameGeometry().y(), available.y()), available.bottom() + 1 - height - FRAME[1])
        self.move(x, y)

    # -- worker signals ----------------------------------------------------------------------
    def _on_yielded(self, value: BatchPlan | BatchStep) -> None:
        if isinstance(value, BatchPlan):
            self.plan = value
            self._show_progress(value.progress_at_start())
            return
        self.items.append(value.item)
        self._add_row(value.item)
        self._show_progress(value.progress)
        self.table_note.setText(table_note(self.table.rowCount(), value.progress.done))
        self.table_note.setVisible(bool(self.table_note.text()))
        self.itemShown.emit(value.item)

    def _on_errored(self, error: Exception) -> None:
        show_error(self, error, title="The batch stopped")

    def _on_finished(self) -> None:
        cancelled = self._stop.is_set()
        self._worker = None
        self._set_running(False)
        progress = self.batch_progress or BatchProgress(total=0)  # none when the batch stopped before its plan
        self._show_progress(progress)
        self.throughput = progress.scans_per_second
        results = Path(self.output_edit.text()) / "results.csv"
        self.progress_label.setText(f"{progress.summary(cancelled=cancelled)}  Results: {results}")
        self.batchFinished.emit(cancelled)
        if self._close_when_done:
            self._close_when_done = False
            self.reject()

    # -- helpers -----------------------------------------------------------------------------
    def _show_progress(self, progress: BatchProgress) -> None:
        """The bar and the status line for the core's ``progress``."""
        self.batch_progress = progress
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        text = progress.status()
        self.progress_label.setText(f"Stopping…  {text}" if self._stop.is_set() else text)

    def _add_row(self, item: BatchItem) -> None:
        """The file's row at the bottom; the oldest row goes when the table holds TABLE_ROWS."""
        if self.table.rowCount() >= TABLE_ROWS:
            self.table.removeRow(0)
        row = self.table.rowCount()
        self.table.insertRow(row)
        manifest = self.model.manifest
        result = item.result
        name = self.plan.shown_name(item.path) if self.plan is not None else item.path.name  # "ward 3/scan.jpg"
        cells = [name, "Failed" if item.failed else result.headline(manifest)]
        if result is not None and result.low_confidence:
            cells[1] += " (low confidence)"
        probabilities = result.diagnostic_probabilities if result else None
        cells += [format_percent(probabilities[c.id]) if probabilities else "" for c in manifest.classes]
        notes = [*(result.notes if result else ()), *([item.error] if item.error else [])]
        cells.append(" | ".join(notes))
        # The cells are one line and cut short; the tooltips hold the full text, wrapped (rich text wraps).
        tips = {0: str(item.path), 1: _wrapped([cells[1], *notes]), len(cells) - 1: _wrapped(notes)}
        for column, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            if 2 <= column < 2 + len(manifest.classes):
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cell.setToolTip(tips.get(column, text))
            if item.error:
                cell.setForeground(QColor(ALARM))
            elif result is not None and not result.assessable:
                cell.setForeground(QColor(CAUTION))
            self.table.setItem(row, column, cell)
        self.table.scrollToBottom()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and bool(self.output_edit.text()))
        for widget in (self.input_edit, self.output_edit, self.pdf_check, self.rerun_check):
            widget.setEnabled(not running)

    def _choose_input(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with scans", self.input_edit.text())
        if folder:
            self.input_edit.setText(folder)
            self._follow_input(folder)

    def _choose_output(self) -> None:
        start = self.output_edit.text() or self.input_edit.text()
        folder = QFileDialog.getExistingDirectory(self, "Output folder", start)
        if folder:
            self.output_edit.setText(folder)
            self.output_explicit = True

    def _on_output_edited(self, text: str) -> None:
        """The user typed in the output field: it is theirs now (cleared, it follows the scans folder again)."""
        self.output_explicit = bool(text.strip())

    def _follow_input(self, folder: str) -> None:
        """Unless the user chose an output folder, results go into OUTPUT_SUBFOLDER of the scans folder."""
        if not self.output_explicit:
            folder = folder.strip()
            self.output_edit.setText(str(Path(folder) / OUTPUT_SUBFOLDER) if folder else "")

    def _open_output(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.output_edit.text()))
