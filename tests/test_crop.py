"""The automatic diagnostic-region crop and the shared preprocessing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ecg_desktop.core.classify.preprocess import INPUT_SIZE, preprocess
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region


def test_real_scans_crop_to_the_grid_without_header_or_footer(data_dir: Path) -> None:
    """On every tenth real scan the box is the pink grid: header (y < 250) and footer (y > 1530) excluded."""
    for path in sorted(data_dir.glob("*/*.jpg"))[::10]:
        found = find_diagnostic_region(load_image(path))
        assert found.grid_found, path
        box = found.box
        assert 240 <= box.y0 <= 300 and 1500 <= box.y1 <= 1530, (path, box)
        assert 50 <= box.x0 <= 80 and 2160 <= box.x1 <= 2190, (path, box)


def test_crop_scales_with_resolution(real_scan: Path) -> None:
    full = load_image(real_scan)
    half = cv2.resize(full, (full.shape[1] // 2, full.shape[0] // 2), interpolation=cv2.INTER_AREA)
    big, small = find_diagnostic_region(full).box, find_diagnostic_region(half).box
    assert np.allclose(np.array(small.as_list()) * 2, big.as_list(), atol=8)


def test_page_without_grid_falls_back_to_whole_image() -> None:
    page = np.full((800, 1100, 3), 255, np.uint8)
    cv2.putText(page, "not an ECG", (100, 400), cv2.FONT_HERSHEY_SIMPLEX, 3, (0, 0, 0), 5)
    found = find_diagnostic_region(page)
    assert not found.grid_found and found.box == CropBox(0, 0, 1100, 800)


def test_box_clamping() -> None:
    assert CropBox(-5, -5, 5000, 5000).clamped(100, 50) == CropBox(0, 0, 100, 50)
    assert CropBox(60, 10, 40, 5).clamped(100, 50) == CropBox(60, 10, 61, 11)


def test_preprocess_shape_range_and_channel_order() -> None:
    image = np.zeros((400, 600, 3), np.uint8)
    image[:, :, 2] = 255  # pure red in BGR
    out = preprocess(image, CropBox(100, 50, 500, 350))
    assert out.shape == (3, INPUT_SIZE, INPUT_SIZE) and out.dtype == np.float32
    assert np.allclose(out[0], 1.0) and np.allclose(out[1:], 0.0)  # RGB order


def test_preprocess_uses_only_the_box() -> None:
    image = np.full((400, 600, 3), 255, np.uint8)
    image[:, :300] = 0
    assert np.allclose(preprocess(image, CropBox(300, 0, 600, 400)), 1.0)
    assert np.allclose(preprocess(image, CropBox(0, 0, 300, 400)), 0.0)


def test_ink_emphasis_keeps_traces_and_drops_grid_dots() -> None:
    page = np.full((1240, 2110, 3), 250, np.uint8)
    page[::8, ::8] = (120, 110, 200)  # single-pixel grid dots, darker than the ink threshold
    dots_only = preprocess(page, CropBox(0, 0, 2110, 1240))
    assert dots_only.min() > 0.7  # no dot became a dark speck
    cv2.line(page, (0, 620), (2110, 620), (20, 20, 20), 3)  # a 3-pixel trace, as printed at 200 dpi
    with_trace = preprocess(page, CropBox(0, 0, 2110, 1240))
    row = with_trace[:, INPUT_SIZE // 2 - 2 : INPUT_SIZE // 2 + 3].min(axis=(0, 1))
    assert row.max() < 0.3  # the trace stays dark across the whole width after a 9x downscale


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def test_grid_of_any_colour_is_found_with_its_pitch(real_scan: Path) -> None:
    """Grey, blue and green versions of a real scan: same grid, 5 mm square ~19.7 px at the analysis size."""
    from ecg_desktop.core.loading.image_io import load_for_analysis

    scan = load_for_analysis(real_scan).pixels
    reference = find_diagnostic_region(scan).box
    for image in (scan, _grey(scan), scan[:, :, ::-1].copy(), scan[:, :, [0, 2, 1]].copy()):
        found = find_diagnostic_region(image)
        assert found.grid_found and found.grid_pitch_px is not None
        assert abs(found.grid_pitch_px - 19.7) < 0.05 * 19.7
    assert np.allclose(find_diagnostic_region(_grey(scan)).box.as_list(), reference.as_list(), atol=6)


def test_noise_and_grey_card_have_no_grid() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (786, 1107, 3), dtype=np.uint8)
    assert not find_diagnostic_region(noise).grid_found
    assert not find_diagnostic_region(np.full((786, 1107, 3), 128, np.uint8)).grid_found
