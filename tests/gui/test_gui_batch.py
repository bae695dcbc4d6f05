"""Batch ▸ Process Folder: every file recorded, failures shown, cancel keeps what was shown, GUI stays live.

No test here times anything: cancel and responsiveness are checked by what happens (files started, timer ticks),
so a loaded machine is slower, never failed. Speeds are in benchmarks/bench_gui_batch.py.
"""

from __future__ import annotations

import csv
import shutil
import threading
from pathlib import Path

import pytest
from gui_helpers import write_corrupt, write_scans
from PySide6.QtCore import QTimer

from ecg_desktop.cli import main
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.outcome import NOT_ASSESSABLE
from ecg_desktop.core.reports.report_pdf import ReportOptions
from ecg_desktop.gui import batch_dialog
from ecg_desktop.gui.batch_dialog import BatchDialog
from tests.bad_inputs import blank_page, text_page
from tests.conftest import write_batch_with_failures, write_image

WAIT_MS = 60_000


def make_dialog(qtbot, model, folder: Path, out_dir: Path, *, pdf: bool = False, workers: int = 2) -> BatchDialog:
    options = ReportOptions(facility="Test Clinic")
    dialog = BatchDialog(model, options=options, workers=workers, folder=str(folder))
    qtbot.addWidget(dialog)
    dialog.output_edit.setText(str(out_dir))
    dialog.pdf_check.setChecked(pdf)
    dialog.show()
    return dialog


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def test_batch_records_every_file_and_never_stops_for_a_bad_one(qtbot, gui_model, tmp_path: Path) -> None:
    folder, out_dir = tmp_path / "scans", tmp_path / "out"
    scans = write_scans(folder, 6)
    write_corrupt(folder / "corrupt.jpg")
    dialog = make_dialog(qtbot, gui_model, folder, out_dir, pdf=True)

    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS) as finished:
        dialog.start()

    assert finished.args == [False]
    rows = read_rows(out_dir / "results.csv")
    assert len(rows) == 7 == dialog.table.rowCount()
    failed = [row for row in rows if row["error"]]
    assert len(failed) == 1 and Path(failed[0]["file"]).name == "corrupt.jpg"
    assert "corrupt.jpg" in failed[0]["error"] and not failed[0]["label"]
    table = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert table["corrupt.jpg"] == "Failed"
    for row in rows:
        if not row["error"]:
            assert table[Path(row["file"]).name].startswith(gui_model.manifest.display_name(row["label"]))
    assert "1 failed" in dialog.progress_label.text()

    for scan in scans:
        text = pdf_text(out_dir / f"{output_stem(scan)}.pdf")
        assert scan.name in text and "Decision support only" in text
    summary = pdf_text(out_dir / "summary.pdf")
    assert "corrupt.jpg" in summary and "Test Clinic" in summary


def test_the_table_keeps_the_latest_rows_and_says_so(qtbot, gui_model, tmp_path: Path, monkeypatch) -> None:
    """An archive must not grow the window without bound: past TABLE_ROWS the oldest rows go, a note says where
    every file is, and results.csv still has them all."""
    monkeypatch.setattr(batch_dialog, "TABLE_ROWS", 3)
    folder, out_dir = tmp_path / "scans", tmp_path / "out"
    write_scans(folder, 5)
    dialog = make_dialog(qtbot, gui_model, folder, out_dir, workers=1)
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()

    names = [Path(row["file"]).name for row in read_rows(out_dir / "results.csv")]
    assert len(names) == 5
    assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == names[-3:]
    assert [item.path.name for item in dialog.items] == names[-3:]
    assert dialog.table_note.isVisible() and "last 3 of the 5 files" in dialog.table_note.text()

    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):  # run again: all 5 skipped, none shown
        dialog.start()
    assert dialog.table.rowCount() == 0 and not dialog.table_note.isVisible()


