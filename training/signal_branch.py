"""The signal branch in training: the digitized leads' features (core.signals.features) beside the image branch's
out-of-fold probabilities in a second LightGBM, the stacker, scored by the same grouped folds.

Fold ``k``'s stacker learns from the other folds' rows: their image probabilities are out of fold (each from a
CNN and LightGBM that did not see that scan), as the image probabilities of a new scan are for the shipped model.
The shipped stacker learns from every scan's out-of-fold row. The signals' own classifier (the same features,
no image) is scored and shipped too: the app warns when it and the image branch disagree on Normal.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import numpy as np

from ecg_desktop.core.classify.decision import decide_all
from ecg_desktop.core.classify.manifest import sha256_of
from ecg_desktop.core.classify.signal_branch import disagree, stack_inputs
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.signals.features import FEATURE_NAMES, page_signal_features
from training import calibration, data, plots
from training.classifiers import summarise
from training.report import update_readme, write_metrics_markdown
from training.thresholds import rule_thresholds

REPO = Path(__file__).resolve().parents[1]
STACKER_FILE, SIGNALS_FILE = "signal_stacker.txt", "signal_classifier.txt"
STACKER_IMPORTANCE = "signal_stacker_feature_importance.png"


def manifest_block() -> dict:
    """What the manifest says of a shipped signal branch (the app checks the feature names against its own)."""
    return {"features": list(FEATURE_NAMES), "digitized": "the page reading's analysis-size copy"}


def model_version(created: str, hashes: list[str]) -> str:
    """A model's version: its training date and a hash of every file it ships."""
    return f"{created[:10]}-{hashlib.sha256(''.join(hashes).encode()).hexdigest()[:8]}"


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


def plot_stacker_importance(stacker: lightgbm.LGBMClassifier, class_ids: list[str], path: Path) -> None:
    """The stacker's feature importance, its inputs named (the image branch's probabilities, then the features)."""
    plots.feature_importance(stacker.booster_, path, names=[f"image p({c})" for c in class_ids] + list(FEATURE_NAMES),
                             title="Signal branch stacker: feature importance (gain)")


def fit_shipped(image_probs: list[np.ndarray], features: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                labels: list[np.ndarray], seed: int) -> tuple[lightgbm.LGBMClassifier, lightgbm.LGBMClassifier]:
    """The shipped stacker and signals' classifier, from every scan's out-of-fold row."""
    order = np.concatenate([test for _, test in folds])
    x = stack_inputs(np.concatenate(image_probs), features[order])
    y = np.concatenate(labels)
    return (make_signal_lightgbm(seed).fit(x, y),
            make_signal_lightgbm(seed).fit(x[:, image_probs[0].shape[1]:], y))


def flag_summary(image_probs: list[np.ndarray], signal_probs: list[np.ndarray], features: np.ndarray,
                 folds: list[tuple[np.ndarray, np.ndarray]], shipped: np.ndarray, labels: np.ndarray, rule: dict,
                 class_ids: list[str]) -> dict:
    """What the disagreement warning does out of fold: how many scans it flags, how right the flagged and the
    unflagged answers are, and per class how many scans end "Normal" with and without a flag.

    ``shipped``: the shipped classifier's calibrated probabilities, answered by the decision ``rule`` (thresholds
    chosen on them: optimistic), whose low-confidence level is the other flag; it and ``labels`` are pooled in the
    folds' held-out order, as the per-fold ``image_probs`` and ``signal_probs`` are.
    """
    answers = np.array([class_ids.index(c) for c in decide_all(shipped, class_ids, rule["findings"])])
    top = shipped[np.arange(answers.size), answers]
    low_confidence = rule["low_confidence"]
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


