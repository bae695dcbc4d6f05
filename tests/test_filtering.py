"""The NumPy band-pass and peak picking against scipy.signal (installed for tests; not in the app)."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_desktop.core.signals.filtering import bandpass_zero_phase, find_peaks

signal = pytest.importorskip("scipy.signal")


@pytest.mark.parametrize("seed", range(5))
def test_bandpass_matches_butterworth_filtfilt_away_from_the_ends(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(size=5000)) * 0.01 + np.sin(np.arange(5000) / 500 * 2 * np.pi * 12)
    expected = signal.sosfiltfilt(signal.butter(2, (8.0, 25.0), btype="bandpass", fs=500, output="sos"), values)
    got = bandpass_zero_phase(values, (8.0, 25.0), 500)
    inner = slice(250, -250)
    assert np.max(np.abs(got[inner] - expected[inner])) < 0.02 * np.max(np.abs(expected))


@pytest.mark.parametrize("seed", range(20))
def test_peaks_are_scipys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=800).cumsum() % 5, 1)  # rounding makes flat tops and ties
    expected = signal.find_peaks(values, height=2.0, distance=15)[0]
    np.testing.assert_array_equal(find_peaks(values, 2.0, 15), expected)
