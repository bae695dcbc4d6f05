"""Measurements a heart cannot show are not shown: each is None with a note saying which and why (issue 25)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecg_desktop.core.signals.measure import Measurements, plausible
from ecg_desktop.core.signals.measurement_text import NOT_MEASURED, measurement_lines
from ecg_desktop.core.signals.signal_reading import SignalReading

#: heart rate 75 bpm (RR 800 ms), PR 160, QRS 90, QT 380, QTc 425, axis 60: a normal ECG's values
NORMAL = Measurements(75.0, 800.0, 160.0, 90.0, 380.0, 424.8, 60.0)


def test_plausible_values_pass_unchanged() -> None:
    assert plausible(NORMAL) == NORMAL


@pytest.mark.parametrize(("qt", "rr", "qtc"), [
    (490.0, 548.0, 662.0),  # the scan: the T wave's end taken from the next beat
    (396.0, 386.0, 637.0),  # QT longer than the beat
    (420.0, 1000.0, 788.0),  # a QTc no heart shows (as the issue reports)
    (106.0, 851.0, 115.0),  # a QT far too short (a real scan's misreading)
])
def test_an_implausible_qt_hides_qt_and_qtc_with_a_note(qt: float, rr: float, qtc: float) -> None:
    checked = plausible(replace(NORMAL, rr_ms=rr, heart_rate_bpm=60000 / rr, qt_ms=qt, qtc_ms=qtc))
    assert checked.qt_ms is None and checked.qtc_ms is None
    assert checked.pr_ms == NORMAL.pr_ms and checked.qrs_ms == NORMAL.qrs_ms and checked.rr_ms == rr
    assert len(checked.notes) == 1 and checked.notes[0].startswith(f"QT {qt:.0f} ms at RR {rr:.0f} ms")
    assert dict(measurement_lines(checked))["QT"] == NOT_MEASURED


@pytest.mark.parametrize(("field", "label", "value"), [("qrs_ms", "QRS", -18.0), ("qrs_ms", "QRS", 260.0),
                                                       ("pr_ms", "PR", 30.0), ("pr_ms", "PR", 520.0)])
def test_a_qrs_or_pr_out_of_range_is_not_shown(field: str, label: str, value: float) -> None:
    checked = plausible(replace(NORMAL, **{field: value}))
    assert getattr(checked, field) is None and checked.qt_ms == NORMAL.qt_ms
    bounds = "40-200" if label == "QRS" else "60-400"
    assert checked.notes == (f"{label} {value:.0f} ms is outside {bounds} ms: not shown; read it on the printout.",)


def test_a_heart_rate_no_heart_has_shows_nothing() -> None:
    checked = plausible(replace(NORMAL, heart_rate_bpm=420.0, rr_ms=143.0))
    assert all(value is None for value in checked.as_dict().values())
    assert checked.notes[0].startswith("Heart rate 420 bpm is outside 20-300 bpm")


def test_the_notes_reach_every_front_end_with_the_digitizers_warnings() -> None:
    checked = plausible(replace(NORMAL, qt_ms=700.0, qtc_ms=782.0))
    reading = SignalReading(None, checked)
    assert reading.warnings == checked.notes  # the window's warnings, the report's and the measurement line's
    assert "notes" not in checked.as_dict() and checked.as_dict()["qt_ms"] is None
