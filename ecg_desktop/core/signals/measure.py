"""Global ECG measurements from 12 digitized leads: heart rate, RR, PR, QRS, QT, QTc (Bazett) and QRS axis.

Beats are found on the rhythm lead (10 s), helped by every other lead printed at the same time
(a QRS detector on the summed slope energy). Intervals are measured on median beats, smoothed over 8 ms:
the QRS onset and offset where the mean slope of the leads with a clear QRS (each lead's slope as a share
of its own steepest, so that no lead outweighs the others) falls to a tenth of its peak on either side of
the R wave; the P wave's onset on lead II (the rhythm strip's lead when it is II); the T wave's end by the
tangent method (the tangent at the T wave's steepest descent meets the level at the QRS onset) on every
lead with a clear T wave, the median of their ends weighted by the T waves' heights (a taller T wave's
tangent is surer); the axis from the net QRS deflection in I and aVF. The leads must agree: unless more than
half of them begin and end the QRS within 20 ms, and (by T wave height) end the T wave within 40 ms, of the
middle one, QRS (or QT and QTc) is None with a note. A value that cannot be measured is
None, and so is one outside what a heart can show (:func:`plausible`: a QT as long as the beat, a QRS of 300 ms),
with a note saying which and why. These are the usual textbook methods, not a validated measurement program
(benchmarks/bench_measure.py measures them against the signals drawn on rendered pages and neurokit2).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ecg_desktop.core.signals.digitize import LEADS, Digitization
from ecg_desktop.core.signals.filtering import bandpass_zero_phase, find_peaks

_BAND_HZ = (8.0, 25.0)  # QRS energy band
_ENERGY_WINDOW_S = 0.08
_REFRACTORY_S = 0.25  # beats are at least this far apart (240 bpm)
_PEAK_SHARE = 0.3  # a QRS's energy is at least this share of the record's typical QRS energy
_RR_OUTLIER = (0.4, 1.8)  # RR intervals this far from the median are detection errors, not beats
_PRE_S, _POST_S = 0.30, 0.60  # median beat window around the R wave (shortened for fast rates)
_MIN_LEAD_SHARE = 0.5  # a lead must be traced over this share of its samples to be used
_SMOOTH_S = 0.008  # the median beats are smoothed over this long before their slopes are taken
_SLOPE_SHARE = 0.1  # QRS onset/offset: a lead's slope falls below this share of its peak
_BRIDGE_S = 0.02  # a lead's slope is bridged over its dips at R and S tips (moving maximum)
_CLEAR_QRS_SHARE = 0.25  # a lead's QRS is clear when its steepest slope is this share of the steepest lead's
_QRS_SEARCH_S = (0.12, 0.16)  # onset searched this far before the R wave, offset this far after
_P_WINDOW_S = (0.30, 0.06)  # the P wave lies this far before the QRS onset
_MIN_P_MV, _MIN_T_MV = 0.06, 0.05
_WAVE_EDGE_SHARE = 0.15  # a P wave begins where it falls to this share of its amplitude
_T_START_S = 0.08  # the T wave is searched from this long after the QRS offset
_T_PEAK_RR = 0.6  # the T wave peaks before this share of the RR interval after the R wave (the next P wave after)
_CLEAR_T_SHARE = 0.3  # a lead's T wave is clear at this share of the largest lead's (and _MIN_T_MV at least)
_QRS_AGREE_S, _T_AGREE_S = 0.02, 0.04  # most leads' QRS onsets (offsets; T ends) lie this close to their median
_RATE_BPM = (20.0, 300.0)  # plausible ranges: heart rate, PR, QRS, QTc (ms); a QT ends before this share of RR
_PR_MS, _QRS_MS, _QTC_MS, _QT_RR = (60.0, 400.0), (40.0, 200.0), (250.0, 650.0), 0.8


@dataclass(frozen=True)
class Measurements:
    """Global measurements; None where not measurable or not plausible (``notes`` say which and why)."""

    heart_rate_bpm: float | None
    rr_ms: float | None
    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    qtc_ms: float | None
    axis_deg: float | None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float | None]:
        """JSON-ready values, rounded to whole units (the notes apart)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "notes"}
        return {k: None if v is None else round(float(v)) for k, v in values.items()}


NONE = Measurements(None, None, None, None, None, None, None)


