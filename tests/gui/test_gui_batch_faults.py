"""Issue 24 through the window: Batch ▸ Process Folder gets the core's guarantees (one writer per output folder,
nothing written over), with no code of its own for them."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import write_scans
from PySide6.QtWidgets import QMessageBox

from ecg_desktop.core.outputs import one_writer
from ecg_desktop.gui.batch_dialog import BatchDialog

WAIT_MS = 60_000


def _dialog(qtbot, model, folder: Path, out_dir: Path) -> BatchDialog:
    dialog = BatchDialog(model, workers=1, folder=str(folder))
    qtbot.addWidget(dialog)
    dialog.output_edit.setText(str(out_dir))
    dialog.pdf_check.setChecked(True)
    dialog.show()
    return dialog


def _error_text(qtbot, dialog: BatchDialog) -> str:
    qtbot.waitUntil(lambda: dialog.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    box = dialog.findChild(QMessageBox, "errorDialog")
    text = box.text()
    box.close()
    return text


def test_a_second_batch_into_a_busy_folder_is_refused_in_the_window(qtbot, gui_model, tmp_path: Path) -> None:
    folder, out_dir = tmp_path / "scans", tmp_path / "out"
    write_scans(folder, 2)
    out_dir.mkdir()
    dialog = _dialog(qtbot, gui_model, folder, out_dir)
    with one_writer(out_dir), qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):  # another batch writes there
        dialog.start()
    assert "Another ECG Desk run is writing into" in _error_text(qtbot, dialog)
    assert not (out_dir / "results.csv").exists()
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):  # once it has finished, the same batch runs
        dialog.start()
    assert len((out_dir / "results.csv").read_text().splitlines()) == 3


def test_the_window_never_writes_over_a_summary_pdf_it_did_not_write(qtbot, gui_model, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    write_scans(folder, 1)
    cart = folder / "summary.pdf"
    cart.write_bytes(b"%PDF-1.4 a cart's own summary")
    dialog = _dialog(qtbot, gui_model, folder, folder)  # results into the scans' own folder
    with qtbot.waitSignal(dialog.batchFinished, timeout=WAIT_MS):
        dialog.start()
    assert "summary.pdf: already exists and was not written by ECG Desk" in _error_text(qtbot, dialog)
    assert cart.read_bytes() == b"%PDF-1.4 a cart's own summary"
