"""One command that trains, evaluates and writes the bundled models.

    python -m training.train --seed 0            # full run: grouped 5-fold CV + final models
    python -m training.train --limit-per-class 4 --folds 2 --epochs 1 --out /tmp/m   # smoke run

Grouped, stratified k-fold CV measures the whole procedure (CNN -> features -> classifier) out of
fold; the settings were tuned on these same folds, so they are a tuning set and its figures are
optimistic. The shipped models are then trained the same way on all the data. Each trained CNN (every
fold and the final one) is saved under ``--cache`` as soon as it is done: a stopped run started again
with the same data and settings skips them and loses at most the CNN it was training.

With CPU cores to spare, other processes can train some of the CNNs into the same cache meanwhile, e.g.

    OMP_NUM_THREADS=1 python -m training.train --seed 0 &                      # the run itself
    OMP_NUM_THREADS=1 python -m training.train --seed 0 --only-cnn final,fold4  # the same settings, then it stops

and the run loads each one it reaches that is finished (one it reaches while another process is still
training it, it trains again).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import lightgbm
import numpy as np
import onnxruntime
import sklearn
import torch

from ecg_desktop.core.classify.manifest import FORMAT_VERSION, sha256_of
from ecg_desktop.core.classify.preprocess import INPUT_SIZE, INPUT_STYLES, PREPROCESSING, preprocess
from training import applicability, calibration, data, plots, signal_branch
from training.augment import TrainingScan, augment, training_scan
from training.cache import CnnCache
from training.classifiers import CLASSIFIERS, fit_predict, make_lightgbm, softmax, summarise
from training.condition_eval import fold_condition_predictions, summarise_conditions, with_signal_branch
from training.export import export_onnx, max_abs_difference
from training.fit import FitConfig, History, predict
from training.input_checks import ink_range
from training.ood import cross_fitted_false_alarms, fit_distribution, held_out_distances, threshold_from
from training.report import update_readme, write_metrics_markdown
from training.thresholds import rule_thresholds

CLASSES = [
    ("normal", "Normal"),
    ("abnormal_heartbeat", "Abnormal heartbeat"),
    ("mi", "Myocardial infarction"),
    ("history_of_mi", "History of MI"),
]
CLASS_IDS = [c for c, _ in CLASSES]
IMAGE, SIGNALS, COMBINED = "lightgbm", "signals_alone", "lightgbm_signals"  # the branches' names in the metrics
REPO = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR, help="folder with <class id>/*.jpg")
    parser.add_argument("--out", type=Path, default=REPO / "models", help="where models and metrics go")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=FitConfig.epochs)
    parser.add_argument("--limit-per-class", type=int, default=None, help="use only the first N files per class")
    parser.add_argument("--input-style", choices=INPUT_STYLES, default=PREPROCESSING.input_style,
                        help="the model's input (core.classify.preprocess); the app loads only a model of its own style")
    parser.add_argument("--cache", type=Path, default=None, help="where trained CNNs are kept (default: OUT/cache)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README whose metrics table is updated")
    parser.add_argument("--only-cnn", default=None, metavar="NAMES",
                        help="train only these CNNs into the cache and stop (comma-separated: fold0..foldK-1, final), "
                             "e.g. in a second process beside the full run, which then loads them")
    return parser.parse_args(argv)


def classifier_training_set(model, scans, clean_features, labels, config: FitConfig, seed: int):
    """Features the second stage learns from: clean views plus ``config.feature_views`` augmented views.

    Features of augmented views look more like those of unseen scans than the clean, memorised ones do.
    """
    features = [clean_features]
    rng = np.random.default_rng(seed)
    for _ in range(config.feature_views):
        views = np.stack([augment(scan, rng, config.augment, config.preprocessing) for scan in scans])
        features.append(predict(model, views)[0])
    return np.concatenate(features), np.tile(labels, 1 + config.feature_views)


@dataclass
class Prepared:
    """The dataset as training uses it, with the layout-fingerprint check fitted on it (None when not asked for)."""

    scans: list[data.Scan]
    duplicates: dict
    inputs: np.ndarray  # clean model inputs, exactly as the app computes them
    sources: list[TrainingScan]  # what augmentation draws its views from
    labels: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    fingerprint_check: dict | None
    signal_features: np.ndarray | None  # every scan's (core.signals.features), when the run ships models


@dataclass
class CrossValidation:
    """Per fold: every classifier's held-out probabilities, the labels, CNN curves, OOD distances, conditions."""

    probs: dict[str, list[np.ndarray]]
    fold_labels: list[np.ndarray]
    histories: list[dict]
    distances: list[np.ndarray]
    conditions: dict[str, list[dict]]  # per branch ("lightgbm" the image's), per fold: per-condition predictions