def measure(digitization: Digitization) -> Measurements:
    """Measure a digitized printout."""
    return measure_signals(digitization.signals(), digitization.fs, digitization.rhythm_lead)


def measure_signals(signals: np.ndarray, fs: int, rhythm_lead: str = "II") -> Measurements:
    """Measure a (samples, 12) array of leads in ``digitize.LEADS`` order (mV, NaN where not printed)."""
    found = median_beats(signals, fs, rhythm_lead)
    return NONE if found is None else measure_beats(found, rhythm_lead)


def measure_beats(found: MedianBeats, rhythm_lead: str = "II") -> Measurements:
    """Measure a record's median beats (:func:`median_beats`; ``rhythm_lead``: the lead its beats were found on)."""
    beats, rr_s, fs = found.beats, found.mean_rr_s, found.fs
    pr = qrs = qt = qtc = axis = None
    notes: list[str] = []
    if found.qrs is not None:
        onset, offset = found.qrs
        qrs = 1000 * (offset - onset) / fs
        leads = _lead_qrs_bounds(beats, found.r, fs)
        onsets, offsets = ([bounds[i] for bounds in leads.values()] for i in (0, 1))
        if not (_agreeing(onsets, _QRS_AGREE_S * fs) and _agreeing(offsets, _QRS_AGREE_S * fs)):
            notes.append(f"QRS {qrs:.0f} ms not shown: the leads disagree on where the QRS complex begins or ends "
                         f"(no more than half of the {len(leads)} leads with a clear QRS begin, or end, within "
                         f"{1000 * _QRS_AGREE_S:.0f} ms of the middle one); read it on the printout.")
            qrs = None
        p_lead = beats.get("II", beats.get(rhythm_lead))
        p_onset = _p_onset(p_lead, onset, fs) if p_lead is not None else None
        pr = None if p_onset is None else 1000 * (onset - p_onset) / fs
        t_waves = _lead_t_ends(beats, onset, offset, found.r + round(_T_PEAK_RR * rr_s * fs), fs).values()
        sizes, ends = [size for size, _ in t_waves], [end for _, end in t_waves]
        if ends:
            qt = 1000 * (_median(ends, sizes) - onset) / fs
            qtc = qt / np.sqrt(rr_s)
        else:
            notes.append("QT not measured: no lead shows a clear T wave end; read QT and QTc on the printout.")
        if ends and not _agreeing(ends, _T_AGREE_S * fs, sizes):
            notes.append(f"QT {qt:.0f} ms not shown: the leads disagree on where the T wave ends (no more than half "
                         f"of the {len(ends)} leads with a clear T wave, counted by T wave height, end within "
                         f"{1000 * _T_AGREE_S:.0f} ms of the middle one); read QT and QTc on the printout.")
            qt = qtc = None
        axis = _axis(beats, onset, offset)
    else:
        notes.append("The QRS complex's onset and offset were not found: PR, QRS, QT and the axis are not measured; "
                     "read them on the printout.")
    return plausible(Measurements(60.0 / rr_s, 1000 * rr_s, pr, qrs, qt, qtc, axis, tuple(notes)))


def _agreeing(values: list[int], tolerance: float, weights: list[float] | None = None) -> bool:
    """Whether the leads agree on a wave's edge: more than half of ``values`` (one per lead; by ``weights`` when given)
    lie within ``tolerance`` (samples) of their median (fewer than two leads cannot disagree)."""
    if len(values) < 2:
        return True
    close = np.abs(np.array(values) - _median(values, weights)) <= tolerance
    return bool(np.average(close, weights=weights) > 0.5)


