"""Save Report, Print, About, Settings and recent files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gui_helpers import render_scan
from PySide6.QtCore import QSettings

from ecg_desktop.core.notices import ATTRIBUTION
from ecg_desktop.core.outcome import NOT_ASSESSABLE
from ecg_desktop.gui.about_dialog import AboutDialog, model_card_html
from ecg_desktop.gui.settings import MAX_RECENT, AppSettings, SettingsStore
from tests.bad_inputs import text_page
from tests.conftest import write_image

WAIT_MS = 15_000


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.replace("\ufb01", "fi").split())  # Qt's PDFs: tabs between words, ligatures


@pytest.fixture
def shown(qtbot, main_window, scan_file: Path):
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.open_path(scan_file)
    return main_window


def test_save_report_writes_the_shown_result(qtbot, shown, tmp_path: Path) -> None:
    from ecg_desktop.core.reports.report_pdf import PatientInfo

    shown.settings = replace(shown.settings, facility="St Elsewhere Cardiology", page_size="Letter")
    target = tmp_path / "report.pdf"
    with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS) as saved:
        shown.save_report(target, PatientInfo("P-0042", "Jane Doe", "1961-04-23"), acquisition_date="2026-11-02")

    assert saved.args == [target]
    text = pdf_text(target)
    for expected in ("P-0042", "Jane Doe", "1961-04-23", "2026-11-02", "St Elsewhere Cardiology", shown.scan.path.name,
                     shown.model.manifest.display_name(shown.result.label), shown.model.version):
        assert expected in text
    assert "Report saved" in shown.statusBar().currentMessage()


def test_save_report_failure_is_shown_not_raised(qtbot, shown, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown.save_report(tmp_path / "no such folder" / "report.pdf")
    qtbot.waitUntil(lambda: shown.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    assert "cannot be saved" in shown.findChild(QMessageBox, "errorDialog").text()


def _page_images(path: Path) -> list:
    """Each page of a PDF rasterised to greyscale at 50 dpi and blurred (a printed raster's edges differ slightly)."""
    import cv2
    import numpy as np
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        pages = [np.asarray(page.render(scale=50 / 72, grayscale=True).to_pil().convert("L"), np.float32)
                 for page in document]
    finally:
        document.close()
    return [cv2.GaussianBlur(page, (0, 0), 2.0) for page in pages]


def _print_to_pdf(qtbot, window, target: Path, patient=None) -> int:
    from PySide6.QtPrintSupport import QPrinter

    from ecg_desktop.core.reports.report_pdf import PatientInfo
    from ecg_desktop.gui.printing import make_printer

    printer = make_printer(window.settings.page_size)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    printer.setResolution(150)
    with qtbot.waitSignal(window.reportPrinted, timeout=WAIT_MS) as printed:
        window.print_report(printer, patient or PatientInfo())
    return printed.args[0]


def test_print_paints_the_pages_of_the_saved_report(
    qtbot, shown, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File ▸ Print prints write_report's pages themselves: same page count, same page, patient fields included."""
    import numpy as np
    from pypdf import PdfReader

    from ecg_desktop.core.reports import report_pdf
    from ecg_desktop.core.reports.report_pdf import PatientInfo

    monkeypatch.setattr(report_pdf, "_now", lambda: "2026-12-01 09:30 (UTC+0000)")  # the same creation time
    shown.settings = replace(shown.settings, facility="Ward 3")
    patient = PatientInfo("P-0042", "Jane Doe", "1961-04-23")
    with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS):
        shown.save_report(tmp_path / "saved.pdf", patient)
    pages = _print_to_pdf(qtbot, shown, tmp_path / "printed.pdf", patient)
    saved, printed = _page_images(tmp_path / "saved.pdf"), _page_images(tmp_path / "printed.pdf")
    assert pages == len(printed) == len(saved) == len(PdfReader(tmp_path / "printed.pdf").pages) == 1
    assert printed[0].shape == saved[0].shape  # the same paper size
    same = np.abs(printed[0] - saved[0])
    assert same.mean() < 3 and same.max() < 45  # the same page: no block of text or image differs
    assert "Jane Doe" in pdf_text(tmp_path / "saved.pdf")
    assert "Sent to the printer" in shown.statusBar().currentMessage()
    # another patient's report differs where its fields are: the comparison tells pages apart
    with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS):
        shown.save_report(tmp_path / "other.pdf", PatientInfo("Q-9999999", "Someone Else Entirely", "2001-12-31"))
    assert np.abs(_page_images(tmp_path / "other.pdf")[0] - printed[0]).max() > 45


def test_old_print_layout_is_gone() -> None:
    from ecg_desktop.gui import printing

    assert not hasattr(printing, "print_result") and hasattr(printing, "print_pdf")


