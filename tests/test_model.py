"""Inference through the bundled models, and refusal of missing or altered model files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecg_desktop.core import CropBox, EcgModel, ModelError, load_image
from ecg_desktop.core.classify.manifest import load_manifest
from ecg_desktop.core.classify.model import OOD_REASON
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.outcome import NOT_ASSESSABLE
from ecg_desktop.core.page.reasons import NO_GRID_REASON
from ecg_desktop.core.resources import models_dir
from ecg_desktop.testing.synthetic import KINDS, render_printout
from tests.bad_inputs import blank_page, noise_page, text_page
from tests.conftest import copy_models


def test_manifest_describes_the_four_classes_and_verifies() -> None:
    manifest = load_manifest(models_dir())
    assert manifest.class_ids == ["normal", "abnormal_heartbeat", "mi", "history_of_mi"]
    assert manifest.display_name("mi") == "Myocardial infarction"
    assert manifest.input_size == 227
    assert set(manifest.thresholds) == set(manifest.class_ids)


def test_classification_of_a_real_scan(model: EcgModel, real_scan: Path) -> None:
    result = model.classify_file(real_scan)
    assert set(result.probabilities) == set(model.manifest.class_ids)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.label == max(result.probabilities, key=result.probabilities.get)
    assert result.crop.y0 > 200 and result.crop.y1 < 1540  # header and footer cropped away
    assert all(result.probabilities[f] >= model.manifest.thresholds[f] for f in result.findings)


def test_manual_crop_overrides_and_changes_the_input(model: EcgModel, real_scan: Path) -> None:
    image = load_image(real_scan)
    auto = model.classify(image)
    box = CropBox(0, 0, 900, 700)
    manual = model.classify(image, crop=box)
    assert manual.crop == box
    assert manual.probabilities != auto.probabilities


def test_crops_are_in_full_size_pixels_whatever_copy_is_classified(model: EcgModel, real_scan: Path) -> None:
    scan = load_for_analysis(real_scan)
    from_file = model.classify_file(real_scan)
    assert from_file == model.classify(scan.pixels, image_size=scan.file_size)
    assert from_file.image_size == (2213, 1572) and from_file.crop.x1 > 2000  # full-size pixels
    full = model.classify(load_image(real_scan))  # reduced inside, by area averaging instead of the decoder
    assert full.label == from_file.label
    assert max(abs(full.probabilities[c] - p) for c, p in from_file.probabilities.items()) < 0.1
    assert all(abs(a - b) <= 6 for a, b in zip(full.crop.as_list(), from_file.crop.as_list()))  # 512-px grid search
    box = CropBox(100, 202, 1900, 1402)
    manual = model.classify(scan.pixels, crop=box, image_size=scan.file_size)
    assert manual.crop == box and manual.crop_in(scan.pixels) == CropBox(50, 101, 950, 701)


def test_page_without_grid_is_not_assessable(model: EcgModel) -> None:
    page = np.full((800, 1100, 3), 255, np.uint8)
    result = model.classify(page)
    assert not result.assessable and result.label is None and result.findings == ()
    assert [r.code for r in result.reasons] == ["not_an_ecg", "no_grid"]  # most fundamental first
    assert NO_GRID_REASON in result.reasons and NO_GRID_REASON.message.startswith("No ECG grid was found")
    assert not result.warnings  # reasons are not warnings


def test_a_classification_is_either_a_diagnosis_or_has_reasons(model: EcgModel, real_scan: Path) -> None:
    scan = model.classify_file(real_scan)
    assert scan.assessable and scan.label == scan.model_output_label and scan.top_probability > 0.5
    assert scan.diagnostic_probabilities == scan.probabilities and scan.model_outputs_not_a_diagnosis is None
    assert scan.headline(model.manifest) == scan.verdict(model.manifest) == model.manifest.display_name(scan.label)
    page = model.classify(np.full((800, 1100, 3), 255, np.uint8))
    assert page.diagnostic_probabilities is None and page.top_probability is None and not page.low_confidence
    assert page.model_outputs_not_a_diagnosis == page.probabilities  # kept for research, never the answer
    assert page.model_output_label in model.manifest.class_ids
    assert page.headline(model.manifest) == NOT_ASSESSABLE
    assert page.verdict(model.manifest) == f"{NOT_ASSESSABLE} — {page.reasons[0].message} {page.reasons[1].message}"
    with pytest.raises(ValueError, match="no label"):
        replace(page, label="mi")
    with pytest.raises(ValueError, match="has a label"):
        replace(scan, label=None)


def test_batch_inference_matches_single(model: EcgModel, real_scan: Path) -> None:
    from ecg_desktop.core.classify.preprocess import preprocess

    image = load_image(real_scan)
    box = model.classify(image).crop
    one = preprocess(image, box)[None]
    batch = np.concatenate([one, one[:, :, ::-1].copy(), one])
    probs = model.probabilities(batch)
    assert probs.shape == (3, 4)
    assert np.allclose(probs[0], model.probabilities(one)[0], atol=1e-6)
    assert np.allclose(probs[0], probs[2], atol=1e-6)


def test_altered_model_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "models"
    copy_models(target)
    with (target / "lightgbm.txt").open("a") as stream:
        stream.write("\n")
    with pytest.raises(ModelError, match="altered"):
        EcgModel.load(target)


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "models"
    copy_models(target)
    (target / "cnn.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        EcgModel.load(target)


def test_missing_or_broken_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="manifest is missing"):
        EcgModel.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        EcgModel.load(tmp_path)
    target = tmp_path / "copy" / "models"
    copy_models(target)
    manifest = json.loads((target / "manifest.json").read_text())
    del manifest["classes"]
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="incomplete"):
        EcgModel.load(target)


def test_images_unlike_the_training_printouts_get_no_diagnosis(model: EcgModel) -> None:
    """Printouts of the training layout that no check was fitted on pass every check; a blank page, a grey card,
    noise and a typed letter are not assessable.

    The printouts are rendered (ecg_desktop.testing.synthetic; training never fits on renders). A dataset scan
    would prove little here: the ink range, the layout fingerprint and the CNN-feature distribution were all
    fitted on it, and the CNN was trained on it.
    """
    for kind in KINDS:
        printout = model.classify(render_printout(kind=kind, seed=11))
        assert printout.assessable and printout.reasons == (), kind
        assert len(printout.warnings) == int(printout.low_confidence), kind  # a low-confidence answer, nothing else
        assert printout.ood_distance is not None and not printout.out_of_distribution
    rng = np.random.default_rng(0)
    pages = {"not_an_ecg": (np.full((1000, 1400, 3), 255, np.uint8), np.full((1000, 1400, 3), 128, np.uint8),
                            rng.integers(0, 256, (1000, 1400, 3), dtype=np.uint8), blank_page(), noise_page()),
             "no_grid": (text_page(),)}
    for code, images in pages.items():
        for image in images:
            result = model.classify(image)
            assert not result.assessable and result.label is None and result.findings == ()
            assert code in [r.code for r in result.reasons] and result.out_of_distribution
            assert not any("Low confidence" in w for w in result.warnings)


def test_real_scans_held_out_of_the_fit_rarely_trip_the_layout_check() -> None:
    """The real-scan side of the check, measured honestly by training: each scan's distance was taken to a
    distribution (and threshold) fitted without its fold; every training scan was counted, and about 1% (the
    99th-percentile threshold's intent), at most 3%, were flagged."""
    manifest = load_manifest(models_dir()).raw
    cross_fitted = manifest["applicability"]["layout_fingerprint"]
    assert cross_fitted["real_scans"] == manifest["training_data"]["files"]
    assert cross_fitted["false_alarms"] / cross_fitted["real_scans"] <= 0.03


def test_feature_distance_check_flags_far_scans(model: EcgModel, real_scan: Path, monkeypatch) -> None:
    from ecg_desktop.core.classify.ood import FeatureDistribution

    strict = FeatureDistribution(model._distribution.mean, model._distribution.precision, 0.0)
    monkeypatch.setattr(model, "_distribution", strict)
    result = model.classify_file(real_scan)
    assert result.out_of_distribution and result.label is None
    assert result.reasons == (OOD_REASON,) and "unlike the ECG printouts" in OOD_REASON.message


def test_a_turned_page_is_read_upright_and_shown_upright(model: EcgModel, real_scan: Path, tmp_path: Path) -> None:
    from tests.conftest import write_image

    upright = model.classify_file(real_scan)
    turned_file = write_image(tmp_path / "portrait.png", np.ascontiguousarray(np.rot90(load_image(real_scan), 1)))
    turned = model.classify_file(turned_file)
    assert turned.assessable and turned.label == upright.label
    assert turned.page_transform.quarter_turns == 3 and turned.image_size == (2213, 1572)
    assert all(abs(a - b) <= 8 for a, b in zip(turned.crop.as_list(), upright.crop.as_list()))
    reduced = load_for_analysis(turned_file).pixels  # any copy of the file turns upright the same way
    assert np.array_equal(turned.upright(reduced), np.rot90(reduced, 3))
    assert upright.upright(reduced) is reduced  # an upright scan is never touched


def test_a_low_confidence_warning_shows_the_probability_as_the_window_does() -> None:
    from ecg_desktop.core.classify.model import LOW_CONFIDENCE_WARNING
    from ecg_desktop.core.outcome import format_percent

    assert "39.4 %" in LOW_CONFIDENCE_WARNING.format(format_percent(0.394)) and format_percent(0.394) == "39.4 %"