def _median(values: list[int], weights: list[float] | None = None) -> float:
    """The (weighted) median of ``values``: the smallest value with at least half of the weight at or below it."""
    if weights is None:
        return float(np.median(values))
    order = np.argsort(values)
    cumulative = np.cumsum(np.array(weights)[order])
    return float(np.array(values)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


@dataclass(frozen=True, eq=False)
class MedianBeats:
    """The beats of a record: each lead's median beat (mV, the R wave at index ``r``), the RR intervals kept
    and the QRS onset and offset (indices into the beats; None when not found)."""

    beats: dict[str, np.ndarray]
    r: int
    rr_intervals_s: np.ndarray
    qrs: tuple[int, int] | None
    fs: int

    @property
    def mean_rr_s(self) -> float:
        """The mean RR interval (s)."""
        return float(np.mean(self.rr_intervals_s))


def median_beats(signals: np.ndarray, fs: int, rhythm_lead: str = "II") -> MedianBeats | None:
    """The median beats of a (samples, 12) array of leads in ``digitize.LEADS`` order; None with fewer than two
    beats found."""
    leads = {name: signals[:, i].astype(np.float64) for i, name in enumerate(LEADS)}
    peaks = _r_peaks(leads, fs, rhythm_lead)
    if peaks.size < 2:
        return None
    rr = np.diff(peaks) / fs
    rr = rr[(rr > _RR_OUTLIER[0] * np.median(rr)) & (rr < _RR_OUTLIER[1] * np.median(rr))]
    if rr.size == 0:
        return None
    rr_s = float(np.mean(rr))
    beats = {name: b for name, v in leads.items() if (b := _median_beat(v, peaks, fs, rr_s)) is not None}
    pre = round(min(_PRE_S, 0.45 * rr_s) * fs)
    return MedianBeats(beats, pre, rr, _qrs_bounds(beats, pre, fs), fs)


def plausible(found: Measurements) -> Measurements:
    """``found`` with each value a heart cannot show set to None and a note saying so: a heart rate outside
    20-300 bpm (then nothing is shown), PR outside 60-400 ms, QRS outside 40-200 ms, a QT reaching 80% of the RR
    interval or a QTc outside 250-650 ms (QT and QTc both: the T wave's end was taken from something else)."""
    rate = found.heart_rate_bpm
    if rate is not None and not _RATE_BPM[0] <= rate <= _RATE_BPM[1]:
        note = (f"Heart rate {rate:.0f} bpm is outside {_RATE_BPM[0]:.0f}-{_RATE_BPM[1]:.0f} bpm: the beats were not "
                "found reliably, so no measurement is shown.")
        return replace(NONE, notes=(note,))
    changes: dict[str, None] = {}
    notes = list(found.notes)
    for field, label, (low, high) in (("pr_ms", "PR", _PR_MS), ("qrs_ms", "QRS", _QRS_MS)):
        value = getattr(found, field)
        if value is not None and not low <= value <= high:
            changes[field] = None
            notes.append(f"{label} {value:.0f} ms is outside {low:.0f}-{high:.0f} ms: not shown; read it on the printout.")
    qt, qtc, rr = found.qt_ms, found.qtc_ms, found.rr_ms
    if qt is not None and qtc is not None and rr is not None and (
            qt >= _QT_RR * rr or not _QTC_MS[0] <= qtc <= _QTC_MS[1]):
        changes["qt_ms"] = changes["qtc_ms"] = None
        notes.append(f"QT {qt:.0f} ms at RR {rr:.0f} ms (QTc {qtc:.0f} ms) is not plausible: the T wave's end was not "
                     "found reliably, so QT and QTc are not shown; read them on the printout.")
    return replace(found, **changes, notes=tuple(notes))


def _filled(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with NaN gaps bridged linearly (ends held), and where they were traced."""
    traced = ~np.isnan(values)
    if not traced.any():
        return np.zeros_like(values), traced
    at = np.arange(values.size)
    return np.interp(at, at[traced], values[traced]), traced


def _energies(leads: list[np.ndarray], fs: int) -> list[np.ndarray]:
    """QRS energy of each lead: band-passed slope squared, smoothed, normalised by its own typical peak (0 where absent;
    the leads band-passed together, each as on its own)."""
    out = [np.zeros_like(values) for values in leads]
    filled = [_filled(values) for values in leads]
    used = [i for i, (_, traced) in enumerate(filled) if traced.mean() >= 0.05]
    if not used:
        return out
    slopes = np.gradient(bandpass_zero_phase(np.stack([filled[i][0] for i in used]), _BAND_HZ, fs), axis=-1)
    window = max(1, round(_ENERGY_WINDOW_S * fs))
    for i, slope in zip(used, slopes):
        traced = filled[i][1]
        energy = np.convolve(slope**2, np.ones(window) / window, mode="same")
        energy[~traced] = 0.0
        scale = np.percentile(energy[traced], 98)
        out[i] = energy / scale if scale > 0 else energy * 0
    return out


def _r_peaks(leads: dict[str, np.ndarray], fs: int, rhythm_lead: str) -> np.ndarray:
    """Sample indices of the R waves: peaks of the rhythm lead's QRS energy plus the other leads' (half weight)."""
    rhythm, *others = _energies([leads[rhythm_lead], *(v for name, v in leads.items() if name != rhythm_lead)], fs)
    present = np.sum([o > 0 for o in others], axis=0)
    combined = rhythm + 0.5 * np.sum(others, axis=0) / np.maximum(present, 1)
    typical = np.percentile(combined, 99)
    found = find_peaks(combined, _PEAK_SHARE * typical, round(_REFRACTORY_S * fs))
    filled, _ = _filled(leads[rhythm_lead])
    reach = round(0.05 * fs)
    refined = []
    for peak in found:  # the largest deflection of the rhythm lead nearby
        lo, hi = max(0, peak - reach), min(filled.size, peak + reach + 1)
        segment = filled[lo:hi] - np.median(filled[max(0, peak - fs // 2) : peak + fs // 2])
        refined.append(lo + int(np.argmax(np.abs(segment))))
    return np.unique(refined)


def _median_beat(values: np.ndarray, peaks: np.ndarray, fs: int, rr_s: float) -> np.ndarray | None:
    """The median of the complete, traced beats of one lead around ``peaks`` (None without any)."""
    pre, post = round(min(_PRE_S, 0.45 * rr_s) * fs), round(min(_POST_S, 0.85 * rr_s) * fs)
    windows = [values[p - pre : p + post] for p in peaks if p - pre >= 0 and p + post <= values.size]
    windows = [_filled(w)[0] for w in windows if np.mean(~np.isnan(w)) >= _MIN_LEAD_SHARE]
    return np.median(np.stack(windows), axis=0) if windows else None


def _qrs_bounds(beats: dict[str, np.ndarray], r: int, fs: int) -> tuple[int, int] | None:
    """QRS onset and offset (indices into the median beats): from the R wave, where the leads' mean slope falls below a
    share of its peak (each lead's slope as a share of its own steepest; :func:`_qrs_slopes` weighs the leads)."""
    slopes, weights, (lo, hi) = _qrs_slopes(beats, r, fs)
    if not slopes:
        return None
    return _edges(np.average(list(slopes.values()), axis=0, weights=list(weights.values())), r, lo, hi, fs)


def _lead_qrs_bounds(beats: dict[str, np.ndarray], r: int, fs: int) -> dict[str, tuple[int, int]]:
    """Each lead's QRS onset and offset (as :func:`_qrs_bounds` finds them, on its slope alone from its steepest
    point), on the leads with a clear QRS."""
    slopes, weights, (lo, hi) = _qrs_slopes(beats, r, fs)
    found = {name: _edges(slope, r, lo, hi, fs, from_steepest=True) for name, slope in slopes.items()
             if weights[name] == 1}
    return {name: bounds for name, bounds in found.items() if bounds is not None}


def _qrs_slopes(beats: dict[str, np.ndarray], r: int, fs: int) -> tuple[dict[str, np.ndarray], dict[str, float],
                                                                         tuple[int, int]]:
    """Each lead's slope (smoothed, bridged over the dips at R and S tips, as a share of its steepest in the QRS search
    window), its weight (1 for a clear QRS: a steepest slope at least ``_CLEAR_QRS_SHARE`` of the steepest lead's;
    falling with the square of its share below that, so that no lead's weight jumps), and that window."""
    size = next(iter(beats.values())).size if beats else 0
    lo, hi = max(0, r - round(_QRS_SEARCH_S[0] * fs)), min(size, r + round(_QRS_SEARCH_S[1] * fs))
    reach = max(1, round(_BRIDGE_S * fs / 2))
    slopes, peaks = {}, {}
    for name, beat in beats.items():
        slope = np.abs(np.gradient(_smoothed(beat, round(_SMOOTH_S * fs))))
        bridged = _moving_max(slope, reach)
        if hi - lo >= 2 and (peak := float(bridged[lo:hi].max())) > 0:
            slopes[name], peaks[name] = bridged / peak, peak
    clear = _CLEAR_QRS_SHARE * max(peaks.values(), default=0.0)
    return slopes, {name: min(1.0, peak / clear) ** 2 for name, peak in peaks.items()}, (lo, hi)


def _moving_max(values: np.ndarray, reach: int) -> np.ndarray:
    """Each value's maximum over its neighbours up to ``reach`` samples away on either side (fewer at the ends)."""
    padded = np.pad(values, reach, constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=-1)


def _edges(slope: np.ndarray, r: int, lo: int, hi: int, fs: int, *, from_steepest: bool = False) -> tuple[int, int] | None:
    """Where a bridged slope falls below ``_SLOPE_SHARE`` of its peak (above its floor) before and after the R wave
    (or the slope's steepest point, also when the slope at the R wave is that low), or None."""
    reach = max(1, round(_BRIDGE_S * fs / 2))
    peak, floor = slope[lo:hi].max(), np.percentile(slope, 20)
    if peak <= floor:
        return None
    below = slope < floor + _SLOPE_SHARE * (peak - floor)
    centre = lo + int(np.argmax(slope[lo:hi])) if from_steepest or below[r] else r
    before, after = np.flatnonzero(below[lo:centre]), np.flatnonzero(below[centre:hi])
    if before.size == 0 or after.size == 0:
        return None
    onset, offset = lo + int(before[-1]) + reach, centre + int(after[0]) - reach
    return (onset, offset) if onset < offset else None


def _smoothed(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` under a moving average ``width`` samples wide (ends held)."""
    if width < 2:
        return values
    padded = np.pad(values, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def _p_onset(beat: np.ndarray, onset: int, fs: int) -> int | None:
    """Where the P wave before ``onset`` begins, or None without a clear P wave."""
    lo, hi = max(0, onset - round(_P_WINDOW_S[0] * fs)), onset - round(_P_WINDOW_S[1] * fs)
    if hi - lo < 0.05 * fs:
        return None
    level = beat[lo]
    deviation = beat[lo:hi] - level
    top = int(np.argmax(np.abs(deviation)))
    amplitude = abs(deviation[top])
    if amplitude < _MIN_P_MV:
        return None
    quiet = np.flatnonzero(np.abs(deviation[:top]) < _WAVE_EDGE_SHARE * amplitude)
    return lo + int(quiet[-1]) if quiet.size else None


def _lead_t_ends(beats: dict[str, np.ndarray], onset: int, offset: int, stop: int, fs: int
                 ) -> dict[str, tuple[float, int]]:
    """Where the T wave ends by the tangent method, on each lead with a clear T wave: on the smoothed beat, the tangent
    at the steepest point after the T wave's peak reaches the level at the QRS onset. The T wave's peak and steepest
    descent are looked for before ``stop`` (not to take the next beat's P wave for it); its tangent may end after it,
    within the beat."""
    start = offset + round(_T_START_S * fs)
    found: dict[str, tuple[float, int]] = {}
    for name, beat in beats.items():
        stop = min(stop, beat.size)
        if stop - start < 0.05 * fs:
            continue
        smooth = _smoothed(beat, round(_SMOOTH_S * fs))
        segment = smooth[start:stop] - smooth[onset]
        peak = int(np.argmax(np.abs(segment)))
        slope = np.gradient(segment)
        after = slope[peak:] * -np.sign(segment[peak])
        if after.size < 3:
            continue
        steep = peak + int(np.argmax(after))
        if slope[steep] == 0:
            continue
        crossing = steep - segment[steep] / slope[steep]
        if steep <= crossing < beat.size - start:
            found[name] = (float(abs(segment[peak])), start + round(crossing))
    largest = max((amplitude for amplitude, _ in found.values()), default=0.0)
    clear = max(_MIN_T_MV, _CLEAR_T_SHARE * largest)
    return {name: (amplitude, end) for name, (amplitude, end) in found.items() if amplitude >= clear}


def _axis(beats: dict[str, np.ndarray], onset: int, offset: int) -> float | None:
    """Frontal QRS axis (degrees) from the net QRS deflection in I and aVF."""
    if "I" not in beats or "aVF" not in beats or offset <= onset:
        return None
    net = []
    for name in ("I", "aVF"):
        qrs = beats[name][onset : offset + 1] - beats[name][onset]
        net.append(float(qrs.max() + qrs.min()))
    if abs(net[0]) + abs(net[1]) < 1e-3:
        return None
    return float(np.degrees(np.arctan2(net[1], net[0])))
