"""The main window: the scan viewer with its crop box and overlays, the result panel, menus, recent files and
dialogs."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QShowEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)
from superqt.utils import create_worker

from ecg_desktop.core import resources
from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.classify.result_text import region_name, status_line
from ecg_desktop.core.classify.saliency import Saliency, saliency_line, saliency_of
from ecg_desktop.core.loading import pdf_pages
from ecg_desktop.core.loading.image_io import SCAN_SUFFIXES
from ecg_desktop.core.logs import file_id
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.reading import PageReading
from ecg_desktop.core.reports.report_pdf import PatientInfo, ReportOptions, write_report
from ecg_desktop.core.signals.measurement_text import not_digitized
from ecg_desktop.core.signals.signal_reading import EXPORT_FILTERS, SignalReading, export_signals, read_signals
from ecg_desktop.core.signals.trace_overlay import trace_lines
from ecg_desktop.gui.about_dialog import AboutDialog
from ecg_desktop.gui.actions import build_actions
from ecg_desktop.gui.elided_label import StatusBar
from ecg_desktop.gui.errors import show_error, user_message
from ecg_desktop.gui.inference import InferenceController, OpenedScan, Outcome
from ecg_desktop.gui.printing import make_printer, print_pdf
from ecg_desktop.gui.report_dialog import PatientDialog
from ecg_desktop.gui.result_panel import ResultPanel
from ecg_desktop.gui.saliency_worker import SaliencyController, SaliencyOutcome
from ecg_desktop.gui.settings import AppSettings, SettingsStore
from ecg_desktop.gui.settings_dialog import SettingsDialog
from ecg_desktop.gui.signals_worker import SignalsController, SignalsOutcome
from ecg_desktop.gui.theme import STYLE_SHEET
from ecg_desktop.gui.viewer import ImageViewer
from ecg_desktop.gui.welcome import WelcomePage

IMAGE_FILTER = "ECG scans (" + " ".join(f"*{s}" for s in sorted(SCAN_SUFFIXES)) + ");;All files (*)"
STATUS_MS = 6000
FIRST_SIZE = QSize(1280, 800)  # first start, shrunk to fit the screen (fit_to_screen)
FRAME_ALLOWANCE = QSize(16, 40)  # a window manager's title bar and borders, before the window is shown
log = logging.getLogger("ecg_desktop.gui")


class MainWindow(QMainWindow):
    """One scan at a time; classification runs in workers, only the newest request's result is shown."""

    resultShown = Signal(object)  # Outcome, after the panel and the crop box show it
    reportSaved = Signal(object)  # Path of a report written by save_report
    reportPrinted = Signal(int)  # pages of the report print_report sent to the printer
    saliencyShown = Signal(object)  # SaliencyOutcome, after the viewer and the panel show it
    signalsShown = Signal(object)  # SignalsOutcome, after the viewer, the panel and the status bar show it
    signalsExported = Signal(object)  # list of the Paths Export Signals wrote

    def __init__(
        self, model: EcgModel | None, *, model_error: str | None = None, store: SettingsStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model, self.model_error = model, model_error
        self.store = store or SettingsStore()
        self.settings: AppSettings = self.store.load()
        self.scan: OpenedScan | None = None
        self.result: Classification | None = None
        self.reading: PageReading | None = None  # the page reading behind ``result`` (the digitizer reuses it)
        self.batch_dialog = None
        self._edited_request = False  # whether the newest request used a crop the user drew
        self._opening = False  # a file is being opened (crop edits locked)
        self._fitted = False  # fitted to the screen once shown (showEvent)
        self.saliency: SaliencyOutcome | None = None  # the newest map computed (may be for an older crop)
        self.signals: SignalsOutcome | None = None  # the newest digitization (may be for an older scan or crop)
        self.setWindowTitle("ECG Desk")
        self.setAcceptDrops(True)
        self.setStyleSheet(STYLE_SHEET)

        self._build_controllers()
        self.setCentralWidget(self._build_central())
        self._build_menus()
        self._build_status_bar()
        self._restore_window()
        if model is None:
            self.panel.show_message("No model loaded", f"{model_error or 'The model could not be loaded.'}\n\n"
                                    "Scans can be viewed but not classified.", error=True)
        self._update_actions()

    # -- building --------------------------------------------------------------------------------
    def _build_controllers(self) -> None:
        """The classification and saliency workers, each reporting only its newest request."""
        self.controller = InferenceController(self.model, self)
        self.controller.succeeded.connect(self._on_succeeded)
        self.controller.failed.connect(self._on_failed)
        self.controller.busyChanged.connect(self._on_busy)
        self.saliency_controller = SaliencyController(self.model, self)
        self.saliency_controller.computed.connect(self._on_saliency)
        self.saliency_controller.failed.connect(self._on_saliency_failed)
        self.saliency_controller.busyChanged.connect(self._on_busy)
        self.signals_controller = SignalsController(self)
        self.signals_controller.computed.connect(self._on_signals)
        self.signals_controller.failed.connect(self._on_signals_failed)
        self.signals_controller.busyChanged.connect(self._on_busy)

    def _build_central(self) -> QSplitter:
        """The welcome page or the viewer on the left, the result panel on the right."""
        self.viewer = ImageViewer()
        self.viewer.crop_item.edited.connect(self._on_crop_edited)
        self.viewer.crop_item.setEnabled(self.model is not None)
        self.welcome = WelcomePage(has_samples=bool(resources.sample_scans()))
        self.welcome.openRequested.connect(self.open_dialog)
        self.welcome.sampleRequested.connect(self.open_first_sample)
        self.welcome.batchRequested.connect(self.open_batch)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.viewer)
        self.panel = ResultPanel(self.model.manifest if self.model else None)
        self.panel.setMinimumWidth(300)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter", childrenCollapsible=False)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([900, 360])
        return self.splitter

    def _build_menus(self) -> None:
        """The actions, menus and toolbar (gui/actions.py), connected to this window's slots."""
        self.acts = build_actions(self, {
            "open": self.open_dialog, "save_report": self.save_report_dialog, "print": self.print_dialog,
            "settings": self.settings_dialog, "quit": self.close, "fit": self.viewer.fit,
            "actual_size": self.viewer.actual_size, "zoom_in": self.viewer.zoom_in, "zoom_out": self.viewer.zoom_out,
            "reset_crop": self.reset_crop, "batch": lambda: self.open_batch(), "about": self.about_dialog,
            "saliency": self.set_saliency_shown, "traces": self.set_traces_shown,
            "export_signals": self.export_signals_dialog,
        })
        self.acts.traces.setChecked(self.settings.show_traces)
        self.acts.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_samples_menu()

    # -- opening -------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> int:
        """Open and classify ``path`` in the background; returns the request's generation."""
        path = Path(path)
        self.statusBar().showMessage(f"Opening {path.name}…")
        if self.scan is not None:
            self.panel.show_busy(f"Opening {path.name}…")
        self._edited_request = False
        self._set_opening(True)
        self._drop_saliency()
        self._drop_signals()
        return self.controller.open(path)

    def open_dialog(self) -> None:
        start = self.settings.last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open ECG Scan", start, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_first_sample(self) -> None:
        samples = resources.sample_scans()
        if samples:
            self.open_path(samples[0])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if paths[0].is_dir():
            self.open_batch(folder=paths[0])
        else:
            self.open_path(paths[0])

    # -- crop ------------------------------------------------------------------------------------
    def _on_crop_edited(self, box: CropBox) -> None:
        """The user finished moving or resizing the crop box: classify again with exactly that box."""
        if self.scan is None or self.model is None or self._opening:
            return
        self._edited_request = True
        self._drop_saliency()
        self._drop_signals()
        self.panel.show_busy("Classifying the edited region…")
        self.controller.classify(self.scan, box)

    def reset_crop(self) -> None:
        """Go back to the automatic crop and classify with it."""
        if self.scan is None or self.model is None or self._opening:
            return
        self._edited_request = False
        self.viewer.crop_item.set_box(self.scan.auto_crop)
        self._drop_saliency()
        self._drop_signals()
        self.panel.show_busy("Classifying with the automatic crop…")
        self.controller.classify(self.scan, None)

    # -- results ---------------------------------------------------------------------------------
    def _on_succeeded(self, outcome: Outcome) -> None:
        scan, result = outcome.scan, outcome.result
        self._set_opening(False)
        if scan is not self.scan:
            self.viewer.set_image(scan.qimage)
            self.stack.setCurrentWidget(self.viewer)
            self.setWindowTitle(f"{scan.path.name} — ECG Desk")
            self.size_label.setText(f"{scan.image.shape[1]} × {scan.image.shape[0]} px")
            self.size_label.show()
            self.zoom_label.show()
            self.panel.set_source(f"{scan.path.name}  ·  {scan.image.shape[1]} × {scan.image.shape[0]} px")
            self.settings = self.settings.with_recent(scan.path)
            self.store.save(self.settings)
            self._show_page_box(scan)
        self.scan, self.result, self.reading = scan, result, outcome.reading
        self.viewer.crop_item.set_box(result.crop if result else scan.auto_crop, label=region_name(result))
        self.viewer.crop_item.setVisible(result is not None)  # no model: nothing was classified
        page_note = self._page_note(scan)
        if result is None:
            self.statusBar().showMessage(f"Opened {scan.path.name} (not classified: no model).{page_note}", STATUS_MS)
        else:
            self.panel.show_result(result, edited_crop=self._edited_request)
            self.statusBar().showMessage(f"{scan.path.name}: {status_line(result, self.model.manifest)}{page_note}",
                                         STATUS_MS)
        self._update_actions()
        self._request_saliency()
        self._request_signals()
        self.resultShown.emit(outcome)

    def _on_failed(self, generation: int, error: Exception) -> None:
        self._set_opening(False)
        log.warning("open or classify failed: %s", type(error).__name__)
        message = user_message(error)
        self.statusBar().showMessage(message, STATUS_MS)
        if self.scan is None:
            self.panel.show_message("Nothing to show", message, error=True)
        elif self.result is not None:
            self.panel.show_result(self.result, edited_crop=self._edited_request)
        self._request_saliency()  # the previous scan stays shown: so do its overlays while the toggles are on
        self._request_signals()
        show_error(self, error, title="ECG Desk")

    # -- PDF pages -------------------------------------------------------------------------------
    @staticmethod
    def _page_note(scan: OpenedScan) -> str:
        """' Page 1 of 3 of scan.pdf; choose another…' for a page of a multi-page PDF, else ''."""
        note = scan.page.note()
        return f" {note}; choose another page at the bottom right." if note else ""

    def _show_page_box(self, scan: OpenedScan) -> None:
        """Show the page spin box for a multi-page PDF (set to the page shown), hide it otherwise."""
        _, page = pdf_pages.split_page_ref(scan.path)
        multi = page is not None and scan.pages > 1
        self.page_box.blockSignals(True)
        if multi:
            self.page_box.setRange(1, scan.pages)
            self.page_box.setSuffix(f" of {scan.pages}")
            self.page_box.setValue(page)
        self.page_box.blockSignals(False)
        self.page_box.setVisible(multi)

    def _on_page_chosen(self, page: int) -> None:
        if self.scan is None:
            return
        pdf, current = pdf_pages.split_page_ref(self.scan.path)
        if current is not None and page != current:
            self.open_path(pdf_pages.page_ref(pdf, page))

    def _on_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(self.controller.busy or self.saliency_controller.busy or self.signals_controller.busy)

    # -- saliency ----------------------------------------------------------------------------------
    def set_saliency_shown(self, shown: bool) -> None:
        """View ▸ Show Saliency: overlay the occlusion map on the crop and name the leads that drove the result."""
        if self.acts.saliency.isChecked() != shown:
            self.acts.saliency.setChecked(shown)  # toggled() calls back here
            return
        if shown:
            self._request_saliency()
        else:
            self.saliency_controller.invalidate()
            self.viewer.hide_heatmap()
            self.panel.show_saliency(None)

    def current_saliency(self) -> Saliency | None:
        """The computed map of the shown scan and crop, if there is one."""
        shown = self.saliency
        if shown is None or self.result is None or shown.scan is not self.scan or shown.crop != self.result.crop:
            return None
        return shown.saliency

    def _request_saliency(self) -> None:
        """With the toggle on, show the map of the shown result's crop (computing it in a worker if needed).

        A scan that is not assessable has no result for a map to explain: none is shown.
        """
        if not self.acts.saliency.isChecked() or self.model is None or self.scan is None or self.result is None:
            return
        if not self.result.assessable:
            return
        if self.current_saliency() is not None:
            self._show_saliency(self.saliency)
            return
        self.panel.show_saliency("Finding the leads that drove the result…")
        self.saliency_controller.compute(self.scan, self.result, self.reading)

    def _drop_saliency(self) -> None:
        """The scan or the crop is changing: the shown map no longer matches it."""
        self.saliency_controller.invalidate()
        self.viewer.hide_heatmap()
        self.panel.show_saliency(None)

    def _on_saliency(self, outcome: SaliencyOutcome) -> None:
        self.saliency = outcome
        if self.acts.saliency.isChecked() and self.current_saliency() is not None:
            self._show_saliency(outcome)
            self.statusBar().showMessage(f"Saliency computed in {outcome.seconds:.2f} s.", STATUS_MS)

    def _show_saliency(self, outcome: SaliencyOutcome) -> None:
        self.viewer.show_heatmap(outcome.saliency.heatmap, outcome.crop)
        self.panel.show_saliency(saliency_line(outcome.saliency), legend=True)
        self.saliencyShown.emit(outcome)

    def _on_saliency_failed(self, generation: int, error: Exception) -> None:
        message = f"The saliency could not be computed: {user_message(error)}"
        self.panel.show_saliency(message)
        self.statusBar().showMessage(message, STATUS_MS)

    # -- digitized traces --------------------------------------------------------------------------------
    def set_traces_shown(self, shown: bool) -> None:
        """View ▸ Show Digitized Traces (remembered): draw the traces read from the scan over it and show their
        measurements, digitizing in a worker when needed."""
        if self.acts.traces.isChecked() != shown:
            self.acts.traces.setChecked(shown)  # toggled() calls back here
            return
        if self.settings.show_traces != shown:
            self.settings = replace(self.settings, show_traces=shown)
            self.store.save(self.settings)
        if self._signals_wanted():
            self._request_signals()
        else:
            self._drop_signals()

    def current_signals(self) -> SignalReading | None:
        """The reading of the shown scan and crop, if it has been digitized."""
        shown = self.signals
        if shown is None or self.scan is None or shown.scan is not self.scan or shown.box != self._signals_box():
            return None
        return shown.reading

    def _signals_box(self) -> CropBox | None:
        """The region to digitize: the user's crop, or None for the digitizer's own reading of the page."""
        return self.result.crop if self._edited_request and self.result is not None else None

    def _signals_wanted(self) -> bool:
        """The toggle is on, or the shown result is another standard printout (its signals stand in for a class)."""
        return self.acts.traces.isChecked() or (self.result is not None and self.result.signals_follow)

    def _request_signals(self) -> None:
        """When wanted, show the shown scan's traces and measurements (digitizing in a worker if needed, from the
        page reading the classification made)."""
        if not self._signals_wanted() or self.scan is None:
            return
        if self.current_signals() is not None:
            self._show_signals(self.signals)
            return
        self.panel.show_signals(None, status="Digitizing the traces…")
        self.signals_controller.compute(self.scan, self._signals_box(), self.reading)

    def _drop_signals(self) -> None:
        """The scan or the crop is changing (or the toggle is off): the traces shown no longer match it."""
        self.signals_controller.invalidate()
        self.viewer.hide_traces()
        self.panel.show_signals(None)

    def _on_signals(self, outcome: SignalsOutcome) -> None:
        self.signals = outcome
        if self._signals_wanted() and self.current_signals() is not None:
            self._show_signals(outcome)

    def _show_signals(self, outcome: SignalsOutcome) -> None:
        """The traces over the scan and the measurements in the panel, or the digitizer's reason in the status bar."""
        reading = outcome.reading
        self.panel.show_signals(reading)
        if reading.digitization is None:
            self.viewer.hide_traces()
            self.statusBar().showMessage(not_digitized(reading.error), STATUS_MS)
        else:
            shown = self.result.page_transform if self.result is not None else None
            lines = trace_lines(reading.digitization, shown=shown, shown_size=self.viewer.image_size())
            self.viewer.show_traces(lines)
        self.signalsShown.emit(outcome)

    def _on_signals_failed(self, generation: int, error: Exception) -> None:
        message = not_digitized(user_message(error))
        self.panel.show_signals(None, status=message)
        self.statusBar().showMessage(message, STATUS_MS)

    def export_signals_dialog(self) -> None:
        """File ▸ Export Signals: a CSV or a WFDB record, chosen by the dialog's filter."""
        if self.scan is None:
            return
        suggested = str(self._save_folder() / f"{pdf_pages.report_stem(self.scan.path)}-signals.csv")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export Signals", suggested, ";;".join(EXPORT_FILTERS.values())
        )
        if path:
            self._remember_save_folder(Path(path))
            fmt = next((f for f, text in EXPORT_FILTERS.items() if text == chosen), "csv")
            suffix = ".csv" if fmt == "csv" else ".hea"
            self.export_signals(Path(path if path.lower().endswith(suffix) else f"{path}{suffix}"), fmt)

    def export_signals(self, path: Path, fmt: str) -> None:
        """Write the shown scan's signals as ``fmt`` in a worker (digitizing it first if needed); emits
        signalsExported or shows why not."""
        if self.scan is None:
            return
        worker = create_worker(
            _export_signals, path, fmt, reading=self.current_signals(), image=self.scan.image, box=self._signals_box(),
            _start_thread=False, _ignore_errors=True,
        )
        worker.returned.connect(self._on_signals_exported)
        worker.errored.connect(lambda error: show_error(self, error, title="The signals were not exported"))
        self.statusBar().showMessage(f"Exporting the signals to {path.name}…")
        worker.start()

    def _on_signals_exported(self, paths: list[Path]) -> None:
        self.statusBar().showMessage(f"Signals saved to {', '.join(str(p) for p in paths)}", STATUS_MS)
        self.signalsExported.emit(paths)

    def _set_opening(self, opening: bool) -> None:
        """While a file opens, crop edits would classify the old scan and supersede the new one: lock them."""
        self._opening = opening
        self.viewer.crop_item.setEnabled(self.model is not None and not opening)
        self._update_actions()

    # -- reports, printing -------------------------------------------------------------------------
    def _save_folder(self) -> Path:
        """Where a save dialog starts: the folder last saved to, else the shown scan's folder."""
        saved = Path(self.settings.save_folder) if self.settings.save_folder else None
        if saved is not None and saved.is_dir():
            return saved
        return self.scan.path.parent if self.scan is not None else Path.home()

    def _remember_save_folder(self, path: Path) -> None:
        if str(path.parent) != self.settings.save_folder:
            self.settings = replace(self.settings, save_folder=str(path.parent))
            self.store.save(self.settings)

    def report_options(self) -> ReportOptions:
        return ReportOptions(facility=self.settings.facility, page_size=self.settings.page_size)

    def save_report_dialog(self) -> None:
        if self.scan is None or self.result is None:
            return
        dialog = PatientDialog(self, source_name=self.scan.path.name)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        suggested = str(self._save_folder() / f"{pdf_pages.report_stem(self.scan.path)}-report.pdf")
        path, _ = QFileDialog.getSaveFileName(self, "Save Report", suggested, "PDF documents (*.pdf)")
        if path:
            path = path if path.lower().endswith(".pdf") else f"{path}.pdf"
            self._remember_save_folder(Path(path))
            self.save_report(Path(path), dialog.patient(), acquisition_date=dialog.acquisition_date.text().strip())

    def save_report(self, path: Path, patient: PatientInfo = PatientInfo(), *, acquisition_date: str = "") -> None:
        """Write the PDF report of the shown result in a worker; emits reportSaved or shows the error."""
        if self.scan is None or self.result is None or self.model is None:
            return
        worker = self._report_worker(path, patient, acquisition_date)
        worker.returned.connect(self._on_report_saved)
        worker.errored.connect(lambda error: (log.warning("report not written: %s", type(error).__name__),
                                              show_error(self, error, title="The report was not saved")))
        self.statusBar().showMessage(f"Saving {path.name}…")
        worker.start()

    def _report_worker(self, path: Path, patient: PatientInfo, acquisition_date: str):
        """A not yet started worker writing the report of the shown result (the map too if Show Saliency is on, the
        measurements and redrawn leads if Show Digitized Traces is on)."""
        options = ReportOptions(self.settings.facility, self.settings.page_size, acquisition_date)
        return create_worker(
            _write_report_with_overlays, path, model=self.model, saliency=self.current_saliency(),
            with_saliency=self.acts.saliency.isChecked(), signals=self.current_signals(),
            with_signals=self._signals_wanted(), box=self._signals_box(), image=self.scan.image,
            reading=self.reading, result=self.result, source_name=self.scan.path.name, patient=patient,
            options=options, _start_thread=False, _ignore_errors=True,
        )

    def _on_report_saved(self, path: Path) -> None:
        log.info("report written for scan %s", file_id(self.scan.path) if self.scan else "-")
        self.statusBar().showMessage(f"Report saved to {path}", STATUS_MS)
        self.reportSaved.emit(Path(path))

    def print_dialog(self) -> None:
        """File ▸ Print: the printer first, then the optional patient details, then the pages Save Report writes."""
        if self.scan is None or self.result is None or self.model is None:
            return
        printer = make_printer(self.settings.page_size)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print ECG Report")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        details = PatientDialog(self, source_name=self.scan.path.name, printing=True)
        if details.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_report(printer, details.patient(), acquisition_date=details.acquisition_date.text().strip())

    def print_report(
        self, printer: QPrinter, patient: PatientInfo | None = None, *, acquisition_date: str = ""
    ) -> None:
        """Write the report to a temporary PDF in a worker, then print its pages; emits reportPrinted."""
        if self.scan is None or self.result is None or self.model is None:
            return
        folder = tempfile.TemporaryDirectory(prefix="ecg-desk-print-")
        worker = self._report_worker(Path(folder.name) / "report.pdf", patient, acquisition_date)

        def written(path: Path) -> None:
            try:
                pages = print_pdf(printer, path)
            except OSError as exc:
                show_error(self, f"The report could not be printed: {exc}.")
                return
            finally:
                folder.cleanup()
            self.statusBar().showMessage("Sent to the printer.", STATUS_MS)
            self.reportPrinted.emit(pages)

        def failed(error: Exception) -> None:
            folder.cleanup()
            log.warning("report not printed: %s", type(error).__name__)
            show_error(self, error, title="The report was not printed")

        worker.returned.connect(written)
        worker.errored.connect(failed)
        self.statusBar().showMessage("Preparing the report for the printer…")
        worker.start()

    # -- other dialogs -------------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings = dialog.settings()
            self.store.save(self.settings)
            self.statusBar().showMessage("Settings saved.", STATUS_MS)

    def about_dialog(self) -> None:
        AboutDialog(self.model.manifest if self.model else None, self, model_error=self.model_error).exec()

    def open_batch(self, folder: Path | None = None) -> None:
        """Show the batch dialog (one at a time; non-modal so the viewer stays usable)."""
        if self.model is None:
            show_error(self, f"Batch processing needs the model, which could not be loaded: {self.model_error}")
            return
        from ecg_desktop.gui.batch_dialog import BatchDialog

        if self.batch_dialog is None or not self.batch_dialog.running:
            start = str(folder or self.settings.last_folder or "")
            self.batch_dialog = BatchDialog(
                self.model, self, options=self.report_options(), workers=self.settings.batch_workers, folder=start,
                output=self.settings.batch_output, pdf=self.settings.batch_pdf,
            )
            self.batch_dialog.batchStarted.connect(self._remember_batch_choices)
            self.batch_dialog.batchFinished.connect(self._on_batch_finished)
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        self.batch_dialog.activateWindow()

    def _remember_batch_choices(self, output: str, pdf: bool) -> None:
        """Process Folder started: its output folder (if the user chose one) and PDF option are the next defaults."""
        self.settings = replace(self.settings, batch_output=output, batch_pdf=pdf)
        self.store.save(self.settings)

    def _on_batch_finished(self, cancelled: bool) -> None:
        """A batch running in the background (its dialog hidden) says in the status bar that it ended."""
        dialog = self.batch_dialog
        if dialog is not None and not dialog.isVisible():
            self.statusBar().showMessage(f"Process Folder: {dialog.progress_label.text()}", STATUS_MS)

    # -- window state ----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:  # once shown, the window manager's real frame is known: fit again with it
            self._fitted = True
            QTimer.singleShot(0, self.fit_to_screen)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.batch_dialog is not None and self.batch_dialog.running:
            from ecg_desktop.gui.batch_dialog import STOP, ask_close_while_running

            if ask_close_while_running(self, self.batch_dialog.progress_label.text(), quitting=True) != STOP:
                event.ignore()
                return
            self.batch_dialog.cancel()
            self.batch_dialog.wait(5000)
        self.controller.invalidate()
        self.saliency_controller.invalidate()
        self.signals_controller.invalidate()
        self.store.set_window_state("geometry", self.saveGeometry())
        self.store.set_window_state("splitter", self.splitter.saveState())
        QThreadPool.globalInstance().waitForDone(5000)  # workers must not outlive the window
        super().closeEvent(event)

    def _restore_window(self) -> None:
        geometry = self.store.window_state("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(FIRST_SIZE)
            self.fit_to_screen(center=True)
        else:
            self.fit_to_screen()
        splitter = self.store.window_state("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def fit_to_screen(self, *, center: bool = False) -> None:
        """Shrink and move the window so its frame (title bar included) lies in the screen's available area.

        A clinic laptop's 1366x768 screen minus the task bar is smaller than the first size: the status bar
        and the notices must never be cut off. ``center``: also centre it (first start).
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
        if extra_h <= 0:  # not shown yet: the window manager's frame is not known, allow for a usual one
            extra_w, extra_h = FRAME_ALLOWANCE.width(), FRAME_ALLOWANCE.height()
        width = max(min(inner.width(), available.width() - extra_w), 200)
        height = max(min(inner.height(), available.height() - extra_h), 200)
        self.resize(width, height)
        x, y = frame.x(), frame.y()
        if center:
            x = available.x() + (available.width() - width - extra_w) // 2
            y = available.y() + (available.height() - height - extra_h) // 2
        x = min(max(x, available.x()), available.right() + 1 - width - extra_w)
        y = min(max(y, available.y()), available.bottom() + 1 - height - extra_h)
        self.move(x, y)  # move() places the frame's top-left corner

    def _build_status_bar(self) -> None:
        bar = StatusBar(self)
        self.setStatusBar(bar)
        self.busy_bar = QProgressBar(objectName="busyBar", minimum=0, maximum=0, maximumWidth=90, maximumHeight=12)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.size_label = QLabel("", visible=False)
        self.zoom_label = QLabel("", visible=False)
        self.page_box = QSpinBox(objectName="pdfPage", prefix="Page ", visible=False, keyboardTracking=False)
        self.page_box.setToolTip("Page of the PDF to show and classify")
        self.page_box.valueChanged.connect(self._on_page_chosen)
        version = f"Model {self.model.version}" if self.model else "No model loaded"
        self.model_label = QLabel(version, objectName="modelVersion")
        for widget in (self.busy_bar, self.page_box, self.size_label, self.zoom_label, self.model_label):
            bar.addPermanentWidget(widget)
        self.viewer.zoomChanged.connect(lambda zoom: self.zoom_label.setText(f"{zoom:.0%}"))
        bar.showMessage("Ready." if self.model else "The model could not be loaded; see the result panel.")

    def _update_actions(self) -> None:
        has_model, has_scan = self.model is not None, self.scan is not None
        has_result = has_model and self.result is not None
        a = self.acts
        for act in (a.save_report, a.print):
            act.setEnabled(has_result)
        a.reset_crop.setEnabled(has_model and has_scan and not self._opening)
        a.saliency.setEnabled(has_model)
        a.export_signals.setEnabled(has_scan and not self._opening)
        a.batch.setEnabled(has_model)
        self.welcome.batch_button.setEnabled(has_model)
        for act in (a.fit, a.actual_size, a.zoom_in, a.zoom_out):
            act.setEnabled(has_scan)

    def _fill_recent_menu(self) -> None:
        menu = self.acts.recent_menu
        menu.clear()
        for index, text in enumerate(self.settings.recent_files, start=1):
            path = Path(text)
            act = menu.addAction(f"&{index % 10}  {path.name}  —  {path.parent}")
            act.setData(text)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not self.settings.recent_files:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(self.settings.recent_files))
        clear.triggered.connect(self.clear_recent)

    def clear_recent(self) -> None:
        self.settings = replace(self.settings, recent_files=())
        self.store.save(self.settings)

    def _fill_samples_menu(self) -> None:
        menu = self.acts.samples_menu
        samples = resources.sample_scans()
        for path in samples:
            act = menu.addAction(path.stem.removeprefix("sample_").replace("_", " ").capitalize())
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        menu.setEnabled(bool(samples))


def _write_report_with_overlays(
    path: Path, *, model: EcgModel, saliency: Saliency | None, with_saliency: bool, signals: SignalReading | None,
    with_signals: bool, box: CropBox | None, image: np.ndarray, reading: PageReading, result: Classification,
    **kwargs: object,
) -> Path:
    """Worker: the PDF report of the full-size ``image``; with ``with_saliency`` (View ▸ Show Saliency on) also
    the map the viewer shows, computed here (by the core, on the page ``reading`` classified) if not yet available;
    with
    ``with_signals`` (View ▸ Show Digitized Traces on) the measurements and leads, digitized here if need be."""
    if not with_saliency:
        saliency = None
    elif saliency is None:
        saliency = saliency_of(model, reading, result)
    if not with_signals:
        signals = None
    elif signals is None:
        signals = read_signals(image, box, reading=reading)
    return write_report(path, image=image, result=result, manifest=model.manifest, saliency=saliency,
                        signals=signals, **kwargs)


def _export_signals(
    path: Path, fmt: str, *, reading: SignalReading | None, image: np.ndarray, box: CropBox | None
) -> list[Path]:
    """Worker: ``reading`` (digitized here from the full-size ``image`` if None) written as ``fmt``."""
    return export_signals(path, reading if reading is not None else read_signals(image, box), fmt)
