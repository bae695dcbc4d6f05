"""Process Folder closed while a batch runs: it asks, then keeps running in the background or stops; the output
folder and the PDF option are remembered; the table names scans by their path below the scans folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import render_scan, write_scans
from test_gui_batch import WAIT_MS, make_dialog, read_rows

from ecg_desktop.gui import batch_dialog


def answer(monkeypatch: pytest.MonkeyPatch, choice: str) -> list[str]:
    """Make the close question answer ``choice``; returns the progress texts it was asked with."""
    asked: list[str] = []

    def ask(parent, progress: str, *, quitting: bool = False) -> str:
        asked.append(progress)
        return choice

    monkeypatch.setattr(batch_dialog, "ask_close_while_running", ask)
    return asked


def test_closing_a_running_batch_asks_and_stop_stops_it(
    qtbot, gui_model, scan_folder_30: Path, tmp_path: Path, monkeypatch
) -> None:
    asked = answer(monkeypatch, batch_dialog.STOP)
    dialog = make_dialog(qtbot, gui_model, scan_folder_30, tmp_path / "out", pdf=True)
    with qtbot.waitSignal(dialog.itemShown, timeout=WAIT_MS):
        dialog.start()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS) as finished:
        dialog.close()  # the window's close button
        assert dialog.isVisible()  # still open until the worker has stopped
    assert len(asked) == 1 and "/ 30" in asked[0]  # the question says how far the batch is
    assert finished.args == [True]
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert len(read_rows(tmp_path / "out" / "results.csv")) == len(dialog.items) < 30


def test_closing_a_running_batch_can_leave_it_running_in_the_background(
    qtbot, gui_model, tmp_path: Path, monkeypatch
) -> None:
    answer(monkeypatch, batch_dialog.KEEP_RUNNING)
    folder = tmp_path / "scans"
    write_scans(folder, 8)
    dialog = make_dialog(qtbot, gui_model, folder, tmp_path / "out", workers=1)
    with qtbot.waitSignal(dialog.itemShown, timeout=WAIT_MS):
        dialog.start()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS) as finished:
        dialog.close()
        assert not dialog.isVisible() and dialog.running  # hidden, still working
    assert finished.args == [False]  # it ran to the end
    assert len(read_rows(tmp_path / "out" / "results.csv")) == 8


def test_cancel_in_the_question_keeps_the_dialog_and_the_batch(
    qtbot, gui_model, scan_folder_30: Path, tmp_path: Path, monkeypatch
) -> None:
    answer(monkeypatch, batch_dialog.STAY)
    dialog = make_dialog(qtbot, gui_model, scan_folder_30, tmp_path / "out")
    with qtbot.waitSignal(dialog.itemShown, timeout=WAIT_MS):
        dialog.start()
    dialog.close()
    assert dialog.isVisible() and dialog.running and dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.cancel()


def test_output_folder_and_pdf_option_are_remembered(qtbot, main_window, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "my results"
    (folder / "ward 3").mkdir(parents=True)
    render_scan(folder / "ward 3" / "scan.png")
    main_window.open_batch(folder=folder)
    dialog = main_window.batch_dialog
    dialog.output_edit.setText(str(out))
    dialog.output_explicit = True  # as typing or Browse does
    dialog.pdf_check.setChecked(True)
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()
    assert dialog.table.item(0, 0).text() == "ward 3/scan.png"  # the subfolder shows, not only the base name
    dialog.close_button.click()
    stored = main_window.store.load()
    assert stored.batch_output == str(out) and stored.batch_pdf
    main_window.batch_dialog = None
    main_window.open_batch(folder=folder)  # reopened: a new dialog with the remembered choices
    again = main_window.batch_dialog
    assert again.output_edit.text() == str(out) and again.pdf_check.isChecked()
    again.close_button.click()


def test_a_batch_in_the_background_says_when_it_ends_and_quitting_asks(
    qtbot, main_window, scan_folder_30: Path, tmp_path: Path, monkeypatch
) -> None:
    asked: list[bool] = []
    answers = iter([batch_dialog.KEEP_RUNNING, batch_dialog.STAY, batch_dialog.STOP])

    def ask(parent, progress: str, *, quitting: bool = False) -> str:
        asked.append(quitting)
        return next(answers)

    monkeypatch.setattr(batch_dialog, "ask_close_while_running", ask)
    main_window.open_batch(folder=scan_folder_30)
    dialog = main_window.batch_dialog
    dialog.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(dialog.itemShown, timeout=WAIT_MS):
        dialog.start()
    dialog.close()  # keep running in the background
    assert not dialog.isVisible() and dialog.running
    main_window.close()  # quitting asks; Cancel keeps the app and the batch
    assert main_window.isVisible() and dialog.running
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        main_window.close()  # Stop and Quit
    assert asked == [False, True, True] and not main_window.isVisible()
    assert main_window.statusBar().currentMessage().startswith("Process Folder: Cancelled")
