"""Synthetic 12-lead ECG signals and printout images, for tests and demos.

ILLUSTRATIVE ONLY -- NOT CLINICALLY VALIDATED. The signals come from a simple
sum-of-Gaussians model (P, Q, R, S and T waves per beat, with roughly physiological
per-lead amplitudes) and are meant to look plausible on paper, nothing more. They
must never be used to train, validate or demonstrate diagnostic performance.

``kind`` selects a variant:

* ``"normal"`` -- sinus rhythm.
* ``"st_elevation"`` -- ST elevation with hyperacute T waves in V1-V5, I and aVL,
  reciprocal depression in II, III and aVF, and pathological Q waves in V1-V4.
* ``"irregular"`` -- irregularly irregular RR intervals without P waves (fibrillatory
  baseline) and occasional wide ectopic (ventricular) beats.

:func:`render_printout` draws the signals as a scan of an EDAN-style 200 dpi paper
report (header, pink 1 mm/5 mm grid, 3x4 leads plus a lead II rhythm strip, footer).
Keyword options draw other layouts (:data:`LAYOUTS`), grid colours, a dot grid, another
cart's header, paper speed and gain; these pages exist to measure the model on what it
must not read (``training/negatives.py``). ``style`` (:data:`STYLES`, :class:`CartStyle`) draws
the standard printout of another cart: a full-bleed red, brown, pink, blue or green grid (or plain
paper) with ticks at panel boundaries, calibration pulses joined to the traces and labels above or
below them. Only numpy and OpenCV are used; the output is deterministic for a given seed.

:func:`render_printout_with_truth` draws the same page and also returns what was drawn
(:class:`PrintoutTruth`): the signals in mV, each printed panel's samples and their pixel
positions, and the page's time and voltage scales, so that a digitizer can be scored against it
(:func:`reconstruction_snr`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np

KINDS = ("normal", "st_elevation", "irregular")
LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

#: The pink grid rectangle as fractions of image width/height: (x0, y0, x1, y1).
GRID_BOX_FRACTIONS = (67 / 2213, 283 / 1572, 2177 / 2213, 1517 / 1572)
#: The grid rectangle under the ``header="other"`` cart's narrower margins.
OTHER_GRID_BOX_FRACTIONS = (36 / 2213, 318 / 1572, 2190 / 2213, 1480 / 1572)
HEADERS = ("edan", "other")

# Independent leads: the six others follow from I and II (Einthoven/Goldberger).
# Per-wave amplitudes in mV: P, Q, R, S, T.
_AMPLITUDES = {
    "I": (0.10, -0.05, 0.70, -0.10, 0.25),
    "II": (0.15, -0.08, 1.10, -0.20, 0.35),
    "V1": (0.08, 0.00, 0.25, -0.90, 0.05),
    "V2": (0.10, 0.00, 0.50, -1.30, 0.40),
    "V3": (0.10, -0.02, 0.90, -0.80, 0.45),
    "V4": (0.10, -0.05, 1.40, -0.50, 0.45),
    "V5": (0.10, -0.08, 1.30, -0.25, 0.35),
    "V6": (0.10, -0.08, 1.00, -0.10, 0.30),
}
# "st_elevation": ST shift (mV) per lead; pathological Q waves in V1-V4.
_ST_SHIFT = {"I": 0.12, "II": -0.05, "V1": 0.15, "V2": 0.30, "V3": 0.35, "V4": 0.25, "V5": 0.12, "V6": 0.05}
_Q_LEADS = ("V1", "V2", "V3", "V4")
# "irregular": main QRS deflection of ectopic beats and fibrillatory-wave amplitude.
_ECTOPIC = {"I": 0.6, "II": -0.6, "V1": 1.2, "V2": 1.0, "V3": 0.6, "V4": -0.3, "V5": -0.8, "V6": -1.0}
_F_WAVES = {"I": 0.02, "II": 0.05, "V1": 0.08, "V2": 0.05, "V3": 0.03, "V4": 0.02, "V5": 0.02, "V6": 0.02}

# Printout layout in pixels of the 2213 x 1572 (200 dpi) reference page.
_REF_W, _REF_H = 2213, 1572
_PX_PER_MM = 200 / 25.4
_ROWS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_BASELINES = (463, 764, 1067, 1368)
#: Printout layouts: name -> rows of leads (a row of n leads shows n consecutive time windows).
LAYOUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "3x4+1": _ROWS + (("II",),),
    "3x4": _ROWS,
    "3x4+3": _ROWS + (("II",), ("V1",), ("V5",)),
    "6x2": tuple(zip(LEAD_NAMES[:6], LEAD_NAMES[6:])),
    "12x1": tuple((name,) for name in LEAD_NAMES),
}
_TRACE_X0, _COLUMN_W = 153, 492  # 2.5 s at 25 mm/s
_PULSE_X0 = 92
_PAPER = (251, 252, 255)
_MINOR, _MAJOR, _BORDER = (240, 240, 252), (230, 228, 247), (172, 166, 240)
_INK = (25, 25, 25)
_FONT = cv2.FONT_HERSHEY_COMPLEX
_FULL_BLEED_EDGE = 12  # full-bleed pages: traces are clipped this far (reference px) from the image edge
_JOINED_LEAD_IN_MM = 1.0  # baseline before a joined calibration pulse
_TICK_MM = 3.0  # height of a panel-boundary tick, centred on the row's baseline
_TICK_PX = 3  # its thickness in reference pixels (2 at least in the output)

BGR = tuple[int, int, int]


class GridColours(NamedTuple):
    """Colours of a grid's 1 mm lines, 5 mm lines, and border (EDAN framing) or 5 mm dots (dot grid)."""

    minor: BGR
    major: BGR
    border: BGR