@dataclass
class Evaluation:
    """What the cross-validation measured, and the thresholds it chose for the shipped rule."""

    shipped: str  # IMAGE or COMBINED: the one with the higher mean macro-F1 over the folds
    metrics: dict
    flags: dict | None  # what the branches' disagreement warning flags out of fold (None without the signal branch)
    by_condition: dict  # per branch
    calibration: dict
    rule: dict
    ood_threshold: float
    oof: np.ndarray  # calibrated (cross-fitted) pooled out-of-fold probabilities of the shipped classifier
    oof_labels: np.ndarray
    distances: np.ndarray  # pooled held-out OOD distances


class RunLog:
    """Prints each message with a time stamp and keeps them for training_log.txt."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
        self.lines.append(message)


def prepare(
    args: argparse.Namespace, config: FitConfig, class_ids: list[str], log: RunLog, *, layout_check: bool = True
) -> Prepared:
    """Read and group the scans, compute their inputs and folds and, with ``layout_check``, fit the
    layout-fingerprint check and write its distribution into ``args.out`` and read the scans' signal features (only
    a run that ships models needs them)."""
    files = data.discover(args.data, class_ids, limit_per_class=args.limit_per_class)
    log(f"reading {len(files)} images from {args.data}")
    scans, images = data.load_scans(files)
    duplicates = data.assign_groups(scans)
    log(f"duplicates: {duplicates}")
    inputs = np.stack([preprocess(img, s.crop, config=config.preprocessing) for img, s in zip(images, scans)])
    sources = [training_scan(image, scan.crop, config.augment, seed=args.seed + i)
               for i, (image, scan) in enumerate(zip(images, scans))]
    folds = data.grouped_folds(scans, n_folds=args.folds, seed=args.seed)
    fingerprint_check = signal_features = None
    if layout_check:
        fingerprint_check = applicability.fit(images, [s.crop for s in scans], [test for _, test in folds], args.out)
        log(f"layout fingerprint check: {fingerprint_check}")
        signal_features = signal_branch.features_of(images)
        log(f"signal features read on {int((~np.isnan(signal_features).all(axis=1)).sum())} of {len(scans)} scans")
    return Prepared(scans, duplicates, inputs, sources, np.array([s.label for s in scans]), folds, fingerprint_check,
                    signal_features)


def fold_cnn(prepared: Prepared, config: FitConfig, cache: CnnCache, k: int, seed: int, log: RunLog):
    """Fold ``k``'s CNN (trained without its held-out scans, which it reports on per epoch), from the cache if there."""
    train_idx, test_idx = prepared.folds[k]
    return cache.trained(
        f"fold{k}", [prepared.sources[i] for i in train_idx], prepared.labels[train_idx], len(CLASSES), config,
        seed=seed + k, val_inputs=prepared.inputs[test_idx], val_labels=prepared.labels[test_idx], log=log,
    )


def fold_training_set(model, prepared: Prepared, config: FitConfig, k: int, seed: int):
    """Fold ``k``'s training scans' CNN features, and the second stage's training set made from them and from their
    augmented views."""
    train_idx, _ = prepared.folds[k]
    train_f, _ = predict(model, prepared.inputs[train_idx])
    return train_f, *classifier_training_set(model, [prepared.sources[i] for i in train_idx], train_f,
                                             prepared.labels[train_idx], config, seed + k)


