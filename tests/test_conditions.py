"""Tests for the acquisition conditions and the negative families (training/conditions.py, training/negatives.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_desktop.testing.synthetic import GRID_BOX_FRACTIONS, LAYOUTS, render_printout
from training.conditions import CONDITIONS, apply_condition
from training.negatives import HEIGHT, NEGATIVE_FAMILIES, WIDTH

CONDITION_NAMES = ["clean", "grey", "photocopy", "upside_down", "portrait", "askew_4deg", "blue_grid", "dpi_100",
                   "phone_photo"]
FAMILY_NAMES = ["layout_6x2", "layout_12x1", "layout_3x4_no_rhythm", "layout_3x4_3rhythm", "other_cart_header",
                "speed_50mm_s", "not_ecg_text_page", "not_ecg_photo", "blank_grid"]


@pytest.fixture(scope="module")
def scan() -> np.ndarray:
    """A synthetic printout at the analysis size standing in for a scan."""
    return render_printout(kind="st_elevation", seed=4, width=1106, height=786)


def test_condition_names_and_order() -> None:
    assert list(CONDITIONS) == CONDITION_NAMES
    assert list(NEGATIVE_FAMILIES) == FAMILY_NAMES


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_condition_size_type_and_determinism(scan: np.ndarray, name: str) -> None:
    before = scan.copy()
    out = apply_condition(name, scan, seed=3)
    assert np.array_equal(scan, before)  # the input is never modified
    h, w = scan.shape[:2]
    expected = {"portrait": (w, h), "dpi_100": (h // 2, w // 2)}.get(name, (h, w))
    assert out.shape == (*expected, 3) and out.dtype == np.uint8
    assert np.array_equal(out, apply_condition(name, scan, seed=3))
    assert out is not scan


def test_clean_is_identity_and_simple_conditions_are_exact(scan: np.ndarray) -> None:
    assert np.array_equal(apply_condition("clean", scan, 0), scan)
    assert np.array_equal(apply_condition("upside_down", scan, 0), scan[::-1, ::-1])
    portraits = {apply_condition("portrait", scan, seed).tobytes() for seed in range(6)}
    assert portraits <= {np.rot90(scan, k).tobytes() for k in (1, 3)}
    for name in ("grey", "photocopy"):
        out = apply_condition(name, scan, 0).astype(int)
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


@pytest.mark.parametrize("name", ["photocopy", "askew_4deg", "phone_photo"])
def test_random_conditions_depend_on_the_seed(scan: np.ndarray, name: str) -> None:
    outputs = {apply_condition(name, scan, seed).tobytes() for seed in range(4)}
    assert len(outputs) > 1


def test_blue_grid_recolours_grid_and_keeps_ink(scan: np.ndarray) -> None:
    out = apply_condition("blue_grid", scan, 0).astype(int)
    src = scan.astype(int)
    ink = src.max(axis=2) < 90
    assert np.array_equal(out[ink], src[ink])
    pinkish = src[..., 2] > src[..., 0] + 5
    assert pinkish.mean() > 0.02 and (out[..., 2] > out[..., 0] + 5).mean() < 0.1 * pinkish.mean()
    assert (out[..., 0] > out[..., 2] + 5).mean() > 0.9 * pinkish.mean()


def test_phone_photo_shows_a_darker_background(scan: np.ndarray) -> None:
    out = apply_condition("phone_photo", scan, 1)
    border = np.concatenate([out[:5].reshape(-1, 3), out[-5:].reshape(-1, 3)])
    assert border.mean() < 150 < out[out.shape[0] // 2, out.shape[1] // 3].mean()


def test_unknown_condition_and_bad_image_are_rejected(scan: np.ndarray) -> None:
    with pytest.raises(ValueError):
        apply_condition("fax", scan, 0)
    with pytest.raises(ValueError):
        apply_condition("grey", scan[..., 0], 0)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_negative_family_is_a_deterministic_bgr_page(name: str) -> None:
    page = NEGATIVE_FAMILIES[name](5)
    assert page.shape == (HEIGHT, WIDTH, 3) and page.dtype == np.uint8
    assert np.array_equal(page, NEGATIVE_FAMILIES[name](5))
    assert page.std() > 5  # something is drawn


def _trace_rows(image: np.ndarray) -> int:
    """Horizontal ink bands in the grid: runs of rows where ink near the row spans most of the trace width."""
    h, w = image.shape[:2]
    _fx0, fy0, _fx1, fy1 = GRID_BOX_FRACTIONS
    x0, x1 = round(0.09 * w), round(0.95 * w)  # right of the calibration pulses, left of the border
    dark = image[round(fy0 * h):round(fy1 * h), x0:x1].min(axis=2) < 100
    win = max(2, round(0.0025 * h))
    near = np.stack([dark[max(0, y - win):y + win + 1].any(axis=0).mean() for y in range(dark.shape[0])])
    wide = np.concatenate([[False], near > 0.6, [False]])
    return int(np.count_nonzero(np.diff(wide.astype(int)) == 1))


@pytest.mark.parametrize(("layout", "rows"), [("3x4+1", 4), ("3x4", 3), ("3x4+3", 6), ("6x2", 6), ("12x1", 12)])
def test_layouts_draw_the_expected_trace_rows(layout: str, rows: int) -> None:
    assert len(LAYOUTS[layout]) == rows
    image = render_printout(layout=layout, seed=2, width=1106, height=786, gain_mm_mv=5 if rows == 12 else 10)
    assert _trace_rows(image) == rows
