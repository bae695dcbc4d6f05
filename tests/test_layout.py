"""The layout check: only 3 rows of 4 leads plus a rhythm strip are read, and crops may not cut leads off."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ecg_desktop.core.classify.preprocess import reduce_for_analysis
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.page.geometry import find_page_transform
from ecg_desktop.core.page.layout import crop_reasons, layout_reasons, read_layout
from ecg_desktop.testing.synthetic import GRID_BOX_FRACTIONS, LEAD_NAMES, render_printout, synthesize_leads

# Test pages are drawn straight at the analysis size of a 200 dpi scan: 1107 x 786 pixels.
_W, _H = 1107, 786
_MM = _W / 281.1
_GRID = CropBox(*(round(f * s) for f, s in zip(GRID_BOX_FRACTIONS, (_W, _H, _W, _H))))
_ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_INK = (25, 25, 25)


def _grid_page() -> np.ndarray:
    """A white page with a pink 1 mm / 5 mm grid inside a darker pink border at ``_GRID``."""
    page = np.full((_H, _W, 3), (251, 252, 255), np.uint8)
    g = _GRID
    for i, x in enumerate(np.arange(g.x0, g.x1, _MM)):
        page[g.y0 : g.y1, round(x)] = (230, 228, 247) if i % 5 == 0 else (240, 240, 252)
    for i, y in enumerate(np.arange(g.y0, g.y1, _MM)):
        page[round(y), g.x0 : g.x1] = (230, 228, 247) if i % 5 == 0 else (240, 240, 252)
    cv2.rectangle(page, (g.x0, g.y0), (g.x1 - 1, g.y1 - 1), (172, 166, 240), 2)
    return page


def _polyline(page: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    pts = np.round(np.stack([xs, ys], axis=1) * 16).astype(np.int32)
    cv2.polylines(page, [pts], False, _INK, 1, cv2.LINE_AA, shift=4)


def _layout_page(
    rows: tuple[tuple[str, ...], ...], rhythm: tuple[str, ...] = (), *, gain: float = 10.0, seed: int = 0
) -> np.ndarray:
    """A printout with ``rows`` of panels (lead names), then one 10 s rhythm strip per name in ``rhythm``.

    Each row has a 1 mV calibration pulse at its left; panels share the 10 s across the row (25 mm/s)
    and are split by vertical separator lines spanning the panel rows, as the supported cart prints them.
    ``gain`` is in mm/mV.
    """
    fs, page = 500, _grid_page()
    leads = synthesize_leads(seconds=10.0, fs=fs, seed=seed)
    count = len(rows) + len(rhythm)
    spacing = (_GRID.height - 10 * _MM) / count
    baselines = [_GRID.y0 + 5 * _MM + spacing * (i + 0.6) for i in range(count)]
    lo, hi = _GRID.y0 + 3, _GRID.y1 - 3
    x0 = _GRID.x0 + 11 * _MM

    def trace(x: float, base: float, samples: np.ndarray) -> None:
        xs = x + np.arange(samples.size) * 25 * _MM / fs
        _polyline(page, xs, np.clip(base - samples * gain * _MM, lo, hi))

    for base in baselines:
        p = _GRID.x0 + 3 * _MM
        pulse = np.array([p, p + _MM, p + _MM, p + 3 * _MM, p + 3 * _MM, p + 4 * _MM])
        _polyline(page, pulse, base - np.array([0, 0, gain, gain, 0, 0]) * _MM)
    for base, names in zip(baselines, rows):
        seg = 10 * fs // len(names)
        for col, name in enumerate(names):
            trace(x0 + col * seg * 25 * _MM / fs, base, leads[name][col * seg : (col + 1) * seg])
            cv2.putText(page, name, (round(x0 + col * seg * 25 * _MM / fs) + 2, round(base - 4)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35, _INK, 1, cv2.LINE_AA)
    for base, name in zip(baselines[len(rows) :], rhythm):
        trace(x0, base, leads[name])
    if rows and len(rows[0]) > 1:
        top, bottom = round(baselines[0] - 6 * _MM), round(baselines[len(rows) - 1] + 5 * _MM)
        for col in range(1, len(rows[0])):
            x = round(x0 + col * 250 * _MM / len(rows[0]))
            cv2.line(page, (x, top), (x, bottom), _INK, 1)
    return page


def _text_page() -> np.ndarray:
    page = np.full((_H, _W, 3), 255, np.uint8)
    words = "Discharge letter: the patient was admitted with chest pain and discharged after three days."
    for line in range(24):
        cv2.putText(page, words, (40, 40 + 30 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (30, 30, 30), 1, cv2.LINE_AA)
    return page


def _read(image: np.ndarray, box: CropBox | None = None, pitch: float | None = None):
    return read_layout(image, box or find_diagnostic_region(image).box, pitch)


@pytest.mark.parametrize("kind", ["normal", "st_elevation", "irregular"])
def test_rendered_printouts_are_supported(kind: str) -> None:
    image = reduce_for_analysis(render_printout(kind=kind, seed=4))
    reading = _read(image)
    assert reading.supported, reading
    assert reading.panels_per_row == (4, 4, 4, 1) and reading.rhythm_strip and reading.calibration_pulses == 4
    assert reading.row_spacing_px == pytest.approx(38 * _MM, rel=0.05)
    assert layout_reasons(reading) == ()


def test_own_renderer_draws_the_supported_layout() -> None:
    """The page drawer below is trustworthy: with 3x4 + rhythm strip it reads as supported."""
    reading = _read(_layout_page(_ROWS_3X4, ("II",)), _GRID, 5 * _MM)
    assert reading.supported, reading


@pytest.mark.parametrize(
    ("page", "description"),
    [
        (lambda: _layout_page((("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))),
         "a 6x2 layout (6 rows of 2 panels) without a rhythm strip"),
        (lambda: _layout_page(tuple((name,) for name in LEAD_NAMES)), "12 rows of one continuous trace each"),
        (lambda: _layout_page(_ROWS_3X4), "a 3x4 layout (3 rows of 4 panels) without a rhythm strip"),
        (lambda: _layout_page(_ROWS_3X4, ("V1", "II", "V5")), "a 3x4 layout (3 rows of 4 panels) plus 3 rhythm strips"),
        (lambda: _layout_page((), ("II",)), "a single trace strip"),
        (_grid_page, "no ECG trace was found on it"),
    ],
    ids=["6x2", "12x1", "3x4-no-rhythm", "3x4-3-rhythm", "single-strip", "blank-grid"],
)
def test_other_layouts_are_rejected_with_what_was_found(page, description: str) -> None:
    reading = _read(page(), _GRID)
    assert not reading.supported
    assert reading.description == description
    (reason,) = layout_reasons(reading)
    assert reason.code == "unsupported_layout"
    assert reason.message.startswith(f"A grid was found, but {description};")
    assert "3 rows of 4 leads plus a rhythm strip" in reason.message


def test_text_page_is_rejected() -> None:
    """Dense text lines may read as rows of traces (the grid check reports such a page first), never as supported."""
    reading = _read(_text_page())
    assert not reading.supported
    assert layout_reasons(reading)[0].code == "unsupported_layout"


def test_gain_that_disagrees_with_the_grid_is_rejected() -> None:
    """At 5 mm/mV the 1 mV pulse is one grid square tall, not two: the amplitudes would be misread."""
    page = _layout_page(_ROWS_3X4, ("II",), gain=5.0)
    assert _read(page, _GRID).supported  # without a grid pitch the scale is not checked
    reading = _read(page, _GRID, 5 * _MM)
    assert not reading.supported and "printed at about 5 mm/mV" in reading.description


def test_panel_width_that_disagrees_with_the_grid_is_rejected() -> None:
    """A grid pitch 1.5x the printed one means the panels are not 2.5 s at 25 mm/s."""
    reading = _read(_layout_page(_ROWS_3X4, ("II",)), _GRID, 7.5 * _MM)
    assert not reading.supported and "mm wide instead of 62.5 mm" in reading.description


def _real_paths(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("*/*.jpg"))[::20]


def test_real_scans_are_supported(data_dir: Path) -> None:
    """About 20 real scans, also in greyscale and re-compressed: never withhold a diagnosis for the layout."""
    for path in _real_paths(data_dir):
        image = load_for_analysis(path).pixels
        box = find_diagnostic_region(image).box
        grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        jpeg = cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])[1], cv2.IMREAD_COLOR)
        for variant in (image, grey, jpeg):
            reading = read_layout(variant, box)
            assert reading.supported, (path.name, reading)
        assert read_layout(image, box, 5 * _MM).supported, path.name  # the grid pitch agrees with the layout


def test_skewed_real_scan_is_supported_once_deskewed(real_page) -> None:
    """A scan fed in 2 degrees askew is read as supported after the page geometry step straightens it."""
    image, _ = real_page
    height, width = image.shape[:2]
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((width / 2, height / 2), 2.0, 1.0), (width, height),
                            borderValue=(255, 255, 255))
    upright = find_page_transform(turned).apply(turned)
    assert _read(upright).supported


@pytest.fixture(scope="module")
def real_page(data_dir: Path) -> tuple[np.ndarray, CropBox]:
    image = load_for_analysis(data_dir / "mi" / "MI(1).jpg").pixels
    return image, find_diagnostic_region(image).box


def _cut(box: CropBox, *, top: float = 0, bottom: float = 0, right: float = 0, left: float = 0) -> CropBox:
    """``box`` with the given shares of its height/width removed from each side."""
    return CropBox(
        box.x0 + round(left * box.width), box.y0 + round(top * box.height),
        box.x1 - round(right * box.width), box.y1 - round(bottom * box.height),
    )


@pytest.mark.parametrize(
    ("cut", "words"),
    [
        ({"top": 0.2}, "the top lead row"),
        ({"bottom": 0.2}, "the rhythm strip"),
        ({"right": 0.25}, "the right end of the traces"),
        ({"left": 0.3}, "the left end of the traces"),
    ],
)
def test_crop_that_cuts_leads_is_reported(real_page, cut: dict[str, float], words: str) -> None:
    image, detected = real_page
    (reason,) = crop_reasons(image, detected, _cut(detected, **cut))
    assert reason.code == "crop_cuts_leads" and words in reason.message


def test_crop_that_cuts_leads_on_a_rendered_printout() -> None:
    image = reduce_for_analysis(render_printout(seed=5))
    detected = find_diagnostic_region(image).box
    assert crop_reasons(image, detected, _cut(detected, top=0.2))[0].code == "crop_cuts_leads"
    assert crop_reasons(image, detected, _cut(detected, right=0.25))[0].code == "crop_cuts_leads"


def test_crop_that_trims_margin_or_grows_is_fine(real_page) -> None:
    image, detected = real_page
    trimmed = CropBox(detected.x0 + 4, detected.y0 + 4, detected.x1 - 4, detected.y1 - 4)
    larger = CropBox(detected.x0 - 20, detected.y0 - 20, detected.x1 + 20, detected.y1 + 10)
    for chosen in (detected, trimmed, larger, CropBox.full(image)):
        assert crop_reasons(image, detected, chosen) == (), chosen