def final_cnn(prepared: Prepared, config: FitConfig, cache: CnnCache, seed: int, log: RunLog):
    """The shipped CNN, trained on every scan, from the cache if there."""
    return cache.trained("final", prepared.sources, prepared.labels, len(CLASSES), config, seed=seed, log=log)


def train_only(names: str, prepared: Prepared, config: FitConfig, cache: CnnCache, seed: int, log: RunLog) -> None:
    """Train the named CNNs (fold0.., final) into the cache: several processes can share one run's training."""
    folds = {f"fold{k}": k for k in range(len(prepared.folds))}
    unknown = [name for name in names.split(",") if name not in {*folds, "final"}]
    if unknown:  # before any training: a typo should not cost the CNNs named before it
        raise SystemExit(f"--only-cnn: no CNN called {', '.join(map(repr, unknown))} (fold0..fold{len(folds) - 1}, "
                         "final)")
    for name in names.split(","):
        if name == "final":
            final_cnn(prepared, config, cache, seed, log)
        else:
            fold_cnn(prepared, config, cache, folds[name], seed, log)
        log(f"{name}: in {cache.directory}")


def cross_validate(prepared: Prepared, config: FitConfig, class_ids: list[str], seed: int, cache: CnnCache,
                   log: RunLog) -> CrossValidation:
    """Out-of-fold probabilities of every classifier, held-out OOD distances, per-fold CNN curves and, per
    acquisition condition, the shipped classifier's held-out predictions."""
    inputs, labels = prepared.inputs, prepared.labels
    paths = [s.path for s in prepared.scans]
    cv = CrossValidation({}, [], [], [], {IMAGE: []})
    for k, (train_idx, test_idx) in enumerate(prepared.folds):
        log(f"fold {k + 1}/{len(prepared.folds)}: {len(train_idx)} train, {len(test_idx)} held out")
        model, history = fold_cnn(prepared, config, cache, k, seed, log)
        cv.histories.append(asdict(history))
        train_f, train_x, train_y = fold_training_set(model, prepared, config, k, seed)
        test_f, test_logits = predict(model, inputs[test_idx])
        cv.distances.append(held_out_distances(train_f, test_f))
        cv.probs.setdefault("cnn_softmax", []).append(softmax(test_logits))
        for name in CLASSIFIERS:
            cv.probs.setdefault(name, []).append(fit_predict(name, train_x, train_y, test_f, seed))
        cv.fold_labels.append(labels[test_idx])
        cv.conditions[IMAGE].append(fold_condition_predictions(
            model, make_lightgbm(seed).fit(train_x, train_y), [paths[i] for i in test_idx], config.preprocessing,
            signals=True,
        ))
        log("  macro-F1 " + ", ".join(
            f"{n} {summarise([p[-1]], [labels[test_idx]], class_ids)['macro_f1_mean']:.3f}"
            for n, p in cv.probs.items()
        ))
    return cv


def add_signal_branch(cv: CrossValidation, prepared: Prepared, seed: int, log: RunLog) -> signal_branch.SignalBranchFolds:
    """Score the signal branch alone and combined with the image branch on the same folds (their out-of-fold
    probabilities and per-condition predictions join ``cv``)."""
    branch = signal_branch.cross_validate(cv.probs[IMAGE], prepared.signal_features, prepared.folds, cv.fold_labels,
                                          seed)
    cv.probs[SIGNALS], cv.probs[COMBINED] = branch.signals, branch.combined
    cv.conditions[COMBINED], cv.conditions[SIGNALS] = [], []
    for predicted, (stacker, alone) in zip(cv.conditions[IMAGE], branch.models):
        combined, signals = with_signal_branch(predicted, stacker, alone)
        cv.conditions[COMBINED].append(combined)
        cv.conditions[SIGNALS].append(signals)
    log("signal branch: macro-F1 " + ", ".join(
        f"{name} {summarise(cv.probs[name], cv.fold_labels, CLASS_IDS)['macro_f1_mean']:.3f}"
        for name in (IMAGE, SIGNALS, COMBINED)))
    return branch