#: Grid colours by name (BGR); a style's ``grid`` may also be ``"none"`` (plain paper).
GRID_COLOURS: dict[str, GridColours] = {
    "edan": GridColours(_MINOR, _MAJOR, _BORDER),
    "red": GridColours((200, 205, 250), (70, 70, 230), (40, 40, 190)),
    "brown": GridColours((170, 180, 212), (80, 95, 160), (50, 60, 120)),
    "pink": GridColours((245, 232, 253), (215, 190, 250), (170, 140, 230)),
    "blue": GridColours((245, 225, 200), (200, 140, 70), (150, 90, 30)),
    "green": GridColours((200, 235, 200), (110, 175, 90), (60, 120, 40)),
}
FRAMINGS = ("edan", "full_bleed")
BOUNDARIES = ("separators", "ticks", "none")
PULSES = ("edan", "joined", "none")
LABEL_POSITIONS = ("above", "below")


@dataclass(frozen=True)
class CartStyle:
    """How one cart draws its page; sizes are in pixels of the 200 dpi reference page (see :data:`STYLES`).

    ``framing``: ``"edan"`` -- the grid inside margins with a border, EDAN-style dotted 1 mm lines, the
    ``header`` keyword's header and footer around it; ``"full_bleed"`` -- solid 1 mm and thicker 5 mm
    lines to the image edges, a dark ``frame_px`` frame of ``frame_colour`` at the edge, the top third
    blank grid or (``header_text``) patient and settings lines, the traces in the lower two thirds (the
    top sixth and lower five sixths for layouts of more than 4 rows).
    ``boundaries``: ``"separators"`` (full-height lines between panel columns), ``"ticks"`` (short thick
    vertical ticks on each row's baseline at each panel boundary) or ``"none"`` (panels abut).
    ``pulse``: ``"edan"`` (a 5 mm calibration pulse before a gap), ``"joined"`` (1 mV, 0.2 s wide, drawn
    as the start of each row's trace, which begins right after it) or ``"none"``.
    """

    framing: str
    grid: str  # a GRID_COLOURS key, or "none"
    paper: BGR
    boundaries: str
    pulse: str
    label_position: str  # "above" or "below" the trace, at each panel's start
    font: int  # cv2 Hershey font of the labels (and a full-bleed header)
    label_size: float  # font scale
    label_gap: float  # between the baseline and the label's nearer edge
    trace_px: float  # trace thickness
    ink: BGR
    header_text: bool = False  # full_bleed: print header lines on the top third
    frame_px: int = 0  # full_bleed: frame width (3 output pixels at least)
    frame_colour: BGR = (30, 30, 30)

    def __post_init__(self) -> None:
        choices = ((self.framing, FRAMINGS), (self.grid, (*GRID_COLOURS, "none")), (self.boundaries, BOUNDARIES),
                   (self.pulse, PULSES), (self.label_position, LABEL_POSITIONS))
        for value, allowed in choices:
            if value not in allowed:
                raise ValueError(f"unknown style value {value!r}; expected one of {allowed}")


_SIMPLEX, _PLAIN, _DUPLEX = cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX
#: Named cart styles; ``"edan"`` is the default page. The others are standard printouts of other carts
#: (GE/Philips-like pages and ecg-image-kit's grid colours): full-bleed grid, ticks, joined pulse.
STYLES: dict[str, CartStyle] = {
    "edan": CartStyle("edan", "edan", _PAPER, "separators", "edan", "above", _FONT, 0.85, 8, 2, _INK),
    "red": CartStyle("full_bleed", "red", (252, 252, 255), "ticks", "joined", "above", _SIMPLEX, 1.0, 32, 2,
                     (20, 20, 20), header_text=True, frame_px=5, frame_colour=(25, 25, 25)),
    "brown": CartStyle("full_bleed", "brown", (238, 246, 251), "ticks", "joined", "above", _FONT, 0.9, 20, 3,
                       (30, 30, 30), header_text=True, frame_px=8, frame_colour=(60, 60, 60)),
    "pink": CartStyle("full_bleed", "pink", (253, 251, 255), "ticks", "joined", "above", _DUPLEX, 0.9, 40, 2,
                      (15, 15, 15), frame_px=4, frame_colour=(10, 10, 10)),
    "blue": CartStyle("full_bleed", "blue", (255, 253, 250), "ticks", "joined", "below", _SIMPLEX, 0.9, 14, 3,
                      (35, 35, 35), header_text=True, frame_px=6, frame_colour=(45, 45, 45)),
    "green": CartStyle("full_bleed", "green", (250, 255, 250), "ticks", "joined", "below", _PLAIN, 1.5, 24, 2,
                       (90, 35, 25), frame_px=3, frame_colour=(20, 20, 20)),
    "plain": CartStyle("full_bleed", "red", (255, 255, 255), "none", "joined", "above", _DUPLEX, 1.0, 30, 2,
                       (0, 0, 0), header_text=True, frame_px=5, frame_colour=(35, 35, 35)),
    "no_grid": CartStyle("full_bleed", "none", (255, 255, 255), "ticks", "none", "below", _SIMPLEX, 0.9, 12, 1,
                         (25, 25, 25), header_text=True, frame_px=6, frame_colour=(50, 50, 50)),
}