def test_saved_and_printed_reports_of_a_page_that_is_not_assessable_name_no_class(
    qtbot, main_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from ecg_desktop.core.reports import report_pdf

    monkeypatch.setattr(report_pdf, "_now", lambda: "2026-12-01 09:30 (UTC+0000)")  # the same creation time

    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.open_path(write_image(tmp_path / "letter.png", text_page()))
    result, manifest = main_window.result, main_window.model.manifest
    assert not result.assessable
    with qtbot.waitSignal(main_window.reportSaved, timeout=WAIT_MS):
        main_window.save_report(tmp_path / "report.pdf")
    text = pdf_text(tmp_path / "report.pdf")
    assert NOT_ASSESSABLE in text and result.reasons[0].message.split(".")[0] in text  # 1st sentence
    assert not [info.name for info in manifest.classes if info.name in text]
    assert _print_to_pdf(qtbot, main_window, tmp_path / "printed.pdf") == 1  # the same page, printed
    printed, saved = _page_images(tmp_path / "printed.pdf"), _page_images(tmp_path / "report.pdf")
    assert np.abs(printed[0] - saved[0]).mean() < 3 and np.abs(printed[0] - saved[0]).max() < 45


def test_about_shows_the_model_card(qtbot, gui_model) -> None:
    html = model_card_html(gui_model.manifest)
    metrics = gui_model.manifest.raw["metrics"]
    for info in gui_model.manifest.classes:
        assert info.name in html
        assert f"{metrics['per_class_f1'][info.id]:.2f}" in html
    assert f"{metrics['macro_f1_mean']:.2f}" in html and gui_model.version in html
    assert "Khan &amp; Hussain" in html and "CC BY 4.0" in html and "not a diagnosis" in html
    dialog = AboutDialog(gui_model.manifest)
    qtbot.addWidget(dialog)
    assert ATTRIBUTION in dialog.browser.toPlainText()
    assert "No model loaded: broken" in model_card_html(None, model_error="broken")


def test_about_shows_the_markdown_model_card_when_there_is_one(qtbot, gui_model, tmp_path: Path) -> None:
    import cv2
    import numpy as np
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    cv2.imwrite(str(tmp_path / "lightgbm_feature_importance.png"), np.full((300, 900, 3), 90, np.uint8))
    (tmp_path / "MODEL_CARD.md").write_text(
        "# Model card: test model\n\n## Intended use\n\n**Not a diagnosis.** Source: *ECG Images dataset of "
        "Cardiac Patients* (Khan & Hussain, Mendeley Data 2021), CC BY 4.0.\n\n| Class | F1 |\n|---|---|\n"
        "| Normal | 0.812 |\n\n![LightGBM feature importance](lightgbm_feature_importance.png)\n",
        encoding="utf-8",
    )
    dialog = AboutDialog(replace(gui_model.manifest, directory=tmp_path))
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    assert "Model card: test model" in text and "Not a diagnosis." in text and "0.812" in text
    assert ATTRIBUTION in text and "Classes and cross-validated metrics" not in text  # the card, not the summary
    figure = QUrl("lightgbm_feature_importance.png")
    image = dialog.browser.loadResource(QTextDocument.ResourceType.ImageResource.value, figure)
    assert image is not None and not image.isNull()  # the figure is found by its relative link

    (tmp_path / "MODEL_CARD.md").unlink()
    fallback = AboutDialog(replace(gui_model.manifest, directory=tmp_path))
    qtbot.addWidget(fallback)
    assert "Classes and cross-validated metrics" in fallback.browser.toPlainText()


def test_settings_round_trip_and_recent_files(tmp_path: Path) -> None:
    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert store.load() == AppSettings()
    settings = AppSettings(facility="Clinic", page_size="Letter", batch_workers=3)
    for i in range(MAX_RECENT + 3):
        settings = settings.with_recent(tmp_path / f"scan{i}.png")
    settings = settings.with_recent(tmp_path / "scan5.png")  # reopened: moves to the top, no duplicate
    store.save(settings)

    loaded = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).load()
    assert loaded == settings
    assert len(loaded.recent_files) == MAX_RECENT and loaded.recent_files[0].endswith("scan5.png")
    assert loaded.last_folder == str(tmp_path.resolve())
    one = replace(AppSettings(), recent_files=(str(tmp_path / "only.png"),))
    store.save(one)
    assert store.load().recent_files == one.recent_files  # a one-item list survives the INI format


def test_settings_dialog_edits_facility_and_page_size(qtbot) -> None:
    from ecg_desktop.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(AppSettings(recent_files=("a.png",)))
    qtbot.addWidget(dialog)
    dialog.facility.setText("  Ward 7 ")
    dialog.page_size.setCurrentText("Letter")
    dialog.workers.setValue(4)
    expected = AppSettings(facility="Ward 7", page_size="Letter", batch_workers=4, recent_files=("a.png",))
    assert dialog.settings() == expected


def test_open_recent_and_window_state_are_remembered(qtbot, make_window, settings_store, tmp_path: Path) -> None:
    first = make_window()
    scans = [render_scan(tmp_path / f"s{i}.png", seed=i) for i in range(2)]
    for scan in scans:
        with qtbot.waitSignal(first.resultShown, timeout=WAIT_MS):
            first.open_path(scan)
    first.resize(1100, 700)
    first.close()
    geometry = settings_store.window_state("geometry")
    assert geometry is not None

    same_file = QSettings(settings_store.qsettings.fileName(), QSettings.Format.IniFormat)
    second = make_window(store=SettingsStore(same_file))
    assert second.settings.recent_files[:2] == (str(scans[1].resolve()), str(scans[0].resolve()))
    second.acts.recent_menu.aboutToShow.emit()
    entries = [a for a in second.acts.recent_menu.actions() if a.data()]
    assert [a.data() for a in entries[:2]] == [str(scans[1].resolve()), str(scans[0].resolve())]
    with qtbot.waitSignal(second.resultShown, timeout=WAIT_MS):
        entries[1].trigger()
    assert second.scan.path == scans[0].resolve()
    assert second.settings.last_folder == str(tmp_path.resolve())