def evaluate(cv: CrossValidation, prepared: Prepared, class_ids: list[str], log: RunLog) -> Evaluation:
    """Score every classifier out of fold; ship the image branch or its combination with the signal branch,
    whichever scores higher; calibrate it, and choose the rule's, low-confidence and OOD thresholds."""
    metrics = {name: summarise(p, cv.fold_labels, class_ids) for name, p in cv.probs.items()}
    shipped = COMBINED if COMBINED in metrics and (
        metrics[COMBINED]["macro_f1_mean"] > metrics[IMAGE]["macro_f1_mean"]) else IMAGE
    log(f"shipped: {shipped}")
    by_condition = {name: summarise_conditions(per_fold, cv.fold_labels, len(class_ids))
                    for name, per_fold in cv.conditions.items()}
    log(f"per acquisition condition (out of fold, shipped): {by_condition[shipped]}")
    distances = np.concatenate(cv.distances)
    oof_labels = np.concatenate(cv.fold_labels)
    oof = np.concatenate(calibration.cross_fitted(cv.probs[shipped], cv.fold_labels))
    calibration_summary = calibration.summary(cv.probs[shipped], cv.fold_labels, oof, shipped)
    log(f"calibration: {calibration_summary}")
    rule = rule_thresholds(cv.probs[shipped], cv.fold_labels, class_ids)
    metrics["decision_rule"] = rule.pop("scores")
    log(f"decision rule (cross-fitted): macro-F1 {metrics['decision_rule']['macro_f1_mean']:.3f}, "
        f"MI finding {metrics['decision_rule']['mi_finding']}; shipped thresholds {rule}")
    ood_threshold = threshold_from(distances)
    log(f"low-confidence below {rule['low_confidence']}, OOD distance above {ood_threshold:.1f}")
    flags = None
    if SIGNALS in cv.probs:
        flags = signal_branch.flag_summary(cv.probs[IMAGE], cv.probs[SIGNALS], prepared.signal_features,
                                           prepared.folds, oof, oof_labels, rule, class_ids)
        log(f"disagreement warning (out of fold): {flags}")
    return Evaluation(shipped, metrics, flags, by_condition, calibration_summary, rule, ood_threshold, oof,
                      oof_labels, distances)


def train_final(prepared: Prepared, config: FitConfig, cache: CnnCache, evaluation: Evaluation, cv: CrossValidation,
                args: argparse.Namespace, log: RunLog) -> tuple[History, lightgbm.LGBMClassifier, float]:
    """Train the shipped CNN and LightGBM on all the data and write them (ONNX, LightGBM text, OOD distribution)
    and, when the combination is shipped, the signal branch's stacker and classifier.

    Returns the CNN's curves, the image branch's classifier and the largest ONNX-vs-PyTorch output difference.
    """
    log("final model: CNN and LightGBM on all data")
    model, history = final_cnn(prepared, config, cache, args.seed, log)
    features, _ = predict(model, prepared.inputs)
    train_x, train_y = classifier_training_set(model, prepared.sources, features, prepared.labels, config, args.seed)
    booster = make_lightgbm(args.seed).fit(train_x, train_y)
    fit_distribution(features, evaluation.ood_threshold).save(args.out / "feature_distribution.npz")
    cnn_path = args.out / "cnn.onnx"
    export_onnx(model, cnn_path, input_size=INPUT_SIZE)
    onnx_diff = max_abs_difference(model, cnn_path, input_size=INPUT_SIZE)
    booster.booster_.save_model(str(args.out / "lightgbm.txt"))
    for name in (signal_branch.STACKER_FILE, signal_branch.SIGNALS_FILE, signal_branch.STACKER_IMPORTANCE):
        (args.out / name).unlink(missing_ok=True)
    if evaluation.shipped == COMBINED:
        stacker, alone = signal_branch.fit_shipped(cv.probs[IMAGE], prepared.signal_features, prepared.folds,
                                                   cv.fold_labels, args.seed)
        stacker.booster_.save_model(str(args.out / signal_branch.STACKER_FILE))
        alone.booster_.save_model(str(args.out / signal_branch.SIGNALS_FILE))
        signal_branch.plot_stacker_importance(stacker, CLASS_IDS, args.out / signal_branch.STACKER_IMPORTANCE)
    log(f"ONNX vs PyTorch max abs difference {onnx_diff:.2e}")
    return history, booster, onnx_diff


