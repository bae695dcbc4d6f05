"""Out-of-fold accuracy per acquisition condition: each fold's models on its held-out scans, as clinics have them.

For every held-out scan and condition (training.conditions), the full-size file is transformed, then
read by the app's own page reading (upright, grid, layout) and preprocessing, and classified by the
fold's CNN and LightGBM. A scan whose page the app would not read counts as not answered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from ecg_desktop.core.classify.preprocess import PreprocessConfig, preprocess
from ecg_desktop.core.classify.signal_branch import stack_inputs
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.page.reading import PageReading, read_page
from ecg_desktop.core.signals.features import page_signal_features
from training.conditions import CONDITIONS, apply_condition
from training.fit import predict


def fold_condition_predictions(
    model, classifier, paths: list[Path], preprocessing: PreprocessConfig, *,
    read: Callable[[np.ndarray], PageReading] = read_page, signals: bool = False,
) -> dict:
    """Per condition: the predicted class of each held-out file, and whether the app's checks refuse its page;
    with ``signals``, also the image branch's probabilities and the page's signal features (for the signal branch,
    see with_signal_branch).

    ``read`` reads a page (the app's reading unless an ablation swaps it). A refused page is classified too, so
    one pass gives both the app's answers and what answering every page would give (see summarise_conditions)."""
    predicted: dict[str, dict[str, list]] = {
        name: {"predicted": [], "refused": [], **({"probs": [], "features": []} if signals else {})}
        for name in CONDITIONS
    }
    for path in paths:
        image = load_image(path)
        seed = int.from_bytes(path.name.encode()[-4:], "little")  # the same transform in every run
        for name in CONDITIONS:
            page = read(apply_condition(name, image, seed))
            features, _ = predict(model, preprocess(page.work, page.box, config=preprocessing)[None])
            probs = classifier.predict_proba(features)[0]
            predicted[name]["predicted"].append(int(np.argmax(probs)))
            predicted[name]["refused"].append(bool(page.reasons))
            if signals:
                predicted[name]["probs"].append(probs)
                predicted[name]["features"].append(page_signal_features(page))
    return predicted


def with_signal_branch(predicted: dict, stacker, signals_alone) -> tuple[dict, dict]:
    """One fold's per-condition predictions (made with ``signals``) as the combination and the signals alone give
    them (``stacker``, ``signals_alone``: the fold's models, see training.signal_branch)."""
    combined, alone = {}, {}
    for name, found in predicted.items():
        probs, features = np.array(found["probs"]), np.array(found["features"])
        combined[name] = {"predicted": stacker.predict_proba(stack_inputs(probs, features)).argmax(axis=1).tolist(),
                          "refused": found["refused"]}
        alone[name] = {"predicted": signals_alone.predict_proba(features).argmax(axis=1).tolist(),
                       "refused": found["refused"]}
    return combined, alone


def summarise_conditions(per_fold: list[dict], labels_by_fold: list[np.ndarray], n_classes: int, *,
                         answer_all: bool = False) -> dict:
    """Per condition: share answered, macro-F1 of the answers (mean and std over folds; a fold with no answer
    counts 0), pooled (None when nothing was answered). ``answer_all`` answers the pages the checks refuse too."""
    table = {}
    for name in CONDITIONS:
        answered, f1s, all_true, all_pred = [], [], [], []
        for predicted, labels in zip(per_fold, labels_by_fold):
            pred = np.array(predicted[name]["predicted"], dtype=int)
            kept = np.ones(len(pred), bool) if answer_all else ~np.array(predicted[name]["refused"], bool)
            answered.append(float(kept.mean()))
            f1s.append(float(f1_score(labels[kept], pred[kept], labels=range(n_classes), average="macro",
                                      zero_division=0)) if kept.any() else 0.0)
            all_true.append(labels[kept])
            all_pred.append(pred[kept])
        true, pred = np.concatenate(all_true), np.concatenate(all_pred)
        table[name] = {
            "answered": float(np.mean(answered)), "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_std": float(np.std(f1s)), "macro_f1_per_fold": f1s,
            "pooled_macro_f1": float(f1_score(true, pred, labels=range(n_classes), average="macro", zero_division=0))
            if true.size else None,
        }
    return table