def test_cancel_starts_no_new_file_and_keeps_every_row_shown(
    qtbot, gui_model, scan_folder_30: Path, tmp_path: Path, monkeypatch
) -> None:
    out_dir = tmp_path / "out"
    started = []
    classify = gui_model.classify
    monkeypatch.setattr(gui_model, "classify", lambda image, **kw: started.append(1) or classify(image, **kw))
    workers = 2
    dialog = make_dialog(qtbot, gui_model, scan_folder_30, out_dir, pdf=True, workers=workers)
    dialog.itemShown.connect(lambda _item: len(dialog.items) == 5 and dialog.cancel_button.click())
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS) as finished:
        dialog.start()

    assert finished.args == [True]
    rows = read_rows(out_dir / "results.csv")
    shown = [str(item.path.resolve()) for item in dialog.items]
    print(f"\n{len(shown)} of 30 rows shown, {len(started)} files started")
    assert 5 <= len(shown) < 30
    assert shown == [row["file"] for row in rows]  # every row shown is on disk, and nothing else
    assert len(started) <= len(rows) + 2 * workers  # besides those recorded, only files already in flight ran
    assert "Cancelled" in dialog.progress_label.text()


@pytest.mark.parametrize("pdf", [True, False], ids=["pdf", "csv-only"])
def test_gui_stays_responsive_during_a_batch(qtbot, gui_model, scan_folder_30: Path, tmp_path: Path, pdf: bool) -> None:
    """The event loop keeps running while rows arrive: a 20 ms timer ticks between the first and the last row
    (a batch run in the GUI thread would let it tick once at most, after the rows)."""
    dialog = make_dialog(qtbot, gui_model, scan_folder_30, tmp_path / "out", pdf=pdf, workers=2)
    events: list[str] = []
    heartbeat = QTimer(interval=20)
    heartbeat.timeout.connect(lambda: events.append("tick"))
    dialog.itemShown.connect(lambda _item: events.append("row"))

    heartbeat.start()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()
    heartbeat.stop()

    assert len(dialog.items) == 30
    first_row, last_row = events.index("row"), len(events) - 1 - events[::-1].index("row")
    ticks_while_rows_came = events[first_row:last_row].count("tick")
    print(f"\n{ticks_while_rows_came} heartbeat ticks while the 30 rows came "
          f"(PDFs {'on' if pdf else 'off'}, 2 workers, {dialog.throughput:.1f} scans/s)")
    assert ticks_while_rows_came >= 5


def test_the_window_and_the_command_line_give_the_same_counts(qtbot, gui_model, tmp_path: Path, capsys) -> None:
    """A scan that cannot be read and a scan whose PDF cannot be written: the same counts in both front ends."""
    folder, out = tmp_path / "scans", tmp_path / "out"
    blocked, broken = write_batch_with_failures(folder, out)
    (tmp_path / "cli out" / f"{output_stem(blocked)}.pdf").mkdir(parents=True)  # the same report fails for the CLI
    assert main(["batch", str(folder), "--out", str(tmp_path / "cli out"), "--pdf"]) == 1
    cli_text = capsys.readouterr().out

    dialog = make_dialog(qtbot, gui_model, folder, out, pdf=True)
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()
    progress = dialog.batch_progress
    assert (progress.done, progress.failed, progress.report_failed) == (3, 1, 1)
    assert progress.tally().endswith(" 1 failed; 1 PDF report not written")
    assert f"Finished: {progress.tally()} in " in dialog.progress_label.text()
    assert f"Finished: {progress.tally()} in " in cli_text
    cells = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert cells[broken.name] == "Failed" and cells[blocked.name] != "Failed"  # classified; only its PDF is missing


def test_batch_menu_opens_the_dialog_on_the_last_folder(qtbot, main_window, tmp_path: Path) -> None:
    from dataclasses import replace

    main_window.settings = replace(main_window.settings, last_folder=str(tmp_path))
    main_window.acts.batch.trigger()
    dialog = main_window.batch_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.input_edit.text() == str(tmp_path)
    assert dialog.output_edit.text() == str(tmp_path / "ECG Desk results")
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_the_table_gives_each_state_its_own_row(qtbot, gui_model, real_scan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(real_scan, folder / "a real scan.jpg")
    write_image(folder / "b blank page.png", blank_page())
    write_image(folder / "c typed letter.png", text_page())
    write_corrupt(folder / "d corrupt.jpg")
    dialog = make_dialog(qtbot, gui_model, folder, tmp_path / "out")
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()

    assert "Finished: 1 classified, 2 not assessable by this model, 1 failed in" in dialog.progress_label.text()
    manifest, table = gui_model.manifest, dialog.table
    cells = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, table.columnCount())]
             for r in range(table.rowCount())}
    assert cells["a real scan.jpg"][0] == "Myocardial infarction" and all(cells["a real scan.jpg"][1:-1])
    for name, item in zip(("b blank page.png", "c typed letter.png"), list(dialog.items)[1:3]):
        result, *probabilities, notes = cells[name]
        assert result == NOT_ASSESSABLE and probabilities == [""] * len(manifest.classes), name
        assert notes == " | ".join(item.result.notes) and notes.startswith(item.result.reasons[0].message)
        assert not any(info.name in notes for info in manifest.classes)
    assert cells["d corrupt.jpg"][0] == "Failed" and "d corrupt.jpg" in cells["d corrupt.jpg"][-1]