def write_plots(cv: CrossValidation, final_history: History, booster: lightgbm.LGBMClassifier, metrics: dict,
                class_ids: list[str], out: Path) -> None:
    """Training curves, the shipped classifier's feature importance and the confusion matrices, as PNG files."""
    plots.training_curves(cv.histories, final_history, out / "training_curves.png")
    plots.feature_importance(booster.booster_, out / "lightgbm_feature_importance.png")
    plots.confusion_matrices(metrics, class_ids, out / "confusion_matrices.png")


def run_results(args: argparse.Namespace, config: FitConfig, prepared: Prepared, cv: CrossValidation,
                evaluation: Evaluation, onnx_diff: float, created: str, started: float) -> dict:
    """The content of metrics.json."""
    distances, threshold = evaluation.distances, evaluation.ood_threshold
    return {
        "created": created,
        "seed": args.seed,
        "folds": args.folds,
        "cv": "StratifiedGroupKFold over content groups (sha256 + trace-descriptor near-duplicates of the crop)",
        "fit_config": asdict(config),
        "dataset": {"dir": str(args.data), "class_counts": data.class_counts(prepared.scans, CLASS_IDS),
                    **prepared.duplicates},
        "shipped": evaluation.shipped,
        "classifiers": evaluation.metrics,
        "signal_branch": evaluation.flags,
        "acquisition_conditions": evaluation.by_condition[evaluation.shipped],
        "acquisition_conditions_by_branch": evaluation.by_condition,
        "shipped_bootstrap_95ci": calibration.bootstrap_f1(evaluation.oof, evaluation.oof_labels, CLASS_IDS,
                                                           seed=args.seed),
        "calibration": evaluation.calibration,
        "onnx_max_abs_difference": onnx_diff,
        "out_of_distribution": {
            "method": "Mahalanobis distance of CNN features to the training features (Ledoit-Wolf covariance)",
            "threshold": threshold,
            "false_alarm_rate_on_held_out_real_scans": float((distances > threshold).mean()),
            "cross_fitted_false_alarm_rate": cross_fitted_false_alarms(cv.distances),
            "held_out_distance_quantiles": {q: float(np.quantile(distances, float(q))) for q in ("0.5", "0.9", "0.99")},
        },
        "duration_seconds": round(time.time() - started),
    }


