"""Digitize the traces of a 3x4 + rhythm strip ECG printout into 12 signals in mV at 500 Hz.

API (Qt-free; everything a front end needs to show or export a digitization)::

    dig = digitize(image)                # BGR uint8 scan, full size; raises DigitizeError when it cannot
    dig = digitize(image, box)           # box: CropBox in full-size pixels of the upright page (a user's crop)
    dig = digitize(small, image_size=(w, h))  # a reduced copy of a w x h file: coarser, same coordinates
    dig.signals()                        # (5000, 12) float32 mV, columns LEADS, NaN where a lead is not printed
    dig.lead("V1")                       # one column of it
    dig.time_s                           # (5000,) sample times, 0 to 10 s
    dig.rhythm_lead                      # "II" or "III": the rhythm strip's lead (its label, checked by its shape)
    for panel in dig.panels:             # 12 lead panels (rows 0-2, columns 0-3), then the rhythm strip (row 3)
        panel.lead, panel.row, panel.column
        panel.times_s, panel.values_mv   # its samples (NaN where no trace was found)
        panel.pixels                     # (n, 2) x, y of each sample on the full-size upright page (overlay)
        panel.baseline_y                 # y of its 0 mV line on that page
    dig.page_transform                   # core.page.geometry.PageTransform: file pixels -> upright page pixels
    dig.crop, dig.x0, dig.px_per_s, dig.px_per_mv   # region and scales on the upright page
    dig.warnings                         # sentences: what was assumed or could not be read

The upright page is the one ``core.page.reading.read_page`` makes (turned, deskewed, photos rectified),
at full size: a GUI draws ``panel.pixels`` over ``reading.upright(image, dig.page_transform, ...)``.
Time 0 is the left end of the first column of panels and of the rhythm strip; panels in column c
hold c * 2.5 s to (c + 1) * 2.5 s, simultaneous across rows and with the rhythm strip. The rhythm
strip's lead is filled over the full 10 s from the strip. How the page is measured:
``core.signals.print_layout``; how a trace is followed: ``core.signals.trace``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.geometry import PageTransform
from ecg_desktop.core.page.ink import InkMap, ink_map
from ecg_desktop.core.page.layout import SUPPORTED_TEXT
from ecg_desktop.core.page.reading import NO_GRID_REASON, read_page, upright
from ecg_desktop.core.signals.print_layout import (
    COLUMNS,
    PANEL_S,
    GeometryError,
    PrintGeometry,
    find_print_region,
    read_geometry,
)
from ecg_desktop.core.signals.rhythm import identify_rhythm_lead
from ecg_desktop.core.signals.trace import PanelTrace, trace_line

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
PANEL_LEADS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
FS = 500
DURATION_S = COLUMNS * PANEL_S
_HOLD_MM = 1.0  # a trace's last found level is held this far past its ends (separator margins)
_MAX_GAP_MM = 2.0  # a break in the trace longer than this is left empty (NaN), shorter ones are bridged
_MIN_TRACED = 0.5  # a panel with less of its width traced than this is reported
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
        """The rhythm strip."""
        return self.panels[-1]

    def lead(self, name: str) -> np.ndarray:
        """Lead ``name`` over 10 s (float32 mV, NaN where it is not printed); the rhythm lead from its strip."""
        if name not in LEADS:
            raise ValueError(f"unknown lead {name!r}; expected one of {LEADS}")
        out = np.full(round(DURATION_S * self.fs), np.nan, np.float32)
        source = self.rhythm if name == self.rhythm_lead else next(p for p in self.panels[:-1] if p.lead == name)
        first = round(source.start_s * self.fs)
        out[first : first + source.values_mv.size] = source.values_mv[: out.size - first]
        return out

    def signals(self) -> np.ndarray:
        """All 12 leads, (samples, 12) in :data:`LEADS` order."""
        return np.stack([self.lead(name) for name in LEADS], axis=1)


def digitize(image: np.ndarray, box: CropBox | None = None, *,
             image_size: tuple[int, int] | None = None) -> Digitization:
    """Digitize a BGR uint8 scan of the supported printout (see the module docstring for the result).

    ``box`` replaces the automatic diagnostic region (full-size upright page pixels). Raises
    :class:`DigitizeError` when there is no grid or the 3x4 + rhythm strip layout cannot be read.
    """
    reading = read_page(image, image_size=image_size, crop=box)
    page = upright(image, reading.page_transform, reading.source_size)
    factor = page.shape[1] / reading.page_size[0]  # this image's pixels per full-size page pixel
    region = reading.crop.scaled(factor, factor).clamped(page.shape[1], page.shape[0])
    warnings = []
    if NO_GRID_REASON in reading.reasons:
        found = find_print_region(ink_map(page)) if box is None else None
        if found is None:
            raise DigitizeError("No ECG grid was found, so there are no traces to digitize.")
        region = CropBox(*found)
        warnings.append("No ECG grid was found (a faint copy?): the traces were found by their panel "
                        "separators and calibration pulses.")
    ink = ink_map(page[region.y0 : region.y1, region.x0 : region.x1])
    try:
        geometry = read_geometry(ink)
    except GeometryError as exc:
        raise DigitizeError(str(exc)) from exc
    warnings += geometry.warnings
    layout = [r for r in reading.reasons if r.code == "unsupported_layout"]
    if layout:
        if len(geometry.separators) < COLUMNS - 1 or len(geometry.pulses) < len(geometry.baselines):
            found = layout[0].message.split(";")[0]  # "A grid was found, but <what the layout check saw>"
            raise DigitizeError(f"{found}; the digitizer reads only {SUPPORTED_TEXT}.")
        warnings.append("The layout check did not recognise this page, but its separators and calibration "
                        "pulses were found where the supported layout has them; check the traces.")
    panels = _trace_panels(ink, geometry)
    for panel in panels:
        traced = np.count_nonzero(~np.isnan(panel.values_mv)) / panel.values_mv.size
        if traced < _MIN_TRACED:
            where = "the rhythm strip" if panel.row == len(PANEL_LEADS) else f"lead {panel.lead}"
            warnings.append(f"Only {100 * traced:.0f}% of {where} could be traced.")
    rhythm_lead, notes = identify_rhythm_lead(ink, geometry, panels)
    warnings += notes
    panels[-1] = _renamed(panels[-1], rhythm_lead)
    to_page = _PagePixels(region.x0, region.y0, factor)
    return Digitization(
        panels=tuple(to_page.panel(p) for p in panels), rhythm_lead=rhythm_lead,
        page_transform=reading.page_transform, source_size=reading.source_size,
        crop=region.scaled(1 / factor, 1 / factor),
        x0=to_page.x(geometry.x0), px_per_s=geometry.px_per_s / factor, px_per_mv=geometry.px_per_mv / factor,
        warnings=tuple(warnings),
    )


def _trace_panels(ink: InkMap, geometry: PrintGeometry) -> list[PanelTrace]:
    """Every lead panel and the rhythm strip (named "II" for now), in ink-map pixels."""
    spacing = float(np.median(np.diff(geometry.baselines)))
    margin = geometry.separator_width / 2 + 0.5  # the separator's columns are left out of the panels
    panels = []
    for row, names in enumerate(PANEL_LEADS):
        for column, name in enumerate(names):
            x_from = geometry.panel_x(column) + (margin if column else 0.0)
            x_to = geometry.panel_x(column + 1) - (margin if column < COLUMNS - 1 else 0.0)
            hidden = (column > 0, column < COLUMNS - 1)  # ends at a separator
            panels.append(_panel(ink, geometry, name, row, column, (x_from, x_to), spacing, hidden))
    strip_end = geometry.panel_x(COLUMNS)
    panels.append(_panel(ink, geometry, "II", len(PANEL_LEADS), 0, (geometry.x0, strip_end), spacing,
                         (False, False), samples=round(DURATION_S * FS)))
    return panels


def _panel(ink: InkMap, geometry: PrintGeometry, lead: str, row: int, column: int, span: tuple[float, float],
           spacing: float, hidden: tuple[bool, bool], samples: int = round(PANEL_S * FS)) -> PanelTrace:
    """Trace one panel between the x of ``span`` and sample it at :data:`FS` (mV; ink-map pixels)."""
    x_from, x_to = span
    baseline = geometry.baselines[row]
    start_s = column * PANEL_S
    xs = geometry.x0 + (start_s + np.arange(samples) / FS) * geometry.px_per_s
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