def _wave(t: np.ndarray, centre: float, amp: float, left: float, right: float | None = None) -> np.ndarray:
    """A (possibly asymmetric) Gaussian bump of height ``amp`` at ``centre`` seconds."""
    width = np.where(t < centre, left, left if right is None else right)
    return amp * np.exp(-0.5 * ((t - centre) / width) ** 2)


def _beat_times(kind: str, rr: float, seconds: float, rng: np.random.Generator) -> list[tuple[float, bool]]:
    """R-peak times (s) and whether each beat is ectopic."""
    beats, t = [], -rng.uniform(0, rr)
    while t < seconds + rr:
        ectopic = kind == "irregular" and bool(beats) and not beats[-1][1] and rng.random() < 0.18
        if ectopic:
            t += 0.6 * rr  # premature, followed by a compensatory pause
        elif kind == "irregular":
            t += float(np.clip(rr * (1 + 0.22 * rng.standard_normal()), 0.55 * rr, 1.6 * rr))
            t += 0.5 * rr if beats and beats[-1][1] else 0.0
        else:
            t += rr * (1 + 0.02 * rng.standard_normal())
        beats.append((t, ectopic))
    return beats


def synthesize_leads(
    *, kind: str = "normal", heart_rate: float = 72, seconds: float = 10.0, fs: int = 500, seed: int = 0,
    amplitude: float = 1.0,
) -> dict[str, np.ndarray]:
    """Synthetic 12-lead ECG in mV: ``{lead name: samples}``, ``round(seconds * fs)`` samples each.

    ``amplitude`` scales every lead (e.g. 2.5 for high voltages whose rows overlap on paper).
    Illustrative only, not clinically validated (see the module docstring).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if not 20 <= heart_rate <= 250:
        raise ValueError(f"heart_rate must be within 20..250 bpm, got {heart_rate}")
    if seconds <= 0 or fs <= 0:
        raise ValueError("seconds and fs must be positive")
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * fs)) / fs
    rr = 60.0 / heart_rate
    beats = _beat_times(kind, rr, seconds, rng)
    f_wave = sum(np.sin(2 * np.pi * rng.uniform(4.5, 7.5) * t + rng.uniform(0, 2 * np.pi)) for _ in range(3)) / 3
    t_peak = 0.28 * np.sqrt(rr)
    base = {}
    for lead, (p, q, r, s, tw) in _AMPLITUDES.items():
        st = _ST_SHIFT[lead] if kind == "st_elevation" else 0.0
        if st > 0:
            tw *= 1.6  # hyperacute T
        if kind == "st_elevation" and lead in _Q_LEADS:  # pathological Q: QS-like complex
            q, r, s = -0.7, 0.1 * r, 0.3 * s
        q_w = 0.018 if q < -0.3 else 0.009
        sig = np.zeros_like(t)
        for r_time, ectopic in beats:
            x = t - r_time
            if ectopic:
                a = _ECTOPIC[lead]
                sig += _wave(x, 0, a, 0.035) + _wave(x, 0.07, -0.25 * a, 0.03) + _wave(x, 0.33, -0.45 * a, 0.07, 0.05)
                continue
            if kind != "irregular":
                sig += _wave(x, -0.17, p, 0.022)
            sig += _wave(x, -0.03, q, q_w) + _wave(x, 0, r, 0.011) + _wave(x, 0.03, s, 0.011)
            sig += _wave(x, t_peak, tw, 0.055, 0.035) + (_wave(x, 0.12, st, 0.06) if st else 0)
        if kind == "irregular":
            sig += _F_WAVES[lead] * f_wave
        base[lead] = sig
    lead_i, lead_ii = base["I"], base["II"]
    derived = {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": lead_i - lead_ii / 2,
        "aVF": lead_ii - lead_i / 2,
    }
    leads = {**base, **derived}
    smooth = np.ones(9) / 9
    out = {}
    for name in LEAD_NAMES:
        wander = 0.04 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 2 * np.pi))
        noise = np.convolve(rng.normal(0, 0.03, t.size), smooth, mode="same")
        out[name] = (amplitude * (leads[name] + wander + noise)).astype(np.float32)
    return out


class _Page:
    """Drawing helpers in reference-page coordinates, scaled to the output size."""

    def __init__(self, width: int, height: int, paper: BGR = _PAPER, ink: BGR = _INK):
        self.sx, self.sy = width / _REF_W, height / _REF_H
        self.mm = _PX_PER_MM * self.sx
        self.ink = ink
        self.image = np.empty((height, width, 3), np.uint8)
        self.image[:] = paper

    def pt(self, x: float, y: float) -> tuple[int, int]:
        return round(x * self.sx), round(y * self.sy)

    def text(
        self, x: float, y: float, text: str, size: float = 0.85, align: str = "left", font: int = _FONT
    ) -> float:
        """Draw ``text`` with its baseline at ``y``; return the reference x where it ends."""
        scale, thick = size * self.sx, 1
        w = cv2.getTextSize(text, font, scale, thick)[0][0] / self.sx
        x = {"left": x, "centre": x - w / 2, "right": x - w}[align]
        cv2.putText(self.image, text, self.pt(x, y), font, scale, self.ink, thick, cv2.LINE_AA)
        return x + w

    def line(self, points: np.ndarray, thickness: float) -> None:
        """Anti-aliased polyline through reference-pixel ``points`` (N x 2), sub-pixel exact."""
        pts = np.round(points * (self.sx * 16, self.sy * 16)).astype(np.int32)
        cv2.polylines(self.image, [pts], False, self.ink, max(1, round(thickness * self.sx)), cv2.LINE_AA, shift=4)

    def heart(self, x: float, y: float, size: float = 14) -> None:
        """A small filled heart (Hershey fonts have no U+2665) with its bottom tip at (x + size/2, y)."""
        angles = np.linspace(0, 2 * np.pi, 40)
        hx, hy = 16 * np.sin(angles) ** 3, 13 * np.cos(angles) - 5 * np.cos(2 * angles) - 2 * np.cos(3 * angles)
        pts = np.stack([x + size / 2 + hx * size / 32, y - size * 0.55 - hy * size / 32], axis=1)
        cv2.fillPoly(self.image, [np.round(pts * (self.sx, self.sy)).astype(np.int32)], self.ink, cv2.LINE_AA)

    def tick(self, x: float, baseline: float) -> None:
        """A short thick vertical tick centred on ``(x, baseline)``: a panel boundary mark."""
        width = max(2, round(_TICK_PX * self.sx))
        left = round(x * self.sx - width / 2)
        top, bottom = (round((baseline + side * _TICK_MM * _PX_PER_MM / 2) * self.sy) for side in (-1, 1))
        cv2.rectangle(self.image, (left, top), (left + width - 1, bottom), self.ink, cv2.FILLED)


def _grid_palette(colour: BGR) -> GridColours:
    """Minor, major and border colours of a grid whose major lines are ``colour``."""
    paper, major = np.array(_PAPER, float), np.array(colour, float)
    minor = paper + 0.55 * (major - paper)
    border = np.clip(paper + 2.5 * (major - paper), 0, 255)
    return GridColours(*(tuple(round(c) for c in v) for v in (minor, major, border)))


def _draw_grid(
    page: _Page, box: tuple[float, float, float, float], palette: GridColours | None, dots: bool, framing: str
) -> tuple[int, int, int, int]:
    """1 mm / 5 mm grid lines (or a 1 mm / 5 mm dot grid) in ``box``; return the box in pixels.

    ``framing`` "edan": dotted 1 mm lines and a border; "full_bleed": solid 1 mm lines, thicker 5 mm lines.
    """
    h, w = page.image.shape[:2]
    fx0, fy0, fx1, fy1 = box
    x0, y0, x1, y1 = round(fx0 * w), round(fy0 * h), round(fx1 * w), round(fy1 * h)
    if palette is None:
        return x0, y0, x1, y1
    minor, major, border = palette
    region = page.image[y0:y1, x0:x1]
    gx, gy = (np.round(np.arange(0, n - 0.5, page.mm)).astype(int) for n in (x1 - x0, y1 - y0))
    if dots:
        region[np.ix_(gy, gx)] = major
        for dy, dx in np.ndindex(3, 3):  # 3 x 3 px dots every 5 mm
            ys, xs = np.clip(gy[::5] + dy - 1, 0, y1 - y0 - 1), np.clip(gx[::5] + dx - 1, 0, x1 - x0 - 1)
            region[np.ix_(ys, xs)] = border
    elif framing == "edan":
        region[np.ix_(np.arange(0, y1 - y0, 2), gx)] = minor
        region[np.ix_(gy, np.arange(0, x1 - x0, 2))] = minor
        region[:, gx[::5]] = major
        region[gy[::5], :] = major
    else:
        region[:, gx] = minor
        region[gy, :] = minor
        for offset in range(max(1, round(2 * page.sx))):
            region[:, np.clip(gx[::5] + offset, 0, x1 - x0 - 1)] = major
            region[np.clip(gy[::5] + offset, 0, y1 - y0 - 1), :] = major
    if framing == "edan":
        b = max(2, round(4 * page.sx))
        for sl in (region[:b], region[-b:], region[:, :b], region[:, -b:]):
            sl[:] = border
    return x0, y0, x1, y1


def _draw_frame(page: _Page, style: CartStyle) -> None:
    """A full-bleed page's dark frame at the image edge."""
    f = max(3, round(style.frame_px * page.sx))
    for sl in (page.image[:f], page.image[-f:], page.image[:, :f], page.image[:, -f:]):
        sl[:] = style.frame_colour


