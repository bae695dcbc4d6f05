"""The words around a result (core.classify.result_text): the headline and the findings agree, a low-confidence
answer says so, and a page that is not assessable is never called classified."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from ecg_desktop.core.classify.manifest import Manifest, load_manifest
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.classify.result_text import (
    CLASSIFIED_REGION,
    EXAMINED_REGION,
    findings_text,
    other_findings_text,
    region_name,
    report_region_sentence,
    status_line,
)
from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.reports.report_pdf import write_report
from ecg_desktop.core.resources import models_dir


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(models_dir())


def answer(probabilities: dict[str, float], findings: tuple[str, ...], *, low: bool = False) -> Classification:
    label = max(probabilities, key=probabilities.__getitem__)
    return Classification(label, probabilities, findings, CropBox(10, 20, 900, 700), (), low, image_size=(1000, 760))


def not_assessable() -> Classification:
    return Classification(None, {"normal": 0.4, "abnormal_heartbeat": 0.2, "mi": 0.2, "history_of_mi": 0.2}, (),
                          CropBox(0, 0, 1000, 760), (), False, reasons=(Reason("no_grid", "No ECG grid was found."),),
                          image_size=(1000, 760))


UNSURE = {"normal": 0.48, "abnormal_heartbeat": 0.3, "mi": 0.1, "history_of_mi": 0.12}  # nothing over its threshold


def test_a_headline_without_findings_says_why(manifest: Manifest) -> None:
    result = answer(UNSURE, (), low=True)
    text = findings_text(result, manifest)
    assert text != "None" and "No class reached its finding threshold" in text and "Normal" in text
    assert other_findings_text(result, manifest).startswith("Findings: No class reached")
    assert status_line(result, manifest) == "Normal (48.0 %, low confidence)."


def test_findings_over_their_thresholds_are_listed(manifest: Manifest) -> None:
    result = answer({"normal": 0.05, "abnormal_heartbeat": 0.05, "mi": 0.6, "history_of_mi": 0.3}, ("mi", "history_of_mi"))
    assert findings_text(result, manifest) == "Myocardial infarction, History of MI"
    assert other_findings_text(result, manifest) == "Other findings: History of MI"
    assert status_line(result, manifest) == "Myocardial infarction (60.0 %)."


def test_a_page_not_assessable_is_the_region_examined(manifest: Manifest) -> None:
    result = not_assessable()
    assert region_name(result) == EXAMINED_REGION and region_name(None) == CLASSIFIED_REGION
    assert findings_text(result, manifest) == "–"
    sentence = report_region_sentence(result, (1000, 760))
    assert "examined" in sentence and "that was classified" not in sentence
    assert "that was classified" in report_region_sentence(answer(UNSURE, ()), (1000, 760))


def test_reports_use_the_same_words(tmp_path: Path, manifest: Manifest) -> None:
    image = np.full((760, 1000, 3), 230, np.uint8)
    texts = {}
    for name, result in (("unsure", answer(UNSURE, (), low=True)), ("page", not_assessable())):
        out = write_report(tmp_path / f"{name}.pdf", image=image, result=result, manifest=manifest, source_name="s.png")
        texts[name] = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "Findings: No class reached its finding threshold; Normal is shown" in texts["unsure"]
    assert "the region examined (it was not classified)" in texts["page"]
    assert "that was classified" not in texts["page"]
