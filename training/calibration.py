"""Temperature scaling of out-of-fold probabilities, its expected calibration error, and bootstrap CIs."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.metrics import f1_score

from ecg_desktop.core.classify.calibration import apply_temperature

_TEMPERATURES = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``labels`` (grid search, 0.2 to 5)."""
    losses = [_nll(apply_temperature(probs, t), labels) for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))


def cross_fitted(probs_by_fold: list[np.ndarray], labels_by_fold: list[np.ndarray]) -> list[np.ndarray]:
    """Calibrate each fold with a temperature fitted on the other folds only (an honest ECE after)."""
    calibrated = []
    for k, probs in enumerate(probs_by_fold):
        others = [i for i in range(len(probs_by_fold)) if i != k]
        t = fit_temperature(np.concatenate([probs_by_fold[i] for i in others]),
                            np.concatenate([labels_by_fold[i] for i in others]))
        calibrated.append(apply_temperature(probs, t))
    return calibrated


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> float:
    """ECE of the top-class confidence over equal-width bins."""
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def bootstrap_f1(probs: np.ndarray, labels: np.ndarray, class_ids: list[str], *, seed: int, rounds: int = 1000) -> dict:
    """95% percentile bootstrap intervals of macro-F1 and per-class F1 on pooled out-of-fold predictions."""
    rng = np.random.default_rng(seed)
    pred = probs.argmax(1)
    ks = list(range(len(class_ids)))
    samples = []
    for _ in range(rounds):
        idx = rng.integers(0, len(labels), len(labels))
        per_class = f1_score(labels[idx], pred[idx], labels=ks, average=None, zero_division=0)
        samples.append([per_class.mean(), *per_class])
    low, high = np.percentile(np.array(samples), [2.5, 97.5], axis=0)
    names = ["macro_f1", *class_ids]
    return {name: [round(float(lo), 4), round(float(hi), 4)] for name, lo, hi in zip(names, low, high)}


def summary(probs_by_fold: list[np.ndarray], labels_by_fold: list[np.ndarray], calibrated: np.ndarray,
            classifier: str) -> dict:
    """The shipped temperature (fitted on all out-of-fold ``probs_by_fold`` of ``classifier``) and the expected
    calibration error before and after (``calibrated``: the pooled :func:`cross_fitted` probabilities)."""
    raw, labels = np.concatenate(probs_by_fold), np.concatenate(labels_by_fold)
    return {
        "method": f"temperature scaling of the shipped classifier's ({classifier}) probabilities, fitted on "
                  "out-of-fold predictions",
        "temperature": fit_temperature(raw, labels),
        "ece_before": expected_calibration_error(raw, labels),
        "ece_after_cross_fitted": expected_calibration_error(calibrated, labels),
    }