def _settings_text(layout: str, speed_mm_s: float, gain_mm_mv: float) -> str:
    """The footer's recording settings, e.g. ``25mm/s  10mm/mV  4*2.5s+1r``."""
    rows = LAYOUTS[layout]
    columns = len(rows[0])
    rhythm = sum(len(row) == 1 for row in rows) if columns > 1 else 0
    window = 10.0 * 25 / speed_mm_s / columns
    return f"{speed_mm_s:g}mm/s  {gain_mm_mv:g}mm/mV  {columns}*{window:g}s" + (f"+{rhythm}r" if rhythm else "")


def _draw_edan_header_footer(page: _Page, patient_id: str, date_text: str, heart_rate: int, settings: str) -> None:
    """The EDAN report's header (patient fields, double rule, signatures) and settings footer."""
    page.text(_REF_W / 2, 60, "ECG REPORT", size=1.5, align="centre")
    for x, label in ((68, f"ID : {patient_id}"), (318, "Years"), (444, "Male"), (612, "cm"), (764, "kg"),
                     (907, "/"), (978, "mmHg"), (1094, "Race:Unknown"), (1332, "Room No.:"), (1522, "Department:")):
        page.text(x, 92, label)
    page.text(68, 125, "Exam.Room:")
    page.text(277, 125, "Medication:")
    for y in (137, 146):
        page.line(np.array([[68.0, y], [2155.0, y]]), 3)
    page.text(68, 170, "Diagnosis Information:")
    for y, label in ((204, "Technician :"), (236, "Ref-Phys. :"), (268, "Report Confirmed by:")):
        page.text(1556, y, label)
    end = page.text(68, 1552, f"0.67~25Hz  AC50  {settings}  ", size=0.7)
    page.heart(end, 1552)
    page.text(end + 18, 1552, f"{heart_rate}  SE-3 V1.0  SEMIP V1.7", size=0.7)
    page.text(2065, 1552, date_text, size=0.7, align="right")


