"""The bad-input corpus through the GUI: the batch table and results.csv, the viewer, PDFs, damaged models, logs."""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import pytest
from gui_helpers import render_scan
from PySide6.QtWidgets import QMessageBox

from ecg_desktop.core.outcome import NOT_ASSESSABLE
from ecg_desktop.core.reports.report_pdf import PatientInfo, ReportOptions
from tests.bad_inputs import UNREADABLE, _ecg, _pdf, build_corpus, expected_tally, unreadable_files
from tests.conftest import copy_models

WAIT_MS = 120_000


@pytest.fixture(autouse=True)
def _unreadable(monkeypatch: pytest.MonkeyPatch):
    with unreadable_files(monkeypatch, UNREADABLE):
        yield


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_batch_dialog_records_the_whole_corpus(qtbot, gui_model, tmp_path: Path) -> None:
    from ecg_desktop.gui.batch_dialog import BatchDialog

    folder, out = tmp_path / "corpus", tmp_path / "out"
    expect = build_corpus(folder)
    dialog = BatchDialog(gui_model, options=ReportOptions(facility="Test Clinic"), workers=2, folder=str(folder))
    qtbot.addWidget(dialog)
    dialog.output_edit.setText(str(out))
    dialog.pdf_check.setChecked(True)
    dialog.show()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS) as finished:
        dialog.start()
    assert finished.args == [False]

    assert expected_tally(expect) in dialog.progress_label.text()
    table = dialog.table
    last = table.columnCount() - 1
    # the table names a scan by its path below the scans folder ("sub folder/scan.png"): compared here by name
    shown = {Path(table.item(r, 0).text()).name: (table.item(r, 1).text(), table.item(r, last).text())
             for r in range(table.rowCount())}
    assert table.rowCount() == len(shown) == len(expect) and set(shown) == set(expect)
    rows = {Path(r["file"]).name: r for r in _rows(out / "results.csv")}
    assert set(rows) == set(expect) and len(_rows(out / "results.csv")) == len(expect)
    for name, want in expect.items():
        result, notes = shown[name]
        row = rows[name]
        if want.assessable:
            assert result.startswith(gui_model.manifest.display_name(row["label"])), (name, result)
            assert not row["error"]
        elif want.ok:  # not assessable: no class, the reasons
            assert result == NOT_ASSESSABLE and not row["label"] and not row["error"], (name, result)
            assert set(want.reasons) <= set(row["reasons"].split(";")) and notes, name
            assert not [c.name for c in gui_model.manifest.classes if c.name in result + notes], name
        else:
            assert result == "Failed", name
            assert want.message in notes and want.message in row["error"], (name, notes)
            assert not row["label"]
    assert (out / "summary.pdf").exists()


def _cart(path: Path, pages: int = 3) -> Path:
    path.write_bytes(_pdf([_ecg(30 + i) for i in range(pages)]))
    return path


def test_a_multi_page_pdf_opens_at_page_1_and_says_so(qtbot, main_window, tmp_path: Path) -> None:
    pdf = _cart(tmp_path / "cart export.pdf")
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as shown:
        main_window.open_path(pdf)
    assert shown.args[0].scan.path.name == "cart export.pdf#page=1"
    assert shown.args[0].result is not None
    assert "Page 1 of 3 of cart export.pdf" in main_window.statusBar().currentMessage()
    assert "cart export.pdf#page=1" in main_window.windowTitle()
    box = main_window.page_box
    assert box.isVisible() and box.value() == 1 and box.maximum() == 3

    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as shown:
        box.setValue(3)  # the user picks another page
    assert shown.args[0].scan.path.name == "cart export.pdf#page=3"
    assert "Page 3 of 3" in main_window.statusBar().currentMessage()

    scan = render_scan(tmp_path / "plain.png")
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.open_path(scan)
    assert not box.isVisible()


def test_a_one_page_pdf_opens_without_a_page_box(qtbot, main_window, tmp_path: Path) -> None:
    pdf = _cart(tmp_path / "single.pdf", pages=1)
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as shown:
        main_window.open_path(pdf)
    assert shown.args[0].scan.path.name == "single.pdf#page=1"
    assert not main_window.page_box.isVisible() and "Page" not in main_window.statusBar().currentMessage()


