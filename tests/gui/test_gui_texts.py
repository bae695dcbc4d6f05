"""Texts the walkthrough found wanting: summary PDF wrapping, batch tooltips, welcome text, the crop line."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from ecg_desktop.core.batch.scan import BatchItem
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.reports.report_pdf import write_batch_summary
from ecg_desktop.gui.batch_dialog import BatchDialog

NO_GRID = Reason("no_grid", "No ECG grid was found in the classified region. " + "A long explanation follows. " * 8)


def diagnosis(manifest, *, low_confidence: bool) -> Classification:
    top = manifest.class_ids[0]
    probabilities = {c: (0.4 if c == top else 0.6 / (len(manifest.class_ids) - 1)) for c in manifest.class_ids}
    return Classification(label=top, probabilities=probabilities, findings=(top,), crop=CropBox(10, 20, 900, 700),
                          warnings=("Low confidence: " + "treat this result with extra caution. " * 3,),
                          low_confidence=low_confidence, image_size=(1000, 760))


def no_grid(manifest) -> Classification:
    return Classification(label=None, probabilities={c: 0.25 for c in manifest.class_ids}, findings=(),
                          crop=CropBox(0, 0, 1000, 760), warnings=(), low_confidence=False,
                          out_of_distribution=True, reasons=(NO_GRID,), image_size=(1000, 760))


def test_summary_pdf_never_breaks_low_confidence_mid_word(qtbot, gui_model, tmp_path: Path) -> None:
    from pypdf import PdfReader

    rows = [(f"scan_{i}.jpg", diagnosis(gui_model.manifest, low_confidence=True), None) for i in range(3)]
    for size in ("A4", "Letter"):
        from ecg_desktop.core.reports.report_pdf import ReportOptions

        path = write_batch_summary(tmp_path / f"summary-{size}.pdf", rows=rows, manifest=gui_model.manifest,
                                   options=ReportOptions(page_size=size))
        text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        words = text.split()
        assert words.count("confidence)") == 3, [w for w in words if "onfidence" in w or w in ("c", "co", "conf")]


def test_batch_table_tooltips_hold_the_full_result_and_reasons(qtbot, gui_model, tmp_path: Path) -> None:
    dialog = BatchDialog(gui_model)
    qtbot.addWidget(dialog)
    dialog._add_row(BatchItem(tmp_path / "letter.png", no_grid(gui_model.manifest), None))
    dialog._add_row(BatchItem(tmp_path / "low.png", diagnosis(gui_model.manifest, low_confidence=True), None))
    last = dialog.table.columnCount() - 1
    for row, notes in ((0, [NO_GRID.message]), (1, list(diagnosis(gui_model.manifest, low_confidence=True).warnings))):
        result_tip = dialog.table.item(row, 1).toolTip()
        reasons_tip = dialog.table.item(row, last).toolTip()
        assert Qt.mightBeRichText(reasons_tip)  # rich text: a long tooltip wraps instead of running off screen
        for note in notes:
            assert note in result_tip and note in reasons_tip
    assert dialog.table.item(0, 1).text() in dialog.table.item(0, 1).toolTip()


def test_welcome_says_pdf_pages_can_be_opened(make_window) -> None:
    from PySide6.QtWidgets import QLabel

    text = make_window().welcome.findChild(QLabel, "welcomeText").text()
    assert "PDF" in text and "page" in text


def test_crop_line_says_the_whole_image_was_used_when_no_grid_was_found(main_window) -> None:
    panel = main_window.panel
    panel.show_result(no_grid(main_window.model.manifest))
    line = panel.crop_label.text()
    assert "found automatically" not in line
    assert "whole image" in line and "no ECG grid" in line
    panel.show_result(diagnosis(main_window.model.manifest, low_confidence=False))
    assert "found automatically" in panel.crop_label.text()