def _draw_other_header_footer(page: _Page, patient_id: str, date_text: str, heart_rate: int, settings: str) -> None:
    """Another cart's report: name/ID block, measurement block, interpretation, sans-serif footer."""
    sans = cv2.FONT_HERSHEY_SIMPLEX
    rr = 60 / max(heart_rate, 1)  # s
    qt = round(390 * rr**0.35)  # ms, shortening with rate
    qtc = round(qt / np.sqrt(rr))  # Bazett
    page.text(40, 50, "Name: ______________________", size=0.9, font=sans)
    page.text(40, 86, f"Patient ID: {patient_id}", size=0.9, font=sans)
    page.text(40, 122, "DOB: ___________   Sex: ___   Age: ___", size=0.9, font=sans)
    for y, label in ((50, f"Vent. rate  {heart_rate} bpm"), (86, "PR interval  160 ms"), (122, "QRS duration  90 ms"),
                     (158, f"QT/QTc  {qt}/{qtc} ms"), (194, "P-R-T axes  60 30 45")):
        page.text(760, y, label, size=0.85, font=sans)
    page.text(1280, 50, date_text, size=0.9, font=sans)
    page.text(1280, 86, "Sinus rhythm", size=0.9, font=sans)
    page.text(1280, 122, "Unconfirmed report", size=0.9, font=sans)
    page.text(2170, 270, "Referred by: ________   Confirmed by: ________", size=0.8, align="right", font=sans)
    page.line(np.array([[40.0, 290], [2190.0, 290]]), 2)
    page.text(40, 1530, f"{settings}  0.05-150 Hz  ~60 Hz", size=0.8, font=sans)
    page.text(1106, 1530, "CARDIO-12 v4.2   12SL", size=0.8, align="centre", font=sans)
    page.text(2190, 1530, "Page 1 of 1", size=0.8, align="right", font=sans)


def _header_bottom(rows: int) -> float:
    """Reference-page y where a full-bleed page's header band ends and its trace rows begin."""
    return _REF_H / 3 if rows <= 4 else _REF_H / 6


def _draw_chart_header(
    page: _Page, style: CartStyle, patient_id: str, date_text: str, heart_rate: int, speed: float, gain: float,
    bottom: float,
) -> None:
    """Patient, measurement and settings lines on a full-bleed page's header band, above ``bottom`` (GE-like)."""
    rr = 60 / max(heart_rate, 1)  # s
    qt = round(390 * rr**0.35)  # ms, shortening with rate
    qtc = round(qt / np.sqrt(rr))  # Bazett
    columns = ((70, ("ID: " + patient_id, "Name: ________________", "Date: " + date_text)),
               (820, (f"Vent. rate: {heart_rate} bpm", "PR interval: 160 ms", "QRS duration: 90 ms",
                      f"QT/QTc: {qt}/{qtc} ms")),
               (1480, ("Sex: ___   Age: ___", "Unconfirmed report")))
    for x, lines in columns:
        for i, line in enumerate(lines):
            page.text(x, 80 + 44 * i, line, size=style.label_size, font=style.font)
    page.text(70, bottom - 40, f"{speed:g}mm/s  {gain:g}mm/mV  150Hz", size=style.label_size,
              font=style.font)