def test_opening_bad_inputs_in_the_viewer_shows_each_reason(qtbot, main_window, tmp_path: Path) -> None:
    expect = build_corpus(tmp_path / "corpus")
    bad = {name: want for name, want in expect.items() if not want.ok}
    for name, want in bad.items():
        path = tmp_path / "corpus" / name  # every unreadable one is at the top
        with qtbot.waitSignal(main_window.controller.failed, timeout=WAIT_MS):
            main_window.open_path(path)
        dialog = main_window.findChild(QMessageBox, "errorDialog")
        assert dialog is not None and want.message in dialog.text(), (name, dialog.text() if dialog else None)
        assert "Traceback" not in dialog.text()
        dialog.close()
        dialog.setObjectName("")  # the next failure's dialog is found, not this one
    assert main_window.scan is None and main_window.panel.shown is None  # nothing was ever classified


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_damaged_model_files_open_the_window_without_classifying(
    qtbot, tmp_path: Path, monkeypatch, settings_store, scan_file: Path, damage: str
) -> None:
    from ecg_desktop.gui.app import build_window, show_window

    models = tmp_path / "models"
    cnn = copy_models(models, damage=damage)
    monkeypatch.setenv("ECG_DESK_MODELS", str(models))
    window = build_window(store=settings_store)
    qtbot.addWidget(window)
    show_window(window)

    reason = "has been altered" if damage == "altered" else "is missing"
    assert window.model is None and reason in window.model_error and cnn.name in window.model_error
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    assert reason in window.findChild(QMessageBox, "errorDialog").text()
    assert reason in window.panel.status_label.text()
    assert "No model" in window.model_label.text()
    assert not window.acts.batch.isEnabled() and not window.acts.save_report.isEnabled()
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS) as shown:
        window.open_path(scan_file)
    assert shown.args[0].result is None and window.panel.shown is None  # viewed, never classified


def test_gui_logs_where_the_command_line_does(monkeypatch, tmp_path: Path) -> None:
    """The GUI and the CLI write one log, in the folder the core decides (and the README names)."""
    from ecg_desktop.core import logs
    from ecg_desktop.gui import app

    monkeypatch.setenv("ECG_DESK_LOG_DIR", str(tmp_path / "logs"))
    written: list[Path] = []
    monkeypatch.setattr(app, "setup_logging", lambda *a, **k: written.append(logs.setup_logging(*a, **k)))
    monkeypatch.setattr(app, "build_window", lambda **kwargs: None)
    monkeypatch.setattr(app, "show_window", lambda window, path=None: None)
    monkeypatch.setattr(app.QApplication, "exec", lambda self: 0)
    assert app.run_gui() == 0
    assert written and written[0].parent == logs.default_log_dir() == tmp_path / "logs"


def test_gui_log_never_holds_patient_data(qtbot, main_window, tmp_path: Path) -> None:
    from ecg_desktop.core.logs import file_id, setup_logging

    logs = tmp_path / "logs"
    setup_logging(logs)
    try:
        name = "Jane Testpatient"
        scan = render_scan(tmp_path / f"{name}.png", kind="st_elevation", seed=2)
        with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
            main_window.open_path(scan)
        with qtbot.waitSignal(main_window.reportSaved, timeout=WAIT_MS):
            main_window.save_report(tmp_path / f"{name} report.pdf", PatientInfo("PID-471108", name, "1970-01-01"))
        broken = tmp_path / f"{name} broken.jpg"
        broken.write_bytes(b"\xff\xd8\xff broken")
        with qtbot.waitSignal(main_window.controller.failed, timeout=WAIT_MS):
            main_window.open_path(broken)
        main_window.findChild(QMessageBox, "errorDialog").close()
        for handler in logging.getLogger("ecg_desktop").handlers:
            handler.flush()
        text = "\n".join(p.read_text(encoding="utf-8") for p in logs.iterdir())
        assert f"report written for scan {file_id(scan)}" in text and "open or classify failed: ImageLoadError" in text
        for secret in ("Jane", "Testpatient", "PID-471108", "1970-01-01", str(tmp_path)):
            assert secret not in text
    finally:
        setup_logging(os.environ["ECG_DESK_LOG_DIR"])