def test_output_follows_the_scans_folder_unless_the_user_chose_it(qtbot, gui_model, tmp_path: Path, monkeypatch) -> None:
    from ecg_desktop.gui import batch_dialog

    first, second, mine = tmp_path / "first", tmp_path / "second", tmp_path / "mine"
    for folder in (first, second, mine):
        folder.mkdir()
    dialog = BatchDialog(gui_model, folder=str(first))
    qtbot.addWidget(dialog)
    assert dialog.output_edit.text() == str(first / batch_dialog.OUTPUT_SUBFOLDER)
    chosen = iter([str(second)])
    monkeypatch.setattr(batch_dialog.QFileDialog, "getExistingDirectory", lambda *args: next(chosen))
    dialog._choose_input()  # Browse… for the scans
    assert dialog.input_edit.text() == str(second)
    assert dialog.output_edit.text() == str(second / batch_dialog.OUTPUT_SUBFOLDER)  # not first's results.csv

    # typed in the scans field: the output follows too
    dialog.input_edit.clear()
    qtbot.keyClicks(dialog.input_edit, str(first))
    assert dialog.output_edit.text() == str(first / batch_dialog.OUTPUT_SUBFOLDER)

    # an output the user browsed stays when the scans folder changes
    chosen = iter([str(mine), str(second)])
    dialog._choose_output()
    dialog._choose_input()
    assert dialog.output_edit.text() == str(mine)

    # so does one the user typed
    dialog = BatchDialog(gui_model, folder=str(first))
    qtbot.addWidget(dialog)
    dialog.output_edit.clear()
    qtbot.keyClicks(dialog.output_edit, str(mine))
    chosen = iter([str(second)])
    dialog._choose_input()
    assert dialog.output_edit.text() == str(mine)


def test_summary_after_a_resume_covers_every_row_of_results_csv(qtbot, gui_model, tmp_path: Path) -> None:
    folder, out_dir = tmp_path / "scans", tmp_path / "out"
    first = write_scans(folder, 3)
    write_corrupt(folder / "broken.jpg")
    dialog = make_dialog(qtbot, gui_model, folder, out_dir, pdf=True)
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()
    later = [shutil.copy(first[0], folder / "later_a.jpg"), shutil.copy(first[1], folder / "later_b.jpg")]

    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()  # the resumed batch classifies only the two new scans
    assert [item.path.name for item in dialog.items] == ["later_a.jpg", "later_b.jpg"]
    rows = read_rows(out_dir / "results.csv")
    assert len(rows) == 6
    summary = pdf_text(out_dir / "summary.pdf")
    for name in ["broken.jpg", *(p.name for p in first), *(Path(p).name for p in later)]:
        assert name in summary, name
    assert "6" in summary.split("Total")[1][:40]  # the tally counts every row, not the last run's two


def test_pdfs_of_scans_still_running_at_cancel_are_not_left_unrecorded(
    qtbot, gui_model, scan_folder_30: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    dialog = make_dialog(qtbot, gui_model, scan_folder_30, out_dir, pdf=True, workers=2)
    dialog.itemShown.connect(lambda _item: len(dialog.items) == 3 and dialog.cancel_button.click())
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()

    def reports() -> set[str]:
        return {p.stem for p in out_dir.glob("*.pdf")} - {"summary"}

    recorded = {output_stem(Path(row["file"])) for row in read_rows(out_dir / "results.csv")}
    assert 3 <= len(recorded) < 30
    # the scans that were running when Cancel was pressed finish in the background: wait for the batch's threads
    qtbot.waitUntil(lambda: not any(t.name.startswith("ecg-batch") for t in threading.enumerate()), timeout=WAIT_MS)
    assert reports() == recorded, f"unrecorded PDFs left: {sorted(reports() - recorded)}"