def _baselines(layout: str, grid_top: float, grid_bottom: float) -> tuple[float, ...]:
    """Reference-page y of each row's baseline: EDAN's for 3x4+1, else evenly spaced in the grid."""
    if layout == "3x4+1":
        return _BASELINES
    return _even_baselines(len(LAYOUTS[layout]), grid_top, grid_bottom)


def _even_baselines(n: int, top: float, bottom: float) -> tuple[float, ...]:
    """Reference-page y of ``n`` rows' baselines spaced evenly between ``top`` and ``bottom``."""
    step = (bottom - top) / n
    return tuple(top + step * (i + 0.55) for i in range(n))


@dataclass(frozen=True)
class PrintedPanel:
    """One drawn trace: ``lead`` samples ``start`` to ``start + len(xs)`` at pixels ``(xs, ys)`` of the output image."""

    lead: str
    row: int
    column: int
    start: int  # index of the first drawn sample in ``PrintoutTruth.leads[lead]``
    xs: np.ndarray  # x of each drawn sample, output pixels
    ys: np.ndarray  # y of each drawn sample, output pixels (clipped to the grid as drawn)


@dataclass(frozen=True)
class PrintoutTruth:
    """What :func:`render_printout_with_truth` drew: the signals and where each panel put them on the page."""

    leads: dict[str, np.ndarray]  # mV, 10 s at ``fs``
    fs: int
    panels: tuple[PrintedPanel, ...]  # in drawing order: rows top to bottom, columns left to right
    baselines: tuple[float, ...]  # y of each row's 0 mV line, output pixels
    x0: float  # x of time 0, output pixels
    px_per_s: float  # output pixels per second along x
    px_per_mv: float  # output pixels per mV along y
    heart_rate: float

    def drawn_leads(self) -> dict[str, np.ndarray]:
        """Each lead as drawn (mV, clipped to the grid like the ink), NaN where not printed; 10 s at ``fs``.

        A lead printed twice (the rhythm strip's) is taken from its longest panel, as a digitizer exports it.
        """
        size = next(iter(self.leads.values())).size
        out: dict[str, np.ndarray] = {}
        for panel in sorted(self.panels, key=lambda p: p.xs.size):
            values = out.setdefault(panel.lead, np.full(size, np.nan))
            values[:] = np.nan
            values[panel.start : panel.start + panel.xs.size] = (self.baselines[panel.row] - panel.ys) / self.px_per_mv
        return out


def reconstruction_snr(truth: np.ndarray, estimate: np.ndarray, fs: int, *, max_shift_s: float = 0.2) -> float:
    """SNR (dB) of ``estimate`` against ``truth`` (same length, mV), PhysioNet Challenge 2024 style.

    The estimate may be shifted by up to ``max_shift_s`` (whole samples, the best shift is taken) and
    its mean offset is removed; SNR = 10 log10(sum truth^2 / sum error^2) over the samples both hold
    (NaN in ``estimate`` counts as 0, as the Challenge does). The truth's own mean is removed first, so
    a lead's baseline offset on paper is not counted as signal.
    """
    truth = truth - truth.mean()
    estimate = np.nan_to_num(estimate)
    best = -np.inf
    reach = round(max_shift_s * fs)
    for shift in range(-reach, reach + 1):
        a = truth[max(0, shift) : truth.size + min(0, shift)]
        b = estimate[max(0, -shift) : estimate.size + min(0, -shift)]
        error = b - a
        error = error - error.mean()
        noise = float(np.dot(error, error))
        best = max(best, 10 * np.log10(float(np.dot(a, a)) / max(noise, 1e-12)))
    return best


def render_printout(**options: Any) -> np.ndarray:
    """A synthetic scanned 12-lead ECG printout as an ``height x width x 3`` uint8 BGR image: the image of
    :func:`render_printout_with_truth`, which takes the same keyword arguments and documents them."""
    return render_printout_with_truth(**options)[0]


