"""Finding thresholds for the core's decision rule, chosen on out-of-fold predictions, and the rule's scores."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from ecg_desktop.core.classify.decision import decide_all
from training.classifiers import summarise

MI = "mi"
MI_SENSITIVITY = 0.95  # MI's threshold is the highest that keeps at least this out-of-fold sensitivity
_GRID = np.round(np.arange(0.05, 0.91, 0.01), 2)


def choose_thresholds(probs: np.ndarray, labels: np.ndarray, class_ids: list[str]) -> dict[str, float]:
    """Per class, the threshold with the best one-vs-rest F1; for MI, the highest with the target sensitivity."""
    thresholds = {}
    for k, cid in enumerate(class_ids):
        positive = labels == k
        if cid == MI and positive.any():
            sensitive = [t for t in _GRID if (probs[positive, k] >= t).mean() >= MI_SENSITIVITY]
            thresholds[cid] = float(max(sensitive, default=_GRID[0]))
        else:
            scores = [f1_score(positive, probs[:, k] >= t, zero_division=0) for t in _GRID]
            thresholds[cid] = float(_GRID[int(np.argmax(scores))])
    return thresholds


def mi_operating_point(probs: np.ndarray, labels: np.ndarray, class_ids: list[str], threshold: float) -> dict:
    """MI sensitivity and the false alarms (non-MI scans listing MI as a finding) at ``threshold``."""
    k = class_ids.index(MI)
    flagged, positive = probs[:, k] >= threshold, labels == k
    return {
        "threshold": threshold, "mi_scans": int(positive.sum()), "detected": int((flagged & positive).sum()),
        "sensitivity": float(flagged[positive].mean()) if positive.any() else float("nan"),
        "false_alarms": int((flagged & ~positive).sum()), "non_mi_scans": int((~positive).sum()),
        "false_alarm_rate": float(flagged[~positive].mean()),
    }


def cross_fitted_rule(probs_by_fold: list[np.ndarray], labels_by_fold: list[np.ndarray], class_ids: list[str]) -> dict:
    """The rule scored honestly: each fold's thresholds are chosen on the other folds only."""
    predictions, mi_points = [], []
    for k, (probs, labels) in enumerate(zip(probs_by_fold, labels_by_fold)):
        others = [j for j in range(len(probs_by_fold)) if j != k]
        thresholds = choose_thresholds(
            np.concatenate([probs_by_fold[j] for j in others]), np.concatenate([labels_by_fold[j] for j in others]),
            class_ids,
        )
        chosen = [class_ids.index(c) for c in decide_all(probs, class_ids, thresholds)]
        predictions.append(np.eye(len(class_ids))[chosen])
        mi_points.append(mi_operating_point(probs, labels, class_ids, thresholds[MI]))
    summary = summarise(predictions, labels_by_fold, class_ids)
    detected = sum(p["detected"] for p in mi_points)
    alarms = sum(p["false_alarms"] for p in mi_points)
    mi_total = sum(p["mi_scans"] for p in mi_points)
    others_total = sum(p["non_mi_scans"] for p in mi_points)
    summary["mi_finding"] = {
        "sensitivity": detected / mi_total, "detected": detected, "mi_scans": mi_total,
        "false_alarms": alarms, "non_mi_scans": others_total, "false_alarm_rate": alarms / others_total,
    }
    return summary
