"""Two signal tools the measurements need, in NumPy: a zero-phase Butterworth band-pass and peak picking.

scipy.signal has both (``butter`` + ``sosfiltfilt``, ``find_peaks``), but importing it loads scipy's stats,
optimize, special, linalg and more: about 70 MB in the desktop bundle for two small functions.
The tests check both against scipy.signal on random signals.
"""

from __future__ import annotations

import numpy as np


def bandpass_zero_phase(values: np.ndarray, band_hz: tuple[float, float], fs: float, order: int = 2) -> np.ndarray:
    """``values`` band-passed with the magnitude of ``scipy.signal.sosfiltfilt(butter(order, band_hz, "bandpass"))``:
    the digital Butterworth response (bilinear, pre-warped) applied forward and backward, i.e. its squared
    magnitude with no phase shift, done in the frequency domain on an odd-reflected copy (as filtfilt pads).
    Several signals of one length at once: ``values`` (signals, samples), each filtered as on its own."""
    size = values.shape[-1]
    pad = min(size - 1, int(3 * fs / band_hz[0]))
    padded = np.concatenate([2 * values[..., :1] - values[..., pad:0:-1], values,
                             2 * values[..., -1:] - values[..., -2 : -pad - 2 : -1]], axis=-1)
    freqs = np.fft.rfftfreq(padded.shape[-1], d=1.0 / fs)
    warped = np.tan(np.pi * np.minimum(freqs, fs / 2 * 0.999999) / fs)
    low, high = (np.tan(np.pi * f / fs) for f in band_hz)
    with np.errstate(divide="ignore"):
        x = (warped**2 - low * high) / (warped * (high - low))
    gain = 1.0 / (1.0 + x ** (2 * order))  # |H|^2: forward and backward
    gain[0] = 0.0
    filtered = np.fft.irfft(np.fft.rfft(padded, axis=-1) * gain, n=padded.shape[-1], axis=-1)
    return filtered[..., pad : pad + size]


def find_peaks(values: np.ndarray, height: float, distance: int) -> np.ndarray:
    """Indices of local maxima of ``values`` at least ``height`` high and ``distance`` samples apart, the higher
    kept first (as ``scipy.signal.find_peaks(values, height=height, distance=distance)[0]``; a flat top counts
    at its middle sample)."""
    step = np.diff(values)
    starts = np.r_[0, np.flatnonzero(step != 0) + 1]  # runs of equal samples (a flat top is one)
    ends = np.r_[starts[1:], values.size] - 1
    inner = (starts > 0) & (ends + 1 < values.size)
    starts, ends = starts[inner], ends[inner]
    top = (step[starts - 1] > 0) & (step[ends] < 0)  # higher than the samples on both sides
    peaks = (starts[top] + ends[top]) // 2
    candidates = peaks[values[peaks] >= height].astype(int)
    keep = np.ones(candidates.size, dtype=bool)
    for i in np.argsort(values[candidates])[::-1]:  # ties in the order scipy visits them
        if keep[i]:
            near = np.abs(candidates - candidates[i]) < distance
            near[i] = False
            keep &= ~near
    return candidates[keep]
