"""View ▸ Show Digitized Traces (overlay, remembered), the measurements panel and File ▸ Export Signals."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ecg_desktop.core import palette
from ecg_desktop.core.signals.digitize import LEADS
from ecg_desktop.core.signals.signal_reading import EXPORT_FILTERS
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import text_page
from tests.conftest import write_image

WAIT_MS = 60_000
HEART_RATE = 75


@pytest.fixture(scope="module")
def printout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-size rendered printout at a known heart rate."""
    path = tmp_path_factory.mktemp("printout") / "printout.png"
    return write_image(path, render_printout(kind="normal", heart_rate=HEART_RATE, seed=4))


def _open(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)


def _traces_on(qtbot, window):
    """Turn the toggle on and return the SignalsOutcome shown."""
    with qtbot.waitSignal(window.signalsShown, timeout=WAIT_MS) as shown:
        window.acts.traces.setChecked(True)
    return shown.args[0]


def _on_ink(window, share: float = 0.9) -> float:
    """The share of overlay points with dark trace ink within a pixel of them, on the page the viewer shows."""
    page = window.result.upright(window.scan.image)
    assert (page.shape[1], page.shape[0]) == window.viewer.image_size()
    dark = cv2.erode(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), np.ones((3, 3), np.uint8)) < 128  # min over 3x3
    points = np.concatenate([line.points for line in window.viewer.trace_item.lines])
    x = np.clip(np.round(points[:, 0]).astype(int), 0, page.shape[1] - 1)
    y = np.clip(np.round(points[:, 1]).astype(int), 0, page.shape[0] - 1)
    return float(dark[y, x].mean())


def _overlay_pixels(window) -> int:
    """Pixels of the viewer drawn in the traces' first colour."""
    image = window.viewer.viewport().grab().toImage()
    ptr = image.convertToFormat(image.Format.Format_RGB32).constBits()
    pixels = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width()]
    target = np.array([int(palette.TRACES[0][i : i + 2], 16) for i in (5, 3, 1)])  # BGR in memory
    return int((np.abs(pixels[..., :3].astype(int) - target).max(axis=2) < 40).sum())


def test_toggle_is_off_by_default_and_draws_the_traces_on_the_ink(qtbot, main_window, printout: Path) -> None:
    window = main_window
    assert not window.acts.traces.isChecked()
    _open(qtbot, window, printout)
    assert not window.viewer.trace_item.isVisible()
    before = _overlay_pixels(window)
    outcome = _traces_on(qtbot, window)
    assert outcome.reading.error is None
    lines = window.viewer.trace_item.lines
    assert window.viewer.trace_item.isVisible()
    assert {line.lead for line in lines} == set(LEADS)
    assert _on_ink(window) > 0.9
    assert _overlay_pixels(window) > before + 1000
    window.acts.traces.setChecked(False)
    assert not window.viewer.trace_item.isVisible()
    assert window.panel.measurements_caption.isHidden()


def test_overlay_follows_a_page_scanned_sideways(qtbot, main_window, tmp_path: Path) -> None:
    """The viewer shows the page upright: the traces are drawn on it, not on the file as it lies."""
    path = write_image(tmp_path / "sideways.png", np.ascontiguousarray(np.rot90(render_printout(seed=6))))
    _open(qtbot, main_window, path)
    assert main_window.viewer.image_size()[0] > main_window.viewer.image_size()[1]  # shown upright
    _traces_on(qtbot, main_window)
    assert _on_ink(main_window) > 0.9


def test_measurements_panel_shows_the_heart_rate_and_the_digitizers_warnings(
    qtbot, main_window, printout: Path
) -> None:
    _open(qtbot, main_window, printout)
    warnings = _traces_on(qtbot, main_window).reading.warnings
    panel = main_window.panel
    rate = panel.measurement_values["Heart rate"].text()
    assert rate.endswith(" bpm") and abs(int(rate.split()[0]) - HEART_RATE) <= 3, rate
    assert panel.measurement_values["QRS"].text().endswith(" ms")
    assert panel.measurements_grid.isVisible() and panel.measurements_note.isVisible()
    assert panel.measurements_status.isHidden()
    assert panel.measurements_warnings.isVisible() == bool(warnings)
    assert panel.measurements_warnings.text() == "\n".join(f"• {w}" for w in warnings)


def test_toggle_is_remembered_and_digitizes_a_scan_opened_with_it_on(
    qtbot, make_window, settings_store, printout: Path
) -> None:
    first = make_window(store=settings_store)
    first.acts.traces.setChecked(True)
    assert settings_store.load().show_traces
    second = make_window(store=settings_store)
    assert second.acts.traces.isChecked()
    with qtbot.waitSignal(second.signalsShown, timeout=WAIT_MS):
        second.open_path(printout)
    assert second.viewer.trace_item.isVisible()


def test_a_page_that_cannot_be_digitized_says_why_in_the_status_bar(qtbot, main_window, tmp_path: Path) -> None:
    _open(qtbot, main_window, write_image(tmp_path / "letter.png", text_page()))
    outcome = _traces_on(qtbot, main_window)
    assert outcome.reading.digitization is None
    message = main_window.statusBar().currentMessage()
    assert message == f"Signals could not be digitized: {outcome.reading.error}"
    assert main_window.panel.measurements_status.text() == message
    assert not main_window.viewer.trace_item.isVisible()
    assert main_window.findChild(QMessageBox) is None


def test_export_signals_writes_the_csv_contract(qtbot, main_window, printout: Path, tmp_path: Path) -> None:
    _open(qtbot, main_window, printout)  # the toggle is off: Export digitizes in its worker
    target = tmp_path / "out.csv"
    with qtbot.waitSignal(main_window.signalsExported, timeout=WAIT_MS) as exported:
        main_window.export_signals(target, "csv")
    assert exported.args[0] == [target]
    rows = target.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "time_s," + ",".join(f"{lead}_mV" for lead in LEADS)  # each column says its unit
    assert len(rows) == 5001 and rows[1].startswith("0.000,")


def test_export_dialog_chooses_wfdb_by_its_filter(
    qtbot, main_window, printout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open(qtbot, main_window, printout)
    _traces_on(qtbot, main_window)  # the reading shown is the one written
    chosen = (str(tmp_path / "my record"), EXPORT_FILTERS["wfdb"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: chosen)
    with qtbot.waitSignal(main_window.signalsExported, timeout=WAIT_MS) as exported:
        main_window.export_signals_dialog()
    assert exported.args[0] == [tmp_path / "my_record.hea", tmp_path / "my_record.dat"]
    header = (tmp_path / "my_record.hea").read_text(encoding="utf-8").splitlines()
    assert header[0].split()[:3] == ["my_record", "12", "500"]


def test_saved_report_holds_the_measurements_while_the_toggle_is_on(
    qtbot, main_window, printout: Path, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    def saved_text(path: Path) -> str:
        with qtbot.waitSignal(main_window.reportSaved, timeout=WAIT_MS):
            main_window.save_report(path)
        return " ".join(PdfReader(path).pages[0].extract_text().split())

    _open(qtbot, main_window, printout)
    assert "Measurements" not in saved_text(tmp_path / "off.pdf")
    _traces_on(qtbot, main_window)
    text = saved_text(tmp_path / "on.pdf")
    assert "Measurements (from the digitized traces)" in text
    assert main_window.panel.measurement_values["Heart rate"].text() in text