def render_printout_with_truth(
    *,
    kind: str = "normal",
    heart_rate: float = 72,
    seed: int = 0,
    width: int = 2213,
    height: int = 1572,
    patient_id: str = "000000",
    date_text: str = "2026-01-01  10:00:00 AM",
    layout: str = "3x4+1",
    grid_colour: tuple[int, int, int] | None = None,
    dot_grid: bool = False,
    header: str = "edan",
    speed_mm_s: float = 25,
    gain_mm_mv: float = 10,
    traces: bool = True,
    amplitude: float = 1.0,
    rhythm_lead: str = "II",
    style: str | CartStyle = "edan",
) -> tuple[np.ndarray, PrintoutTruth]:
    """A synthetic scanned 12-lead ECG printout (``height x width x 3`` uint8 BGR) and the
    :class:`PrintoutTruth` of what it drew.

    Layout is that of a 2213 x 1572 (200 dpi) report and scales with ``width``. The defaults draw
    the EDAN 3x4+1 report; ``style`` (a :data:`STYLES` key or a :class:`CartStyle`) draws another
    cart's page. ``layout`` (a :data:`LAYOUTS` key), ``grid_colour`` (BGR of the 5 mm lines, replacing
    the style's grid colours), ``dot_grid``, ``header`` (a :data:`HEADERS` entry; the "edan" framing
    only), ``speed_mm_s``, ``gain_mm_mv`` and ``traces=False`` (an empty grid) draw other printouts.
    ``amplitude`` scales the signals (not the calibration pulses); ``rhythm_lead`` is the 3x4+1 rhythm
    strip's lead. Illustrative only, not clinically validated (see the module docstring).
    """
    if isinstance(style, str):
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; expected one of {tuple(STYLES)} or a CartStyle")
        style = STYLES[style]
    if width < 200 or height < 140:
        raise ValueError(f"printout size {width}x{height} is too small")
    if layout not in LAYOUTS or header not in HEADERS:
        raise ValueError(f"unknown layout {layout!r} or header {header!r}; expected {tuple(LAYOUTS)}, {HEADERS}")
    if header != "edan" and style.framing != "edan":
        raise ValueError(f"header {header!r} draws on the 'edan' framing only")
    if speed_mm_s <= 0 or gain_mm_mv <= 0:
        raise ValueError("speed_mm_s and gain_mm_mv must be positive")
    if rhythm_lead not in LEAD_NAMES:
        raise ValueError(f"unknown rhythm_lead {rhythm_lead!r}; expected one of {LEAD_NAMES}")
    fs = 500
    leads = synthesize_leads(kind=kind, heart_rate=heart_rate, seconds=10.0, fs=fs, seed=seed, amplitude=amplitude)
    page = _Page(width, height, style.paper, style.ink)
    palette = _grid_palette(grid_colour) if grid_colour is not None else GRID_COLOURS.get(style.grid)
    rows = LAYOUTS[layout] if layout != "3x4+1" else _ROWS + ((rhythm_lead,),)
    if style.framing == "edan":
        box = GRID_BOX_FRACTIONS if header == "edan" else OTHER_GRID_BOX_FRACTIONS
        _, y0, _, y1 = _draw_grid(page, box, palette, dot_grid, style.framing)
        draw_header = _draw_edan_header_footer if header == "edan" else _draw_other_header_footer
        draw_header(page, patient_id, date_text, round(heart_rate), _settings_text(layout, speed_mm_s, gain_mm_mv))
        lo, hi = (y0 + 6) / page.sy, (y1 - 6) / page.sy
        baselines = _baselines(layout, lo, hi)
    else:
        _draw_grid(page, (0.0, 0.0, 1.0, 1.0), palette, dot_grid, style.framing)
        _draw_frame(page, style)
        top = _header_bottom(len(rows))
        if style.header_text:
            _draw_chart_header(page, style, patient_id, date_text, round(heart_rate), speed_mm_s, gain_mm_mv, top)
        lo, hi = _FULL_BLEED_EDGE, _REF_H - _FULL_BLEED_EDGE
        baselines = _even_baselines(len(rows), top, _REF_H - 20)
    mm = _PX_PER_MM  # reference pixels per mm
    truth = PrintoutTruth(leads, fs, (), tuple(b * page.sy for b in baselines), _TRACE_X0 * page.sx,
                          speed_mm_s * mm * page.sx, gain_mm_mv * mm * page.sy, float(heart_rate))
    if not traces:
        return page.image, truth
    panels = []
    label_y = {name: style.label_gap + cv2.getTextSize(name, style.font, style.label_size, 1)[0][1]
               if style.label_position == "below" else -style.label_gap for name in LEAD_NAMES}  # from the baseline
    for row, (leads_in_row, baseline) in enumerate(zip(rows, baselines)):
        pulse = _pulse_points(style.pulse, baseline, 10 * mm * (gain_mm_mv / 10), 0.2 * speed_mm_s * mm)
        if style.pulse == "edan":
            page.line(np.clip(pulse, (0, lo), (_REF_W, hi)), style.trace_px)
        column_w = _COLUMN_W * 4 / len(leads_in_row)
        seg = round(10.0 * (25 / speed_mm_s) / len(leads_in_row) * fs)
        for col, name in enumerate(leads_in_row):
            x = _TRACE_X0 + col * column_w
            samples = leads[name][col * seg:(col + 1) * seg]
            xs = x + np.arange(samples.size) * speed_mm_s * mm / fs
            ys = np.clip(baseline - samples * gain_mm_mv * mm, lo, hi)
            points = np.stack([xs, ys], axis=1)
            if col == 0 and style.pulse == "joined":
                points = np.concatenate([np.clip(pulse, (0, lo), (_REF_W, hi)), points])
            page.line(points, style.trace_px)
            panels.append(PrintedPanel(name, row, col, col * seg, xs * page.sx, ys * page.sy))
            page.text(x + 3, baseline + label_y[name], name, size=style.label_size, font=style.font)
            if col and style.boundaries == "ticks":
                page.tick(x, baseline)
    split = [b for row, b in zip(rows, baselines) if len(row) > 1]
    for col in range(1, len(rows[0]) if split and style.boundaries == "separators" else 0):
        x = _TRACE_X0 + col * _COLUMN_W * 4 / len(rows[0])
        page.line(np.array([[x, split[0] - 6 * mm], [x, split[-1] + 5 * mm]]), style.trace_px)
    return page.image, PrintoutTruth(**{**truth.__dict__, "panels": tuple(panels)})


