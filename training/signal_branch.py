"""The signal branch in training: the digitized leads' features (core.signals.features) beside the image branch's
out-of-fold probabilities in a second LightGBM, the stacker, scored by the same grouped folds.

Fold ``k``'s stacker learns from the other folds' rows: their image probabilities are out of fold (each from a
CNN and LightGBM that did not see that scan), as the image probabilities of a new scan are for the shipped model.
The shipped stacker learns from every scan's out-of-fold row. The signals' own classifier (the same features,
no image) is scored and shipped too: the app warns when it and the image branch disagree on Normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm
import numpy as np

from ecg_desktop.core.classify.signal_branch import disagree, stack_inputs
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.signals.features import page_signal_features

STACKER_FILE, SIGNALS_FILE = "signal_stacker.txt", "signal_classifier.txt"


def make_signal_lightgbm(seed: int) -> lightgbm.LGBMClassifier:
    """The stacker's and the signals' classifier: a few hundred rows of ~100 features, many of them missing;
    chosen on the grouped folds (400 trees of 7 leaves at rate 0.02, half the features per tree)."""
    return lightgbm.LGBMClassifier(
        n_estimators=400, learning_rate=0.02, num_leaves=7, min_child_samples=10,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.5,
        class_weight="balanced", random_state=seed, n_jobs=1, verbose=-1,
    )


def features_of(images: list[np.ndarray]) -> np.ndarray:
    """The signal features of each analysis-size scan, read as the app reads it."""
    return np.stack([page_signal_features(read_page(image)) for image in images])


@dataclass
class SignalBranchFolds:
    """Per fold: out-of-fold probabilities of the combination and of the signals alone, and the fold's models."""

    combined: list[np.ndarray]
    signals: list[np.ndarray]
    models: list[tuple[lightgbm.LGBMClassifier, lightgbm.LGBMClassifier]]  # (stacker, signals alone)


def cross_validate(image_probs: list[np.ndarray], features: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                   labels: list[np.ndarray], seed: int) -> SignalBranchFolds:
    """Score the combination and the signals alone on the folds (``image_probs``, ``labels``: per fold, in its
    held-out order; ``features``: every scan's, in the scans' order)."""
    out = SignalBranchFolds([], [], [])
    for k, (_, test_idx) in enumerate(folds):
        others = [j for j in range(len(folds)) if j != k]
        train_x = stack_inputs(np.concatenate([image_probs[j] for j in others]),
                               np.concatenate([features[folds[j][1]] for j in others]))
        train_f = train_x[:, image_probs[k].shape[1]:]
        train_y = np.concatenate([labels[j] for j in others])
        stacker = make_signal_lightgbm(seed).fit(train_x, train_y)
        alone = make_signal_lightgbm(seed).fit(train_f, train_y)
        out.combined.append(stacker.predict_proba(stack_inputs(image_probs[k], features[test_idx])))
        out.signals.append(alone.predict_proba(features[test_idx]))
        out.models.append((stacker, alone))
    return out


def fit_shipped(image_probs: list[np.ndarray], features: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                labels: list[np.ndarray], seed: int) -> tuple[lightgbm.LGBMClassifier, lightgbm.LGBMClassifier]:
    """The shipped stacker and signals' classifier, from every scan's out-of-fold row."""
    order = np.concatenate([test for _, test in folds])
    x = stack_inputs(np.concatenate(image_probs), features[order])
    y = np.concatenate(labels)
    return (make_signal_lightgbm(seed).fit(x, y),
            make_signal_lightgbm(seed).fit(x[:, image_probs[0].shape[1]:], y))


def flag_summary(image_probs: list[np.ndarray], signal_probs: list[np.ndarray], features: np.ndarray,
                 folds: list[tuple[np.ndarray, np.ndarray]], answers: np.ndarray, top: np.ndarray,
                 low_confidence: float, labels: np.ndarray, class_ids: list[str]) -> dict:
    """What the disagreement warning does out of fold: how many scans it flags, how right the flagged and the
    unflagged answers are, and per class how many scans end "Normal" with and without a flag. ``answers`` and
    ``top`` (the answer's calibrated probability; under ``low_confidence`` is the other flag) and ``labels`` are
    pooled in the folds' held-out order, as the per-fold ``image_probs`` and ``signal_probs`` are."""
    feats = features[np.concatenate([test for _, test in folds])]
    disagreeing = disagree(np.concatenate(image_probs), np.concatenate(signal_probs), feats)
    flagged = disagreeing | (top < low_confidence)
    normal = class_ids.index("normal")
    return {
        "scans": int(labels.size), "signals_read": int((~np.isnan(feats).all(axis=1)).sum()),
        "disagreeing": int(disagreeing.sum()), "flagged_any": int(flagged.sum()),
        "accuracy_unflagged": float((answers[~flagged] == labels[~flagged]).mean()) if (~flagged).any() else None,
        "accuracy_flagged": float((answers[flagged] == labels[flagged]).mean()) if flagged.any() else None,
        "answered_normal": {cid: {"scans": int((labels == k).sum()),
                                  "unflagged": int(((answers == normal) & (labels == k) & ~flagged).sum()),
                                  "flagged": int(((answers == normal) & (labels == k) & flagged).sum())}
                            for k, cid in enumerate(class_ids)},
    }
