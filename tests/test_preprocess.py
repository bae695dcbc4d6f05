"""One preprocessing path: the typed config, the warp used by augmentation, and the manifest check."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecg_desktop.core.classify.manifest import load_manifest
from ecg_desktop.core.classify.preprocess import PREPROCESSING, PreprocessConfig, preprocess
from ecg_desktop.core.errors import ModelError
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.resources import models_dir
from ecg_desktop.testing.synthetic import render_printout


def test_identity_warp_gives_exactly_the_inference_input(real_scan: Path) -> None:
    image = load_for_analysis(real_scan).pixels
    box = find_diagnostic_region(image).box
    assert np.array_equal(preprocess(image, box, warp=np.eye(3)), preprocess(image, box))


def test_a_warp_moves_the_input() -> None:
    page = render_printout(seed=1, width=1107, height=786)
    box = find_diagnostic_region(page).box
    shift = np.array([[1.0, 0, 15], [0, 1, 0], [0, 0, 1]])
    moved, plain = preprocess(page, box, warp=shift), preprocess(page, box)
    assert np.abs(moved - plain).mean() > 0.005
    # shifting the page 15 px right is seeing it from 15 px further left
    assert np.allclose(moved[:, :, 10:], plain[:, :, 7:-3], atol=0.5)


def test_ink_only_input_does_not_depend_on_grid_colour() -> None:
    pink = render_printout(seed=2, width=1107, height=786)
    blue = render_printout(seed=2, width=1107, height=786, grid_colour=(200, 120, 40))
    box = find_diagnostic_region(pink).box
    ink_only = replace(PREPROCESSING, input_style="ink_only")
    inner = (slice(None), slice(4, -4), slice(4, -4))  # the blue page's border line is dark, like ink
    same = np.abs(preprocess(pink, box, config=ink_only) - preprocess(blue, box, config=ink_only))[inner].mean()
    scan_style = np.abs(preprocess(pink, box) - preprocess(blue, box))[inner].mean()
    assert same < 0.003 and scan_style > 10 * same
    assert np.allclose(preprocess(pink, box, config=ink_only)[0], preprocess(pink, box, config=ink_only)[2])


def test_config_rejects_an_unknown_style() -> None:
    with pytest.raises(ValueError, match="input_style"):
        PreprocessConfig(input_style="fancy")


def test_manifest_records_the_config_the_app_uses() -> None:
    assert load_manifest(models_dir()).raw["preprocessing"] == PREPROCESSING.as_dict()


@pytest.mark.parametrize(("key", "value"), [("ink_ratio", 0.5), ("input_style", "ink_only"), ("analysis_min_side", 600)])
def test_a_model_trained_with_other_preprocessing_is_refused(tmp_path: Path, key: str, value: object) -> None:
    target = tmp_path / "models"
    shutil.copytree(models_dir(), target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["preprocessing"][key] = value
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=f"different image preprocessing.*{key}"):
        load_manifest(target)


def test_crop_box_outside_the_image_is_clamped() -> None:
    page = render_printout(seed=3, width=600, height=426)
    out = preprocess(page, CropBox(-50, -50, 10_000, 10_000))
    assert out.shape == (3, 227, 227) and np.isfinite(out).all()