def main(argv: list[str] | None = None) -> int:
    """Add the signal branch to a finished training run from its saved out-of-fold image probabilities (no CNN
    is trained): score it on the run's folds and, when it wins, ship it with the calibration and thresholds of the
    combination; rewrites the manifest, metrics, out-of-fold predictions and the metrics table."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__ + _USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    manifest = json.loads((args.models / "manifest.json").read_text())
    metrics = json.loads((args.models / "metrics.json").read_text())
    class_ids = [c["id"] for c in manifest["classes"]]
    seed = int(metrics["seed"])
    assignment = json.loads((args.models / "cv_folds.json").read_text())
    names = [Path(f).name for f in assignment["files"]]
    with (args.models / "oof_predictions.csv").open(newline="") as stream:
        rows = [r for r in csv.DictReader(stream)]
    n_folds = 1 + max(int(r["fold"]) for r in rows)
    tests = [np.array([names.index(r["file"]) for r in rows if int(r["fold"]) == k]) for k in range(n_folds)]
    folds = [(np.setdiff1d(np.arange(len(names)), test), test) for test in tests]
    image = [np.array([[float(r[f"lightgbm_{c}"]) for c in class_ids] for r in rows if int(r["fold"]) == k])
             for k in range(n_folds)]
    labels = [np.array([class_ids.index(r["label"]) for r in rows if int(r["fold"]) == k]) for k in range(n_folds)]
    print(f"reading the signals of {len(names)} scans", flush=True)
    features = features_of([load_for_analysis(args.data / f).pixels for f in assignment["files"]])
    branch = cross_validate(image, features, folds, labels, seed)
    scores = {"signals_alone": summarise(branch.signals, labels, class_ids),
              "lightgbm_signals": summarise(branch.combined, labels, class_ids)}
    for name, score in scores.items():
        print(f"{name}: macro-F1 {score['macro_f1_mean']:.3f} ± {score['macro_f1_std']:.3f}", flush=True)
    rule_name = "decision_rule"
    metrics["classifiers"] = {k: v for k, v in metrics["classifiers"].items() if k != rule_name} | scores
    if scores["lightgbm_signals"]["macro_f1_mean"] <= metrics["classifiers"]["lightgbm"]["macro_f1_mean"]:
        print("the combination does not beat the image branch: nothing shipped", flush=True)
        metrics["shipped"] = "lightgbm"
        (args.models / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        return 0
    stacker, alone = fit_shipped(image, features, folds, labels, seed)
    stacker.booster_.save_model(str(args.models / STACKER_FILE))
    alone.booster_.save_model(str(args.models / SIGNALS_FILE))
    plot_stacker_importance(stacker, class_ids, args.models / STACKER_IMPORTANCE)
    rule = rule_thresholds(branch.combined, labels, class_ids)
    metrics["classifiers"][rule_name] = rule.pop("scores")
    oof = np.concatenate(calibration.cross_fitted(branch.combined, labels))
    pooled = np.concatenate(labels)
    metrics |= {
        "shipped": "lightgbm_signals",
        "calibration": calibration.summary(branch.combined, labels, oof, "lightgbm_signals"),
        "shipped_bootstrap_95ci": calibration.bootstrap_f1(oof, pooled, class_ids, seed=seed),
        "signal_branch": flag_summary(image, branch.signals, features, folds, oof, pooled, rule, class_ids),
        "acquisition_conditions_classifier": "lightgbm",  # the run's, measured before the signal branch was added
    }
    files = manifest["files"] | {role: {"file": name, "sha256": sha256_of(args.models / name)}
                                 for role, name in (("signal_stacker", STACKER_FILE),
                                                    ("signal_classifier", SIGNALS_FILE))}
    shipped = metrics["classifiers"]["lightgbm_signals"]
    manifest |= {
        "model_name": "ECG Desk dual-branch CNN + LightGBM with the signal branch",
        "model_version": model_version(manifest["created"], [f["sha256"] for f in files.values()]),
        "files": files,
        "calibration": {"method": "temperature", "temperature": metrics["calibration"]["temperature"],
                        "ece_before": metrics["calibration"]["ece_before"],
                        "ece_after": metrics["calibration"]["ece_after_cross_fitted"]},
        "signal_branch": manifest_block(),
        "thresholds": rule,
        "metrics": manifest["metrics"] | {
            "macro_f1_mean": shipped["macro_f1_mean"], "macro_f1_std": shipped["macro_f1_std"],
            "per_class_f1": {cid: v["f1"] for cid, v in shipped["per_class"].items()},
            "accuracy": shipped["accuracy"]},
    }
    (args.models / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (args.models / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _add_oof_columns(args.models / "oof_predictions.csv", rows, {"signals_alone": branch.signals,
                                                                  "lightgbm_signals": branch.combined}, class_ids)
    plots.confusion_matrices(metrics["classifiers"], class_ids, args.models / "confusion_matrices.png")
    table = write_metrics_markdown(metrics, class_ids, args.models / "metrics.md")
    if args.readme.exists():
        update_readme(args.readme, table)
    print(f"shipped the signal branch: {json.dumps(metrics['signal_branch'])}")
    return 0


_USAGE = """
    python -m training.signal_branch [--models models] [--data DIR] [--readme README.md]
"""


def _add_oof_columns(path: Path, rows: list[dict], probs: dict[str, list[np.ndarray]], class_ids: list[str]) -> None:
    """Rewrite the out-of-fold predictions with ``probs`` (per fold, in the file's order) as more columns."""
    columns = [f"{name}_{cid}" for name in probs for cid in class_ids]
    seen = dict.fromkeys(range(len(next(iter(probs.values())))), 0)
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=[*(c for c in rows[0] if c not in columns), *columns])
        writer.writeheader()
        for row in rows:
            k = int(row["fold"])
            j, seen[k] = seen[k], seen[k] + 1
            writer.writerow(row | {f"{name}_{cid}": f"{p[k][j][i]:.5f}" for name, p in probs.items()
                                   for i, cid in enumerate(class_ids)})


if __name__ == "__main__":
    raise SystemExit(main())
