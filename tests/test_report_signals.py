"""The PDF report's digitized-signals block: measurements and the redrawn leads, or why there are none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from ecg_desktop.core.classify.manifest import Manifest, load_manifest
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.reports.report_pdf import write_report
from ecg_desktop.core.resources import models_dir
from ecg_desktop.core.signals.digitize import LEADS
from ecg_desktop.core.signals.measure import NONE, Measurements
from ecg_desktop.core.signals.measurement_text import measurement_lines
from ecg_desktop.core.signals.signal_reading import SignalReading, read_signals
from ecg_desktop.testing.synthetic import render_printout


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(models_dir())


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return render_printout(kind="normal", heart_rate=80, seed=9)


@pytest.fixture(scope="module")
def reading(page: np.ndarray) -> SignalReading:
    return read_signals(page)


def _result(manifest: Manifest, page: np.ndarray) -> Classification:
    top = manifest.class_ids[0]
    probabilities = {c: (0.9 if c == top else 0.1 / (len(manifest.class_ids) - 1)) for c in manifest.class_ids}
    return Classification(label=top, probabilities=probabilities, findings=(top,), crop=CropBox(64, 282, 2179, 1522),
                          warnings=(), low_confidence=False, image_size=(page.shape[1], page.shape[0]))


def _text(path: Path) -> tuple[str, int]:
    reader = PdfReader(path)
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split()), len(reader.pages)


def test_measurement_lines_say_dash_where_not_measurable() -> None:
    values = Measurements(72.4, 829.0, None, 88.0, 352.0, np.float64(386.6), -12.3)
    assert measurement_lines(values) == (
        ("Heart rate", "72 bpm"), ("RR", "829 ms"), ("PR", "—"), ("QRS", "88 ms"), ("QT", "352 ms"),
        ("QTc", "387 ms"), ("Axis", "-12°"),
    )
    assert all(value == "—" for _, value in measurement_lines(NONE))


def test_report_shows_the_measurements_and_the_twelve_leads(
    tmp_path: Path, manifest: Manifest, page: np.ndarray, reading: SignalReading
) -> None:
    assert reading.error is None and reading.measurements.heart_rate_bpm is not None
    out = write_report(tmp_path / "r.pdf", image=page, result=_result(manifest, page), manifest=manifest,
                       source_name="printout.png", signals=reading)
    text, pages = _text(out)
    assert pages == 1
    assert "Measurements (from the digitized traces)" in text
    for label, value in measurement_lines(reading.measurements):
        assert label in text and value in text, (label, value)
    assert "bpm" in text and "not a validated measurement program" in text
    assert all(f" {lead} " in f" {text} " for lead in LEADS if lead not in ("I", "II", "III"))  # panel labels
    assert "The 12 leads redrawn from the digitized signals" in text


def test_report_says_why_the_signals_could_not_be_digitized(
    tmp_path: Path, manifest: Manifest, page: np.ndarray
) -> None:
    reason = "No ECG grid was found, so there are no traces to digitize."
    out = write_report(tmp_path / "r.pdf", image=page, result=_result(manifest, page), manifest=manifest,
                       source_name="printout.png", signals=SignalReading(None, NONE, reason))
    text, pages = _text(out)
    assert pages == 1
    assert f"Signals could not be digitized: {reason}" in text
    assert "Heart rate" not in text and "redrawn" not in text


def test_report_without_signals_has_no_measurements(tmp_path: Path, manifest: Manifest, page: np.ndarray) -> None:
    out = write_report(tmp_path / "r.pdf", image=page, result=_result(manifest, page), manifest=manifest,
                       source_name="printout.png")
    text, _ = _text(out)
    assert "Measurements" not in text and "digitized" not in text
