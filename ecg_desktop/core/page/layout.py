"""Read the lead layout of an ECG printout, and tell when it (or the user's crop) is not what the model reads.

The model is valid only for one printout layout: 3 rows of 4 panels (2.5 s each) plus a 10 s rhythm
strip, a 1 mV calibration pulse at the left of each row, 25 mm/s and 10 mm/mV. This module finds the
horizontal bands of trace ink in the diagnostic region, counts the panels in each (panels are split by
long vertical separator lines or blank gaps), looks for calibration pulses, and, with a known grid
pitch, checks the panel width (2.5 s at 25 mm/s) and the pulse height (1 mV at 10 mm/mV) against the grid.
Measured on the 393 real scans: all read as supported, also in greyscale and re-compressed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox, components

SUPPORTED_TEXT = "3 rows of 4 leads plus a rhythm strip (25 mm/s, 10 mm/mV)"
SUPPORTED_PANELS = (4, 4, 4, 1)

_PAPER_WIDTH_MM = 281.0  # without a grid pitch, the image is taken to span a page this wide (the dataset's)
_WORK_PX_PER_MM = 2.0  # the ink mask is made at about this resolution
_INK_RATIO = 0.75  # darker than 75% of the local paper brightness is ink (grid lines, grey or coloured, are lighter)
_INSET_MM = 1.5  # the detected box sits on the grid's darker border: look just inside it
_RULE_SHARE = 0.6  # straight horizontal ink this long (share of the width) is a ruled line, not a (flat) trace
_MIN_TRACE_MM = (20.0, 1.5)  # a trace piece is at least this wide and tall (words, labels and dots are not)
_MIN_ROW_GAP_MM = 9.0  # two trace rows are at least this far apart
_ROW_DIP = 0.6  # and the row profile between them dips below this share of the lower peak
_MIN_COVER = 0.3  # a trace row covers at least this share of the region's width
_GAP_MM = 5.0  # a blank stretch this wide inside a row splits it into panels
_MIN_PANEL_MM = 20.0
_SEPARATOR_MM = 25.0  # a separator is a vertical line at least this long (and longer than a row's spacing)
_CROP_INK_LOSS = 0.03  # a crop that drops more than this share of the detected trace ink cuts leads

# Geometry of the supported printout in 5 mm grid squares, and the tolerated relative deviation.
_PANEL_SQUARES = 12.5  # 2.5 s at 25 mm/s
_PULSE_SQUARES = 2.0  # 1 mV at 10 mm/mV
_PITCH_TOLERANCE = 0.25


@dataclass(frozen=True)
class LayoutReading:
    """What the layout of a diagnostic region looks like, in numbers and in plain words."""

    trace_rows: int  # horizontal bands of trace ink found in the region
    panels_per_row: tuple[int, ...]  # panels found in each band (4, 4, 4, 1 for the supported layout)
    rhythm_strip: bool  # the last band is one continuous trace across the width
    calibration_pulses: int  # rectangular 1 mV pulses found at the rows' left ends
    row_spacing_px: float | None
    supported: bool  # 3 rows x 4 panels + rhythm strip (and speed/gain consistent with the grid, if known)
    description: str  # plain words for users


@dataclass(frozen=True)
class _Pulse:
    height_px: float


@dataclass(frozen=True)
class _Analysis:
    """Intermediate results of reading one region, in pixels of its ink mask, ``scale`` times smaller."""

    scale: int
    trace: np.ndarray  # uint8 mask of trace ink
    baselines: tuple[int, ...]
    extents: tuple[tuple[int, int], ...]  # first and last covered column of each band
    panels: tuple[int, ...]
    separators: tuple[float, ...]  # x of separators that cross at least one band
    pulses: tuple[_Pulse, ...]


def read_layout(image: np.ndarray, box: CropBox, grid_pitch_px: float | None = None) -> LayoutReading:
    """Read the layout inside ``box`` of a BGR uint8 analysis-size image.

    ``grid_pitch_px`` is the size of one 5 mm grid square in pixels, when known; it sets the scale and
    enables the speed/gain check. Without it the image is assumed to span a 281 mm wide page.
    """
    mm = _px_per_mm(image, grid_pitch_px)
    found = _analyse(image, box, mm)
    spacing = float(np.median(np.diff(found.baselines))) * found.scale if len(found.baselines) > 1 else None
    rhythm = _has_rhythm_strip(found)
    layout_ok = found.panels == SUPPORTED_PANELS and rhythm
    description = _describe(found.panels, rhythm)
    mismatch = _scale_mismatch(found, grid_pitch_px) if layout_ok and grid_pitch_px else None
    if mismatch:
        description = f"{description}, {mismatch}"
    return LayoutReading(
        trace_rows=len(found.baselines),
        panels_per_row=found.panels,
        rhythm_strip=rhythm,
        calibration_pulses=len(found.pulses),
        row_spacing_px=spacing,
        supported=layout_ok and mismatch is None,
        description=description,
    )


def layout_reasons(reading: LayoutReading) -> tuple[Reason, ...]:
    """No reasons for a supported layout; otherwise one ``unsupported_layout`` saying what was found."""
    if reading.supported:
        return ()
    return (
        Reason(
            "unsupported_layout",
            f"A grid was found, but {reading.description}; this model reads only {SUPPORTED_TEXT}.",
        ),
    )


def crop_reasons(image: np.ndarray, detected: CropBox, chosen: CropBox) -> tuple[Reason, ...]:
    """A ``crop_cuts_leads`` reason when the user's ``chosen`` box cuts off leads the ``detected`` box holds.

    A crop that only trims blank margin, or is equal or larger, gives no reason.
    """
    height, width = image.shape[:2]
    detected, chosen = detected.clamped(width, height), chosen.clamped(width, height)
    mm = _px_per_mm(image, None)
    found = _analyse(image, detected, mm)
    lost = _lost_parts(found, detected, chosen, mm)
    if not lost and found.panels == SUPPORTED_PANELS and _has_rhythm_strip(found):
        if not read_layout(image, chosen).supported:
            lost = ["part of the lead layout"]
    if not lost:
        return ()
    return (
        Reason(
            "crop_cuts_leads",
            f"The chosen crop cuts off {_join(lost)}, which the detected ECG region contains; "
            "widen the crop or reset it to the detected region.",
        ),
    )


def _px_per_mm(image: np.ndarray, grid_pitch_px: float | None) -> float:
    """Pixels per millimetre: from the grid pitch when known, else from the image width."""
    if grid_pitch_px:
        return grid_pitch_px / 5.0
    return image.shape[1] / _PAPER_WIDTH_MM


def _inset(box: CropBox, mm: float) -> CropBox:
    """``box`` shrunk by the border margin (kept at least a few pixels)."""
    pad = min(round(_INSET_MM * mm), max(0, (min(box.width, box.height) - 4) // 2))
    return CropBox(box.x0 + pad, box.y0 + pad, box.x1 - pad, box.y1 - pad)


def _ink_mask(region: np.ndarray, scale: int) -> np.ndarray:
    """Dark ink (255) relative to the local paper brightness, ``scale`` times smaller than ``region``.

    The darkest colour channel is min-pooled, so a thin trace keeps its darkest value.
    """
    channels = region.shape[2] if region.ndim == 3 else 1
    height, width = region.shape[0] // scale, region.shape[1] // scale
    flat = region[: height * scale, : width * scale].reshape(height * scale, width * scale * channels)
    darkest = cv2.erode(flat, np.ones((scale, scale * channels), np.uint8), anchor=(0, 0))
    gray = np.ascontiguousarray(darkest[::scale, :: scale * channels])
    small = cv2.resize(gray, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    paper = cv2.resize(cv2.dilate(small, np.ones((5, 5), np.uint8)), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.compare(gray, cv2.multiply(paper, _INK_RATIO), cv2.CMP_LT)


def _trace_mask(ink: np.ndarray, mm: float) -> np.ndarray:
    """Ink that belongs to traces: long ruled lines removed, only wide-and-tall connected pieces kept."""
    rule = max(3, round(_RULE_SHARE * ink.shape[1]))
    rows = np.flatnonzero(np.count_nonzero(ink, axis=1) >= rule)  # only these rows can hold a ruled line
    if rows.size:
        ink = ink.copy()
        ink[rows] = cv2.subtract(ink[rows], cv2.morphologyEx(ink[rows], cv2.MORPH_OPEN, np.ones((1, rule), np.uint8)))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    _, labels, stats, _ = components(closed)
    min_w, min_h = (value * mm for value in _MIN_TRACE_MM)
    keep = (stats[:, cv2.CC_STAT_WIDTH] >= min_w) & (stats[:, cv2.CC_STAT_HEIGHT] >= min_h)
    keep[0] = False
    return np.take(keep.astype(np.uint8) * 255, labels)


def _baselines(trace: np.ndarray, mm: float) -> tuple[int, ...]:
    """Rows where trace ink concentrates (each trace's baseline): separate peaks of the row profile.

    Neighbouring peaks closer than a minimum gap, or without a clear dip between them (a trace swinging
    between two levels, as in ventricular tachycardia), count as one; each row must be wide enough.
    """
    profile = (trace > 0).sum(axis=1).astype(np.float32)
    window = max(1, round(3 * mm)) | 1
    smooth = np.convolve(profile, np.ones(window, np.float32) / window, mode="same")
    if smooth.max() <= 0:
        return ()
    reach = max(1, round(_MIN_ROW_GAP_MM * mm))
    local_max = cv2.dilate(smooth.reshape(-1, 1), np.ones((2 * reach + 1, 1), np.uint8)).ravel()
    peaks: list[int] = []
    for y in np.flatnonzero((smooth == local_max) & (smooth >= 0.2 * smooth.max())):
        last = peaks[-1] if peaks else None
        if last is not None and (y - last <= reach or smooth[last:y].min() > _ROW_DIP * min(smooth[y], smooth[last])):
            if smooth[y] > smooth[last]:
                peaks[-1] = int(y)
            continue
        peaks.append(int(y))
    width = trace.shape[1]
    return tuple(y for y in peaks if _covered(trace, y, reach).sum() >= _MIN_COVER * width)


def _covered(trace: np.ndarray, y: int, half: int) -> np.ndarray:
    """Which columns have trace ink within ``half`` pixels of row ``y``."""
    return trace[max(0, y - half) : y + half + 1].any(axis=0)


def _separators(ink: np.ndarray, baselines: tuple[int, ...], mm: float) -> list[tuple[float, int, int]]:
    """Panel separators: the largest family of long vertical lines of one extent, as (x, top, bottom).

    Lines are longer than a row's spacing, so no single QRS complex passes. A separator may merge with a
    QRS complex at one end; simultaneous QRS complexes of neighbouring rows can chain into a vertical
    line too, but rarely with a separator's extent.
    """
    spacing = float(np.median(np.diff(baselines))) if len(baselines) > 1 else 0.0
    length = max(round(_SEPARATOR_MM * mm), round(1.3 * spacing))
    if length >= ink.shape[0]:
        return []
    kernel = np.ones((length, 1), np.uint8)
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    count, _, stats, centroids = components(lines)
    tops, heights = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_HEIGHT]
    found = [(float(centroids[i][0]), int(tops[i]), int(tops[i] + heights[i])) for i in range(1, count)]
    tol, merge = 3 * mm, 0.4 * spacing

    def same_extent(a: tuple[float, int, int], b: tuple[float, int, int]) -> bool:
        tops, bottoms = abs(a[1] - b[1]), abs(a[2] - b[2])
        return (tops <= tol and bottoms <= max(tol, merge)) or (bottoms <= tol and tops <= max(tol, merge))

    families = [[b for b in found if same_extent(a, b)] for a in found]
    return max(families, key=lambda f: (len(f), -sum(b[2] - b[1] for b in f)), default=[])


def _band_panels(cover: np.ndarray, cuts: list[float], mm: float) -> int:
    """Panels in one band: covered stretches split at separators and at blank gaps, each wide enough."""
    splits = np.zeros(cover.size, bool)
    splits[[min(cover.size - 1, max(0, round(x))) for x in cuts]] = True
    gap = max(1, round(_GAP_MM * mm))
    blank = cv2.erode((~cover).astype(np.uint8).reshape(1, -1), np.ones((1, gap), np.uint8)).ravel() > 0
    blank = cv2.dilate(blank.astype(np.uint8).reshape(1, -1), np.ones((1, gap), np.uint8)).ravel() > 0
    segment = np.cumsum(splits | np.r_[False, blank[1:] & ~blank[:-1]])
    widths = np.bincount(segment[cover & ~blank], minlength=segment[-1] + 1)
    return int((widths >= _MIN_PANEL_MM * mm).sum())


def _find_pulse(ink: np.ndarray, baseline: int, half: int, mm: float) -> _Pulse | None:
    """A rectangular calibration pulse rising from ``baseline`` near the left end of a band, if any."""
    top, left = max(0, baseline - 2 * half), ink[:, : max(1, ink.shape[1] // 8)]
    band = left[top : baseline + round(2 * mm)]
    strokes = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((max(3, round(5 * mm)), 1), np.uint8))
    count, _, stats, _ = components(strokes)
    edges = sorted((int(s[0]), int(s[1]), int(s[1] + s[3])) for s in stats[1:count])
    tol = max(2, round(1.5 * mm))
    for i, (xa, ya0, ya1) in enumerate(edges):
        for xb, yb0, yb1 in edges[i + 1 :]:
            if 1.2 * mm <= xb - xa <= 8 * mm and abs(ya0 - yb0) <= tol and abs(ya1 - yb1) <= tol:
                top_line = band[max(0, ya0 - 2) : ya0 + 3, xa : xb + 1].any(axis=0)
                if top_line.mean() >= 0.8:
                    return _Pulse(height_px=(ya1 - ya0 + yb1 - yb0) / 2 - 1)  # less the line's thickness
    return None


def _analyse(image: np.ndarray, box: CropBox, mm: float) -> _Analysis:
    """Find trace bands, panels, separators and pulses inside ``box`` (border margin excluded).

    Works on an ink mask min-pooled to about 2 pixels per millimetre (thin traces survive, 4x less work).
    """
    inner = _inset(box.clamped(image.shape[1], image.shape[0]), mm)
    scale = max(1, round(mm / _WORK_PX_PER_MM))
    ink = _ink_mask(image[inner.y0 : inner.y1, inner.x0 : inner.x1], scale)
    mm /= scale
    trace = _trace_mask(ink, mm)
    baselines = _baselines(trace, mm)
    spacing = float(np.median(np.diff(baselines))) if len(baselines) > 1 else 10 * mm
    half = max(2, round(min(spacing / 4, 10 * mm)))
    lines = _separators(ink, baselines, mm)
    reach = round(2 * mm)
    panels, extents, crossing = [], [], set()
    for y in baselines:
        cuts = [x for x, top, bottom in lines if top <= y - reach and bottom >= y + reach]
        crossing.update(cuts)
        cover = _covered(trace, y, half)
        columns = np.flatnonzero(cover)
        extents.append((int(columns[0]), int(columns[-1])))
        panels.append(_band_panels(cover, cuts, mm))
    pulses = tuple(p for p in (_find_pulse(ink, y, half, mm) for y in baselines) if p is not None)
    return _Analysis(scale, trace, baselines, tuple(extents), tuple(panels), tuple(sorted(crossing)), pulses)


def _has_rhythm_strip(found: _Analysis) -> bool:
    """The last band is a single panel spanning (nearly) as wide as the widest band."""
    if not found.panels or found.panels[-1] != 1:
        return False
    widest = max(last - first for first, last in found.extents)
    first, last = found.extents[-1]
    return last - first >= 0.85 * widest


def _describe(panels: tuple[int, ...], rhythm: bool) -> str:
    """The layout in plain words, e.g. 'a 6x2 layout (6 rows of 2 panels) without a rhythm strip'."""
    if not panels:
        return "no ECG trace was found on it"
    strips = len(panels) - len(tuple(p for p in panels if p > 1)) if rhythm else 0
    body = panels[: len(panels) - strips] if strips else panels
    if not body or set(body) == {1}:
        return "a single trace strip" if len(panels) == 1 else f"{len(panels)} rows of one continuous trace each"
    if len(set(body)) > 1:
        grid = f"{len(body)} rows with {', '.join(map(str, body))} panels"
    else:
        grid = f"a {len(body)}x{body[0]} layout ({len(body)} rows of {body[0]} panels)"
    if strips == 0:
        return f"{grid} without a rhythm strip"
    return f"{grid} plus {'a rhythm strip' if strips == 1 else f'{strips} rhythm strips'}"


def _scale_mismatch(found: _Analysis, grid_pitch_px: float) -> str | None:
    """Words for a panel width (paper speed) or pulse height (gain) that disagrees with the grid, else None."""
    problems = []
    grid_pitch_px /= found.scale
    if len(found.separators) >= 2:
        panel = float(np.median(np.diff(found.separators))) / grid_pitch_px
        if abs(panel / _PANEL_SQUARES - 1) > _PITCH_TOLERANCE:
            problems.append(f"panels {panel * 5:.0f} mm wide instead of 62.5 mm")
    if found.pulses:
        height = float(np.median([p.height_px for p in found.pulses])) / grid_pitch_px
        if abs(height / _PULSE_SQUARES - 1) > _PITCH_TOLERANCE:
            problems.append(f"printed at about {10 * height / _PULSE_SQUARES:.0f} mm/mV")
    return " and ".join(problems) if problems else None


def _lost_parts(found: _Analysis, detected: CropBox, chosen: CropBox, mm: float) -> list[str]:
    """What of the detected region's leads falls outside the chosen box (empty when nothing does)."""
    inner, k = _inset(detected, mm), found.scale
    ox, oy = inner.x0, inner.y0
    lost = []
    rows = len(found.baselines)
    for index, y in enumerate(found.baselines):
        if not chosen.y0 <= y * k + oy < chosen.y1:
            strip = index == rows - 1 and rows > 1 and found.panels[index] == 1
            lost.append("the rhythm strip" if strip else "the top lead row" if index == 0 else f"lead row {index + 1}")
    margin = 2 * mm
    if any(last * k + ox > chosen.x1 + margin for _, last in found.extents):
        lost.append("the right end of the traces")
    if any(first * k + ox < chosen.x0 - margin for first, _ in found.extents):
        lost.append("the left end of the traces")
    total = int(np.count_nonzero(found.trace))
    if not lost and total:
        x0, x1 = (max(0, (x - ox) // k) for x in (chosen.x0, chosen.x1))
        y0, y1 = (max(0, (y - oy) // k) for y in (chosen.y0, chosen.y1))
        kept = int(np.count_nonzero(found.trace[y0:y1, x0:x1]))
        if total - kept > _CROP_INK_LOSS * total:
            lost.append(f"{100 * (total - kept) / total:.0f}% of the trace ink")
    return lost


def _join(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