def _pulse_points(pulse: str, baseline: float, height: float, joined_width: float) -> np.ndarray:
    """Reference-page points (N x 2) of a row's calibration pulse (none: no points).

    "edan": 5 mm wide from ``_PULSE_X0``, a gap before the trace; "joined": ``joined_width`` wide,
    ending at the trace's start (time 0) on the baseline.
    """
    if pulse == "edan":
        p, pw, mm = _PULSE_X0, 5 * _PX_PER_MM, _PX_PER_MM
        points = [[p, baseline], [p + mm, baseline], [p + mm, baseline - height], [p + mm + pw, baseline - height],
                  [p + mm + pw, baseline], [p + 2 * mm + pw, baseline]]
    elif pulse == "joined":
        up = _TRACE_X0 - joined_width
        points = [[up - _JOINED_LEAD_IN_MM * _PX_PER_MM, baseline], [up, baseline], [up, baseline - height],
                  [_TRACE_X0, baseline - height], [_TRACE_X0, baseline]]
    else:
        points = []
    return np.array(points, float).reshape(-1, 2)


def degrade(
    image: np.ndarray,
    *,
    creases: int = 0,
    colour_temperature: float = 0.0,
    rotation_deg: float = 0.0,
    noise: float = 0.0,
    jpeg_quality: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """``image`` (a rendered page, BGR uint8) as acquired: deterministic for a ``seed``, in this order:

    ``creases`` soft fold lines (straight or diagonal, darker or lighter, with a slight brightness
    step across each); ``rotation_deg`` about the centre (counter-clockwise, white corners);
    ``colour_temperature`` a warm (> 0) or cool (< 0) cast, red scaled by ``1 + t`` and blue by
    ``1 - t``; ``noise`` Gaussian noise of that standard deviation (grey levels, per channel);
    ``jpeg_quality`` JPEG re-compression. A :class:`PrintoutTruth`'s pixel positions are those before.
    """
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    page = image.astype(np.float32)
    if creases:
        page *= _crease_shading(height, width, creases, rng)[..., None]
    if rotation_deg:
        matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), rotation_deg, 1.0)
        page = cv2.warpAffine(page, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    if colour_temperature:
        page[..., 0] *= 1 - colour_temperature
        page[..., 2] *= 1 + colour_temperature
    if noise:
        page += rng.normal(0, noise, page.shape).astype(np.float32)
    out = np.clip(np.round(page), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        out = cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])[1], cv2.IMREAD_COLOR)
    return out


def _crease_shading(height: int, width: int, creases: int, rng: np.random.Generator) -> np.ndarray:
    """Brightness factor (``height x width``) of ``creases`` fold lines across a page."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shading = np.ones((height, width), np.float32)
    scale = width / _REF_W
    for _ in range(creases):
        angle = float(rng.choice([0.0, 90.0, rng.uniform(20, 70), rng.uniform(110, 160)]))
        nx, ny = np.sin(np.radians(angle)), -np.cos(np.radians(angle))  # the line's normal
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        distance = (xs - cx) * nx + (ys - cy) * ny
        half_width = rng.uniform(3, 8) * scale + 0.5
        depth = rng.uniform(0.15, 0.3) * (1 if rng.random() < 0.7 else -0.5)  # a darker, or lighter, fold
        step = rng.uniform(0.015, 0.04) * rng.choice([-1, 1])
        fold = np.exp(-0.5 * (distance / half_width) ** 2) + 0.3 * np.exp(-0.5 * (distance / (6 * half_width)) ** 2)
        shading *= 1 - depth * fold + step * np.tanh(distance / half_width)
    return shading


#: Named benchmark conditions: name -> (a :data:`STYLES` key, :func:`degrade` keywords for its page):
#: every style clean, and the "red" style creased (with a warm cast), rotated, and noisy and re-compressed.
STYLE_CONDITIONS: dict[str, tuple[str, dict[str, Any]]] = {
    **{name: (name, {}) for name in STYLES},
    "creased": ("red", {"creases": 3, "colour_temperature": 0.08}),
    "rotated": ("red", {"rotation_deg": 3.0}),
    "noisy": ("red", {"noise": 8.0, "jpeg_quality": 60}),
}


def render_condition(condition: str, *, seed: int = 0, **options: Any) -> tuple[np.ndarray, PrintoutTruth]:
    """A printout under a :data:`STYLE_CONDITIONS` entry (degraded with ``seed``) and its truth before degradation.

    ``options`` are :func:`render_printout_with_truth`'s (not ``style``).
    """
    if condition not in STYLE_CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {tuple(STYLE_CONDITIONS)}")
    style, degradation = STYLE_CONDITIONS[condition]
    image, truth = render_printout_with_truth(style=style, seed=seed, **options)
    return degrade(image, seed=seed, **degradation), truth
