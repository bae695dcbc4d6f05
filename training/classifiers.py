"""Classifiers compared on the CNN features, and the metrics they are judged by."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.naive_bayes import GaussianNB
from sklearn.utils.class_weight import compute_sample_weight
from xgboost import XGBClassifier


def make_lightgbm(seed: int) -> lightgbm.LGBMClassifier:
    """The shipped classifier: small trees for a few hundred samples, balanced class weights."""
    return lightgbm.LGBMClassifier(
        n_estimators=300, learning_rate=0.03, num_leaves=8, min_child_samples=5,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.7, reg_lambda=1.0,
        class_weight="balanced", random_state=seed, n_jobs=2, verbose=-1,
    )


def _xgboost(seed: int) -> XGBClassifier:
    return XGBClassifier(
        n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8, colsample_bytree=0.7,
        random_state=seed, n_jobs=2, tree_method="hist",
    )


def _random_forest(seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=400, class_weight="balanced", random_state=seed, n_jobs=2)


CLASSIFIERS: dict[str, Callable[[int], Any]] = {
    "lightgbm": make_lightgbm,
    "xgboost": _xgboost,
    "random_forest": _random_forest,
    "naive_bayes": lambda seed: GaussianNB(),
}
NEEDS_SAMPLE_WEIGHT = {"xgboost", "naive_bayes"}


def fit_predict(name: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int) -> np.ndarray:
    """Fit classifier ``name`` (class-balanced) and return its test-set probabilities."""
    model = CLASSIFIERS[name](seed)
    if name in NEEDS_SAMPLE_WEIGHT:
        model.fit(train_x, train_y, sample_weight=compute_sample_weight("balanced", train_y))
    else:
        model.fit(train_x, train_y)
    return model.predict_proba(test_x)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def summarise(
    probs_by_fold: list[np.ndarray], labels_by_fold: list[np.ndarray], class_ids: list[str]
) -> dict[str, Any]:
    """Per-fold macro-F1 (mean, std, values) and pooled out-of-fold per-class metrics and confusion."""
    ks = list(range(len(class_ids)))
    per_fold = [
        float(f1_score(y, p.argmax(1), labels=ks, average="macro", zero_division=0))
        for p, y in zip(probs_by_fold, labels_by_fold)
    ]
    class_f1_per_fold = {
        cid: [float(f1_score(y == k, p.argmax(1) == k, zero_division=0)) for p, y in zip(probs_by_fold, labels_by_fold)]
        for k, cid in enumerate(class_ids)
    }
    y = np.concatenate(labels_by_fold)
    pred = np.concatenate(probs_by_fold).argmax(1)
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=ks, zero_division=0)
    return {
        "macro_f1_mean": float(np.mean(per_fold)),
        "macro_f1_std": float(np.std(per_fold)),
        "macro_f1_per_fold": per_fold,
        "class_f1_per_fold": class_f1_per_fold,
        "pooled_macro_f1": float(f1_score(y, pred, labels=ks, average="macro", zero_division=0)),
        "accuracy": float((pred == y).mean()),
        "per_class": {
            cid: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]), "support": int(support[k])}
            for k, cid in enumerate(class_ids)
        },
        "confusion_matrix": confusion_matrix(y, pred, labels=ks).tolist(),
    }


#: An answer is low confidence where out-of-fold answers no surer than it were right at most this often (2 in 3).
#: At "at most half", a few scans either way decided whether the flag existed at all (it came out 0.0, never
#: flagging, in the ink_only run, where answers below 0.80 were right 52% of the time).
LOW_CONFIDENCE_ACCURACY = 2 / 3


def low_confidence_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """Highest top-class probability t (0.30 to 0.95) such that the five or more out-of-fold predictions below t are
    right at most LOW_CONFIDENCE_ACCURACY of the time; 0.0 if there is none."""
    top = probs.max(1)
    right = probs.argmax(1) == labels
    best = 0.0
    for t in np.round(np.arange(0.30, 0.96, 0.05), 2):
        below = top < t
        if below.sum() >= 5 and right[below].mean() <= LOW_CONFIDENCE_ACCURACY:
            best = float(t)
    return best
