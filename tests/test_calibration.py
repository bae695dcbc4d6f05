"""Temperature calibration: shared by training (fit) and the app (apply)."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_desktop.core.classify.calibration import apply_temperature

pytest.importorskip("sklearn")
from training.calibration import bootstrap_f1, cross_fitted, expected_calibration_error, fit_temperature


def test_temperature_keeps_ranking_and_sums_to_one() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    assert np.allclose(apply_temperature(probs, 1.0), probs)
    for t in (0.5, 2.0):
        scaled = apply_temperature(probs, t)
        assert np.allclose(scaled.sum(1), 1) and (scaled.argmax(1) == probs.argmax(1)).all()
    assert apply_temperature(probs, 2.0)[0, 0] < 0.7 < apply_temperature(probs, 0.5)[0, 0]


def test_overconfident_predictions_get_a_temperature_above_one_and_lower_ece() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    right = rng.random(600) < 0.7  # 70% accurate ...
    pred = np.where(right, labels, (labels + 1) % 3)
    probs = np.full((600, 3), 0.01)
    probs[np.arange(600), pred] = 0.98  # ... but 98% sure
    t = fit_temperature(probs, labels)
    assert t > 1.5
    folds = np.array_split(np.arange(600), 5)
    calibrated = np.concatenate(cross_fitted([probs[f] for f in folds], [labels[f] for f in folds]))
    assert expected_calibration_error(calibrated, labels) < expected_calibration_error(probs, labels) / 2


def test_bootstrap_interval_contains_the_point_estimate() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    probs = np.eye(2)[np.where(rng.random(200) < 0.8, labels, 1 - labels)]
    ci = bootstrap_f1(probs, labels, ["a", "b"], seed=0, rounds=200)
    assert ci["macro_f1"][0] < 0.8 < ci["macro_f1"][1]