def write_fold_assignment(path: Path, prepared: Prepared, data_dir: Path) -> None:
    """cv_folds.json: every file with its sha256, content group and held-out fold."""
    scans, folds = prepared.scans, prepared.folds
    path.write_text(json.dumps(
        {"files": [s.path.relative_to(data_dir).as_posix() for s in scans],
         "sha256": [s.sha256 for s in scans], "group": [s.group for s in scans],
         "fold": [int(next(k for k, (_, t) in enumerate(folds) if i in t)) for i in range(len(scans))]},
    ) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Cross-validate, train the shipped models on all the data and write them with their figures."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = RunLog()
    started = time.time()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
    # Beside a full run (--only-cnn), this writes nothing but CNNs into the cache.
    prepared = prepare(args, config, CLASS_IDS, log, layout_check=not args.only_cnn)
    cache = CnnCache.for_run(args.cache or args.out / "cache", config, prepared.scans, prepared.folds, args.seed)
    log(f"trained CNNs are kept in {cache.directory}")
    if args.only_cnn:
        train_only(args.only_cnn, prepared, config, cache, args.seed, log)
        return 0

    cv = cross_validate(prepared, config, CLASS_IDS, args.seed, cache, log)
    add_signal_branch(cv, prepared, args.seed, log)
    evaluation = evaluate(cv, prepared, CLASS_IDS, log)
    final_history, booster, onnx_diff = train_final(prepared, config, cache, evaluation, cv, args, log)
    write_plots(cv, final_history, booster, evaluation.metrics, CLASS_IDS, args.out)

    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results = run_results(args, config, prepared, cv, evaluation, onnx_diff, created, started)
    (args.out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    write_fold_assignment(args.out / "cv_folds.json", prepared, args.data)
    write_manifest(args, CLASS_IDS, evaluation, prepared, created, ink_range(prepared.inputs),
                   config.preprocessing.as_dict())
    applicability.register(args.out, prepared.fingerprint_check)
    write_oof_predictions(args.out / "oof_predictions.csv", prepared.scans, prepared.folds, cv.probs, cv.fold_labels,
                          CLASS_IDS)
    table = write_metrics_markdown(results, CLASS_IDS, args.out / "metrics.md")
    if args.readme.exists():
        update_readme(args.readme, table)
    log(f"done in {time.time() - started:.0f} s")
    (args.out / "training_log.txt").write_text("\n".join(log.lines) + "\n")
    return 0


def write_oof_predictions(path: Path, scans, folds, probs, fold_labels, class_ids) -> None:
    """Every scan's out-of-fold probabilities from each classifier (for later analysis and calibration checks)."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["file", "fold", "label", *(f"{name}_{cid}" for name in probs for cid in class_ids)])
        for k, (_, test_idx) in enumerate(folds):
            for j, i in enumerate(test_idx):
                values = [f"{p:.5f}" for name in probs for p in probs[name][k][j]]
                writer.writerow([scans[i].path.name, k, class_ids[fold_labels[k][j]], *values])


def write_manifest(args, class_ids, evaluation: Evaluation, prepared: Prepared, created: str, input_checks: dict,
                   preprocessing: dict) -> None:
    """manifest.json: the files with their hashes and everything the app needs to use them as trained."""
    rule, calibrated, scans = evaluation.rule, evaluation.calibration, prepared.scans
    files = {"cnn": "cnn.onnx", "classifier": "lightgbm.txt", "feature_distribution": "feature_distribution.npz"}
    if evaluation.shipped == COMBINED:
        files |= {"signal_stacker": signal_branch.STACKER_FILE, "signal_classifier": signal_branch.SIGNALS_FILE}
    hashes = {role: sha256_of(args.out / name) for role, name in files.items()}
    shipped = evaluation.metrics[evaluation.shipped]
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_name": "ECG Desk dual-branch CNN + LightGBM" + (" with the signal branch"
                                                               if evaluation.shipped == COMBINED else ""),
        "model_version": signal_branch.model_version(created, list(hashes.values())),
        "created": created,
        "classes": [{"id": cid, "name": name} for cid, name in CLASSES],
        "preprocessing": preprocessing,
        "files": {role: {"file": name, "sha256": hashes[role]} for role, name in files.items()},
        "calibration": {"method": "temperature", "temperature": calibrated["temperature"],
                        "ece_before": calibrated["ece_before"], "ece_after": calibrated["ece_after_cross_fitted"]},
        "input_checks": input_checks,
        **({"signal_branch": signal_branch.manifest_block()} if evaluation.shipped == COMBINED else {}),
        "thresholds": rule,
        "metrics": {
            "cv": f"grouped stratified {args.folds}-fold, out-of-fold",
            "macro_f1_mean": shipped["macro_f1_mean"], "macro_f1_std": shipped["macro_f1_std"],
            "per_class_f1": {cid: v["f1"] for cid, v in shipped["per_class"].items()},
            "accuracy": shipped["accuracy"],
        },
        "training_data": {
            "source": "ECG Images dataset of Cardiac Patients (Khan & Hussain, Mendeley Data 2021, "
                      "doi:10.17632/gwbz3fsgp8.2), CC BY 4.0",
            "files": len(scans), "groups": prepared.duplicates["groups"],
            "class_counts": data.class_counts(scans, class_ids),
            "sha256_of_file_hashes": _hash_of_hashes(scans),
        },
        "libraries": {
            "python": platform.python_version(), "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__,
        },
        "seed": args.seed,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _hash_of_hashes(scans) -> str:
    return hashlib.sha256("\n".join(sorted(s.sha256 for s in scans)).encode()).hexdigest()


if __name__ == "__main__":
    raise SystemExit(main())
