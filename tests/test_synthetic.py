"""Tests for the synthetic ECG signal and printout renderer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_desktop.core.crop import find_diagnostic_region
from ecg_desktop.testing.synthetic import GRID_BOX_FRACTIONS, KINDS, LEAD_NAMES, render_printout, synthesize_leads

STANDARD_LEADS = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}
SIZES = [(2213, 1572), (1106, 786)]


@pytest.fixture(scope="module")
def printouts() -> dict[tuple[int, int], np.ndarray]:
    return {(w, h): render_printout(width=w, height=h) for w, h in SIZES}


def _grid_box(width: int, height: int) -> tuple[int, int, int, int]:
    fx0, fy0, fx1, fy1 = GRID_BOX_FRACTIONS
    return round(fx0 * width), round(fy0 * height), round(fx1 * width), round(fy1 * height)


@pytest.mark.parametrize("kind", KINDS)
def test_leads_have_standard_names_and_length(kind: str) -> None:
    leads = synthesize_leads(kind=kind, seconds=10.0, fs=500)
    assert set(leads) == STANDARD_LEADS == set(LEAD_NAMES)
    for signal in leads.values():
        assert signal.shape == (5000,)
        assert np.all(np.isfinite(signal))
        assert 0.15 < np.ptp(signal) < 5.0  # mV: a visible QRS (aVL is small), nothing absurd
    assert synthesize_leads(seconds=2.5, fs=250)["V1"].shape == (625,)


def test_leads_are_physiologically_plausible() -> None:
    leads = synthesize_leads(kind="normal")
    assert np.median(leads["II"]) < np.max(leads["II"]) - 0.7  # upright R waves in II
    assert np.min(leads["aVR"]) < -0.5 < np.max(leads["aVR"])  # aVR mostly negative
    assert abs(np.min(leads["V1"])) > np.max(leads["V1"])  # V1 mostly negative QRS
    assert np.max(leads["V5"]) > np.max(leads["V1"]) + 0.5  # R-wave progression
    np.testing.assert_allclose(leads["III"], leads["II"] - leads["I"], atol=0.2)  # Einthoven, up to noise


def test_leads_are_deterministic_and_seed_dependent() -> None:
    a, b = synthesize_leads(seed=5), synthesize_leads(seed=5)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    assert not np.array_equal(a["II"], synthesize_leads(seed=6)["II"])


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        synthesize_leads(kind="bogus")
    with pytest.raises(ValueError):
        synthesize_leads(heart_rate=0)
    with pytest.raises(ValueError):
        render_printout(width=50, height=30)


def test_printout_shape_and_type(printouts: dict[tuple[int, int], np.ndarray]) -> None:
    for (width, height), image in printouts.items():
        assert image.shape == (height, width, 3)
        assert image.dtype == np.uint8


def test_printout_is_deterministic_for_a_seed() -> None:
    a = render_printout(kind="irregular", seed=3, width=1106, height=786)
    b = render_printout(kind="irregular", seed=3, width=1106, height=786)
    assert np.array_equal(a, b)


def test_seeds_and_kinds_give_different_images() -> None:
    images = [render_printout(kind=kind, seed=seed, width=1106, height=786) for kind in KINDS for seed in (0, 1)]
    for i, first in enumerate(images):
        for second in images[i + 1:]:
            assert not np.array_equal(first, second)


@pytest.mark.parametrize("size", SIZES)
def test_automatic_crop_finds_the_grid(printouts: dict[tuple[int, int], np.ndarray], size: tuple[int, int]) -> None:
    width, height = size
    result = find_diagnostic_region(printouts[size])
    assert result.grid_found
    expected = _grid_box(width, height)
    tolerances = (width, height, width, height)
    for found, want, extent in zip(result.box.as_list(), expected, tolerances):
        assert abs(found - want) <= 0.01 * extent, (result.box, expected)


def test_blank_page_has_no_grid() -> None:
    page = np.full((1572, 2213, 3), 255, np.uint8)
    assert not find_diagnostic_region(page).grid_found


@pytest.mark.parametrize("size", SIZES)
def test_traces_are_inside_the_grid(printouts: dict[tuple[int, int], np.ndarray], size: tuple[int, int]) -> None:
    width, height = size
    dark = printouts[size].min(axis=2) < 100
    x0, y0, x1, y1 = _grid_box(width, height)
    inside = dark[y0:y1, x0:x1]
    assert inside.mean() > 0.005  # 12 leads, rhythm strip, calibration pulses, separators
    for centre in (0.146, 0.390, 0.635, 0.879):  # baselines of the 3 lead rows and the rhythm strip
        band = inside[round((centre - 0.05) * (y1 - y0)):round((centre + 0.05) * (y1 - y0))]
        assert band.any(axis=0).mean() > 0.85  # each row's trace spans (nearly) the whole width
    margin = max(2, round(0.004 * width))
    assert not dark[y0:y1, : x0 - margin].any()  # left margin
    assert not dark[y0:y1, x1 + margin:].any()  # right margin
    assert not dark[y1 + margin: y1 + round(0.008 * height)].any()  # gap above the footer text
    assert dark[:y0].any() and dark[y1:].any()  # header and footer text


def test_default_printout_matches_the_bundled_sample() -> None:
    """The new keyword options leave the default EDAN page byte-identical (resources/make_samples.py)."""
    cv2 = pytest.importorskip("cv2")
    path = Path(__file__).resolve().parent.parent / "resources" / "samples" / "sample_normal.png"
    rendered = render_printout(kind="normal", heart_rate=72, seed=1, patient_id="100001",
                               date_text="2026-01-01  09:12:40 AM")
    assert np.array_equal(cv2.imread(str(path)), rendered)


@pytest.mark.parametrize("option", [{"layout": "6x2"}, {"grid_colour": (245, 222, 205)}, {"dot_grid": True},
                                    {"header": "other"}, {"speed_mm_s": 50}, {"gain_mm_mv": 5}, {"traces": False}])
def test_each_option_changes_the_page(option: dict[str, object]) -> None:
    default = render_printout(width=1106, height=786)
    changed = render_printout(width=1106, height=786, **option)
    assert changed.shape == default.shape and changed.dtype == np.uint8
    assert not np.array_equal(changed, default)


def test_traces_false_leaves_the_grid_empty() -> None:
    image = render_printout(width=1106, height=786, traces=False)
    x0, y0, x1, y1 = _grid_box(1106, 786)
    assert not (image[y0 + 4:y1 - 4, x0 + 4:x1 - 4].min(axis=2) < 100).any()


def test_invalid_printout_options_are_rejected() -> None:
    for option in ({"layout": "4x3"}, {"header": "ge"}, {"speed_mm_s": 0}, {"gain_mm_mv": -5}):
        with pytest.raises(ValueError):
            render_printout(width=1106, height=786, **option)
