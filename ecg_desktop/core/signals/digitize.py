"""Digitize the traces of a 3x4 ECG printout with rhythm strips, of any cart, into 12 signals in mV at 500 Hz.

API (Qt-free; everything a front end needs to show or export a digitization)::

    dig = digitize(image)                # BGR uint8 scan, full size; raises DigitizeError when it cannot
    dig = digitize(image, box)           # box: CropBox in full-size pixels of the upright page (a user's crop)
    dig = digitize(small, image_size=(w, h))  # a reduced copy of a w x h file: coarser, same coordinates
    dig = digitize(image, reading=page)  # the page reading already made of this scan (a classification's)
    dig = digitize_reading(page)         # the same, in the reading's own analysis-size copy (the model's input)
    dig.signals()                        # (5000, 12) float32 mV, columns LEADS, NaN where a lead is not printed
    dig.lead("V1")                       # one column of it
    dig.time_s                           # (5000,) sample times, 0 to 10 s
    dig.rhythm_lead                      # the first rhythm strip's lead ("II" on most pages)
    dig.strips                           # every rhythm strip (three on a 3x4+3 page: often V1, II, V5)
    for panel in dig.panels:             # 12 lead panels (rows 0-2, columns 0-3), then the rhythm strips
        panel.lead, panel.row, panel.column
        panel.times_s, panel.values_mv   # its samples (NaN where no trace was found)
        panel.pixels                     # (n, 2) x, y of each sample on the full-size upright page (overlay)
        panel.baseline_y                 # y of its 0 mV line on that page
    dig.page_transform                   # core.page.geometry.PageTransform: file pixels -> upright page pixels
    dig.crop, dig.x0, dig.px_per_s, dig.px_per_mv   # region and scales on the upright page
    dig.warnings                         # sentences: what was assumed or could not be read

The page reading (core.page.reading) says where the rows are, where their 10 s begin, their 0 mV lines
and the scales; this module follows each panel's trace (core.signals.trace) in the full-size ink and
names each strip's lead (core.signals.rhythm). Time 0 is the left end of the first column of panels and
of the rhythm strips; panels in column c hold c * 2.5 s to (c + 1) * 2.5 s, simultaneous across rows and
with the strips. A strip's lead is filled over the full 10 s from the strip. A GUI draws ``panel.pixels``
over ``reading.upright(image, dig.page_transform, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.geometry import PageTransform
from ecg_desktop.core.page.ink import InkMap, ink_map
from ecg_desktop.core.page.known_layouts import KnownLayout
from ecg_desktop.core.page.layout import PageLayout, line_centre, time_axis
from ecg_desktop.core.page.reading import PageReading, read_page, upright
from ecg_desktop.core.signals.rhythm import identify_rhythm_lead
from ecg_desktop.core.signals.trace import InkRuns, PanelTrace, trace_line

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
COLUMNS = 4
PANEL_S = 2.5  # seconds per panel of a 3x4 row
FS = 500
DURATION_S = COLUMNS * PANEL_S
_HOLD_MM = 1.0  # a trace's last found level is held this far past its ends (separator margins)
_MAX_GAP_MM = 2.0  # a break in the trace longer than this is left empty (NaN), shorter ones are bridged
_MIN_TRACED = 0.5  # a panel with less of its width traced than this is reported
_ALIGN_MM = 6.0  # rows beginning this close to the time axis's start begin there (as core.page.layout)
_LABEL_MM = (8.0, 4.5)  # a lead label stands at most this far right of a panel's start and above its baseline


class DigitizeError(EcgDeskError):
    """The scan cannot be digitized; ``str(error)`` says why in a sentence."""


@dataclass(frozen=True, eq=False)
class Digitization:
    """The 12-lead signals read from a printout and how they were read (see the module docstring)."""

    panels: tuple[PanelTrace, ...]
    rhythm_lead: str
    page_transform: PageTransform
    source_size: tuple[int, int]  # (width, height) of the file
    crop: CropBox  # the region read, full-size upright page pixels
    x0: float  # x of time 0 on the upright page
    px_per_s: float
    px_per_mv: float
    warnings: tuple[str, ...]
    fs: int = FS

    @property
    def time_s(self) -> np.ndarray:
        """The output sample times: 0 to 10 s at ``fs``."""
        return np.arange(round(DURATION_S * self.fs)) / self.fs

    @property
    def rhythm(self) -> PanelTrace:
        """The (first) rhythm strip."""
        return self.strips[0]

    @property
    def strips(self) -> tuple[PanelTrace, ...]:
        """Every rhythm strip (one on a 3x4+1 page, three on a 3x4+3 page): the panels holding all 10 s."""
        return tuple(panel for panel in self.panels if panel.values_mv.size >= round(DURATION_S * panel.fs))

    def lead(self, name: str) -> np.ndarray:
        """Lead ``name`` over 10 s (float32 mV, NaN where it is not printed); the rhythm lead from its strip."""
        if name not in LEADS:
            raise ValueError(f"unknown lead {name!r}; expected one of {LEADS}")
        out = np.full(round(DURATION_S * self.fs), np.nan, np.float32)
        strips = [strip for strip in self.strips if strip.lead == name]
        source = strips[0] if strips else next(p for p in self.panels if p.lead == name)
        first = round(source.start_s * self.fs)
        out[first : first + source.values_mv.size] = source.values_mv[: out.size - first]
        return out

    def signals(self) -> np.ndarray:
        """All 12 leads, (samples, 12) in :data:`LEADS` order."""
        return np.stack([self.lead(name) for name in LEADS], axis=1)


def digitize(image: np.ndarray, box: CropBox | None = None, *, image_size: tuple[int, int] | None = None,
             reading: PageReading | None = None) -> Digitization:
    """Digitize a BGR uint8 scan of a 3x4 printout with rhythm strips (see the module docstring for the result).

    ``box`` replaces the automatic diagnostic region (full-size upright page pixels); ``reading`` is the page
    reading already made of this image and box (a classification's), read here when None. Raises
    :class:`DigitizeError` when the page has no 3x4 layout with a rhythm strip to read.
    """
    reading = reading or read_page(image, image_size=image_size, crop=box)
    return _digitize(upright(image, reading.page_transform, reading.source_size), reading)


def digitize_reading(reading: PageReading) -> Digitization:
    """Digitize a page from its reading alone, in the upright analysis-size copy the reading keeps: coarser than
    the full-size file (the model's signal branch reads it so, as its image branch does), no second decode."""
    return _digitize(reading.work, reading)


def _digitize(page: np.ndarray, reading: PageReading) -> Digitization:
    """Digitize ``page``, the upright page of ``reading`` at any size."""
    layout = reading.layout
    if not layout.rows:
        raise DigitizeError("No ECG traces were found on this page, so there is nothing to digitize.")
    if layout.known is None or not layout.known.digitized:
        raise DigitizeError(f"Found {layout.description}; the digitizer reads 3x4 layouts with a rhythm strip.")
    if not layout.standard_speed:
        raise DigitizeError(f"Found {layout.description} ({' and '.join(layout.scale_problems())}); the digitizer "
                            "reads printouts at 25 mm/s.")
    factor = page.shape[1] / reading.work.shape[1]  # this image's pixels per analysis-copy pixel
    region = reading.box.scaled(factor, factor).clamped(page.shape[1], page.shape[0])
    ink = ink_map(page[region.y0 : region.y1, region.x0 : region.x1], ratio=reading.ink.ratio)
    geometry = PrintGeometry.of(layout, factor, (reading.box.x0 * factor - region.x0, reading.box.y0 * factor - region.y0),
                                ink)
    warnings = _scale_warnings(layout, reading.grid is not None)
    runs = InkRuns.of(ink)  # the runs of ink every panel is traced in, found once
    leads, strips = _trace_panels(runs, geometry, layout.known)
    for panel in (*leads, *strips):
        traced = np.count_nonzero(~np.isnan(panel.values_mv)) / panel.values_mv.size
        if traced < _MIN_TRACED:
            where = f"the rhythm strip in row {panel.row + 1}" if panel in strips else f"lead {panel.lead}"
            warnings.append(f"Only {100 * traced:.0f}% of {where} could be traced.")
    named = []
    for strip, usual in zip(strips, layout.known.rhythm_leads):
        lead, notes = identify_rhythm_lead(runs, geometry.starts[strip.row], geometry.baselines[strip.row],
                                           geometry.px_per_mm, leads, strip, usual)
        warnings += notes
        named.append(_renamed(strip, lead))
    to_page = _PagePixels(region.x0, region.y0, factor / reading.page_scale)
    return Digitization(
        panels=tuple(to_page.panel(p) for p in (*leads, *named)), rhythm_lead=named[0].lead,
        page_transform=reading.page_transform, source_size=reading.source_size, crop=reading.crop,
        x0=to_page.x(geometry.starts[0]), px_per_s=geometry.px_per_s / to_page.factor,
        px_per_mv=geometry.px_per_mv / to_page.factor, warnings=tuple(warnings),
    )


def _scale_warnings(layout: PageLayout, grid: bool) -> list[str]:
    """What the digitizer had to assume about the page's scales (``grid``: whether an ECG grid was measured)."""
    found = sum(row.pulse is not None for row in layout.rows)
    warnings = []
    if not grid:
        time = "the panel marks" if layout.time_marks else "the rows' 10 s width"
        volts = "the calibration pulses" if found else "10 mm/mV on a page taken to be A4 (check amplitudes)"
        warnings.append(f"No ECG grid was measured: the time scale comes from {time}, the voltage scale from {volts}.")
    elif not found:
        warnings.append("No calibration pulse was found: the voltage scale assumes 10 mm/mV on the grid.")
    if 0 < found < len(layout.rows):
        warnings.append(f"Calibration pulses were found for {found} of {len(layout.rows)} rows: the 0 mV line of the "
                        "others is taken from where their trace ink is densest.")
    return warnings


@dataclass(frozen=True)
class PrintGeometry:
    """The page reading's rows and scales, in pixels of the ink map the traces are followed in."""

    starts: tuple[float, ...]  # x of time 0 of each row
    baselines: tuple[float, ...]  # y of each row's 0 mV line
    px_per_s: float
    px_per_mv: float
    px_per_mm: float
    margin: float  # columns left out on each side of a marked panel boundary (a separator or a tick)

    @classmethod
    def of(cls, layout: PageLayout, factor: float, offset: tuple[float, float], ink: InkMap) -> PrintGeometry:
        """``layout`` (analysis-copy region pixels) in the pixels of ``ink``, ``factor`` times finer and shifted by
        ``offset``: the printed lines the reading measured (pulses' foot and top, boundary marks) are measured
        again there, where they are ``factor`` times sharper; the layout itself is not read again."""
        def x(value: float) -> float:
            return (value + 0.5) * factor - 0.5 + offset[0]

        def y(value: float) -> float:
            return (value + 0.5) * factor - 0.5 + offset[1]

        mm = layout.px_per_mm[0] * factor
        baselines, heights = [], []
        for row in layout.rows:
            pulse = row.pulse
            foot = top = None
            if pulse is not None:
                foot = line_centre(ink, y(pulse.foot), int(x(pulse.x0) - mm), int(x(pulse.x0) - 0.4 * mm), mm)
                top = line_centre(ink, y(pulse.top), int(np.ceil(x(pulse.x0) + 0.4 * mm)),
                                  int(x(pulse.x1) - 0.4 * mm) + 1, mm)
            baselines.append(foot if foot is not None else y(row.baseline))
            if foot is not None and top is not None:
                heights.append(foot - top)
        px_per_mv = float(np.median(heights)) if heights else layout.px_per_mv * factor
        starts, px_per_s = [x(row.x_start) for row in layout.rows], layout.px_per_s * factor
        if layout.time_marks:
            marks = [(_mark_centre(ink, x(mx), y(my), factor, mm), share, my) for mx, share, my in layout.time_marks]
            start, px_per_s = time_axis(marks)
            starts = [start if abs(s - start) < _ALIGN_MM * mm else s for s in starts]
        marked = {"separators", "ticks"} & set(layout.marks)
        return cls(tuple(starts), tuple(baselines), px_per_s, px_per_mv, mm, 0.3 * mm + 0.5 if marked else 0.0)

    def panel_x(self, row: int, column: int) -> float:
        """x where panel ``column`` of ``row`` begins."""
        return self.starts[row] + column * PANEL_S * self.px_per_s


def _mark_centre(ink: InkMap, x: float, y: float, factor: float, mm: float) -> float:
    """The darkness-weighted centre of the vertical mark (a separator or a tick) near ``x`` across the 0 mV line
    at ``y``; the trace running along that line darkens every column alike and is taken away."""
    lo, hi = max(0, round(x - 1.5 * factor)), min(ink.mask.shape[1], round(x + 1.5 * factor) + 1)
    top, bottom = max(0, round(y - 1.5 * mm)), min(ink.mask.shape[0], round(y + 1.5 * mm) + 1)
    if hi <= lo or bottom <= top:
        return x
    weights = ink.darkness_of(slice(top, bottom), slice(lo, hi)).sum(axis=0)
    weights = np.clip(weights - np.median(weights), 0, None)
    return float(np.dot(weights, np.arange(lo, hi)) / weights.sum()) if weights.sum() > 0 else x


def _trace_panels(ink: InkRuns, geometry: PrintGeometry, known: KnownLayout) -> tuple[list[PanelTrace], list[PanelTrace]]:
    """Every lead panel of ``known``'s rows, and its rhythm strips (named "II" for now), in ink-map pixels."""
    spacing = float(np.median(np.diff(geometry.baselines)))
    margin = geometry.margin
    leads = []
    for row, names in enumerate(known.rows):
        for column, name in enumerate(names):
            x_from = geometry.panel_x(row, column) + (margin if column else 0.0)
            x_to = geometry.panel_x(row, column + 1) - (margin if column < COLUMNS - 1 else 0.0)
            hidden = (column > 0 and margin > 0, column < COLUMNS - 1 and margin > 0)  # ends at a separator
            leads.append(_panel(ink, geometry, name, row, column, (x_from, x_to), spacing, hidden))
    strips = []
    for row in range(len(known.rows), len(known.rows) + known.rhythm_strips):
        span = (geometry.panel_x(row, 0), geometry.panel_x(row, COLUMNS))
        strips.append(_panel(ink, geometry, "II", row, 0, span, spacing, (False, False), samples=round(DURATION_S * FS)))
    return leads, strips


def _panel(ink: InkRuns, geometry: PrintGeometry, lead: str, row: int, column: int, span: tuple[float, float],
           spacing: float, hidden: tuple[bool, bool], samples: int = round(PANEL_S * FS)) -> PanelTrace:
    """Trace one panel between the x of ``span`` and sample it at :data:`FS` (mV; ink-map pixels)."""
    x_from, x_to = span
    baseline = geometry.baselines[row]
    start_s = column * PANEL_S
    xs = geometry.starts[row] + (start_s + np.arange(samples) / FS) * geometry.px_per_s
    ys = np.full(samples, np.nan)
    mm = geometry.px_per_mm
    label = (x_from + _LABEL_MM[0] * mm, baseline - _LABEL_MM[1] * mm)
    line = trace_line(ink, x_from, x_to, baseline, spacing, label=label, hidden=hidden)
    if line is not None:
        ys = np.interp(xs, line.xs, line.ys)
        hold = _HOLD_MM * mm
        outside = (xs < line.xs[0] - hold) | (xs > line.xs[-1] + hold)
        gaps = np.flatnonzero(np.diff(line.xs) > _MAX_GAP_MM * mm)
        for g in gaps:
            outside |= (xs > line.xs[g]) & (xs < line.xs[g + 1])
        ys[outside] = np.nan
    values = ((baseline - ys) / geometry.px_per_mv).astype(np.float32)
    pixels = np.stack([xs, ys], axis=1).astype(np.float32)
    pixels[np.isnan(ys), 0] = np.nan
    return PanelTrace(lead, row, column, start_s, FS, values, pixels, baseline)


def _renamed(panel: PanelTrace, lead: str) -> PanelTrace:
    """``panel`` labelled as ``lead``."""
    return PanelTrace(lead, panel.row, panel.column, panel.start_s, panel.fs, panel.values_mv, panel.pixels,
                      panel.baseline_y)


@dataclass(frozen=True)
class _PagePixels:
    """Ink-map pixels (a region of a possibly reduced page) -> full-size upright page pixels."""

    x_offset: int
    y_offset: int
    factor: float  # image pixels per full-size pixel

    def x(self, x: float) -> float:
        return (x + self.x_offset + 0.5) / self.factor - 0.5

    def y(self, y: float) -> float:
        return (y + self.y_offset + 0.5) / self.factor - 0.5

    def panel(self, panel: PanelTrace) -> PanelTrace:
        offset = np.array([self.x_offset, self.y_offset], np.float32)
        pixels = ((panel.pixels + offset + 0.5) / self.factor - 0.5).astype(np.float32)
        return PanelTrace(panel.lead, panel.row, panel.column, panel.start_s, panel.fs, panel.values_mv, pixels,
                          self.y(panel.baseline_y))
