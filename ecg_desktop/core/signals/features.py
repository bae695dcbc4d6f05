"""The signal branch's input: numbers a cardiologist reads off the 12 leads, from their median beats.

Per lead (``LEADS`` order), against the PR segment (10-40 ms before the QRS onset): the ST level at
J+60 and J+80 ms (J: the QRS offset), the Q wave's depth and width, the R and S amplitudes, the T wave's
signed amplitude and the net QRS deflection; then the rhythm (heart rate, RR irregularity) and the global
measurements (PR, QRS, QT, QTc, axis). A value that cannot be read is NaN; a page that could not be
digitized is all NaN (the second stage takes missing values).
"""

from __future__ import annotations

import numpy as np

from ecg_desktop.core.page.reading import PageReading
from ecg_desktop.core.signals.digitize import LEADS
from ecg_desktop.core.signals.measure import NONE, Measurements, MedianBeats, measure_beats, median_beats

_PER_LEAD = ("st60", "st80", "q_depth", "q_width", "r_amp", "s_amp", "t_amp", "qrs_net")
_GLOBAL = ("heart_rate", "rr_irregularity", "pr", "qrs", "qt", "qtc", "axis_sin", "axis_cos")
FEATURE_NAMES: tuple[str, ...] = tuple(f"{lead}_{name}" for lead in LEADS for name in _PER_LEAD) + _GLOBAL
_PR_SEGMENT_S = (0.04, 0.01)  # the isoelectric reference: this long before the QRS onset to this long before
_ST_S = (0.06, 0.08)
_Q_MV = 0.02  # a Q wave goes at least this far below the reference
_T_FROM_S = 0.12  # the T wave is looked for from this long after J


def signal_features(found: MedianBeats | None, measurements: Measurements) -> np.ndarray:
    """The features (``FEATURE_NAMES`` order, float32, NaN where not read) of a record's median beats and their
    measurements; all NaN without beats."""
    lead_values = np.full((len(LEADS), len(_PER_LEAD)), np.nan)
    rr_irregularity = None
    if found is not None:
        lead_values = _lead_features(found)
        rr = found.rr_intervals_s
        rr_irregularity = float(np.std(rr) / np.mean(rr)) if rr.size > 1 else None
    m, axis = measurements, measurements.axis_deg
    angle = None if axis is None else np.radians(axis)
    global_values = {"heart_rate": m.heart_rate_bpm, "rr_irregularity": rr_irregularity, "pr": m.pr_ms,
                     "qrs": m.qrs_ms, "qt": m.qt_ms, "qtc": m.qtc_ms,
                     "axis_sin": None if angle is None else np.sin(angle),
                     "axis_cos": None if angle is None else np.cos(angle)}
    named = [np.nan if global_values[name] is None else global_values[name] for name in _GLOBAL]
    return np.concatenate([lead_values.ravel(), named]).astype(np.float32)


def _lead_features(found: MedianBeats) -> np.ndarray:
    """(12, len(_PER_LEAD)) per-lead features; NaN rows for leads without a median beat or without QRS bounds."""
    table = np.full((len(LEADS), len(_PER_LEAD)), np.nan)
    if found.qrs is None or found.qrs[1] <= found.qrs[0]:
        return table
    fs, (onset, offset) = found.fs, found.qrs
    reference = slice(max(0, onset - round(_PR_SEGMENT_S[0] * fs)), max(1, onset - round(_PR_SEGMENT_S[1] * fs)))
    for i, lead in enumerate(LEADS):
        beat = found.beats.get(lead)
        if beat is None:
            continue
        beat = beat - float(np.median(beat[reference]))
        qrs = beat[onset : offset + 1]
        peak = int(np.argmax(qrs))
        initial = qrs[: max(1, peak)]
        below = initial < -_Q_MV
        q_width = (np.argmin(below) if not below.all() else below.size) if below[0] else 0
        st = [beat[j] if (j := offset + round(s * fs)) < beat.size else np.nan for s in _ST_S]
        t_segment = beat[min(beat.size, offset + round(_T_FROM_S * fs)):]
        t_amp = float(t_segment[np.argmax(np.abs(t_segment))]) if t_segment.size else np.nan
        table[i] = (*st, max(0.0, -float(initial.min())), 1000 * q_width / fs, float(qrs.max()),
                    max(0.0, -float(qrs[peak:].min())), t_amp, float(qrs.max() + qrs.min()))
    return table


def page_signal_features(page: PageReading) -> np.ndarray:
    """The features of a page as the model reads it: digitized in the reading's analysis-size copy (as the image
    branch's input is made); all NaN when the page cannot be digitized."""
    from ecg_desktop.core.signals.digitize import DigitizeError, digitize_reading

    try:
        digitization = digitize_reading(page)
    except DigitizeError:
        return signal_features(None, NONE)
    found = median_beats(digitization.signals(), digitization.fs, digitization.rhythm_lead)
    return signal_features(found, NONE if found is None else measure_beats(found, digitization.rhythm_lead))
