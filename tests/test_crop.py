"""The automatic diagnostic-region crop and the shared preprocessing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.image_io import load_image
from ecg_desktop.core.preprocess import INPUT_SIZE, preprocess


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
