"""One command that trains, evaluates and writes the bundled models.

    python -m training.train --seed 0            # full run: grouped 5-fold CV + final models
    python -m training.train --limit-per-class 4 --folds 2 --epochs 1 --out /tmp/m   # smoke run

Grouped, stratified k-fold CV estimates the whole procedure (CNN -> features -> classifier);
the shipped models are then trained the same way on all the data. Each trained CNN (every fold and
the final one) is saved under ``--cache`` as soon as it is done: a stopped run started again with the
same data and settings skips them and loses at most the CNN it was training.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import lightgbm
import numpy as np
import onnxruntime
import sklearn
import torch

from ecg_desktop.core.manifest import FORMAT_VERSION, sha256_of
from ecg_desktop.core.preprocess import INPUT_SIZE, INPUT_STYLES, PREPROCESSING, preprocess
from training import applicability, calibration, data, plots
from training.augment import augment, training_scan
from training.thresholds import rule_thresholds
from training.cache import CnnCache
from training.classifiers import (
    CLASSIFIERS, low_confidence_threshold, make_lightgbm, softmax, summarise, fit_predict,
)
from training.export import export_onnx, max_abs_difference
from training.fit import FitConfig, predict
from training.input_checks import ink_range
from training.condition_eval import fold_condition_predictions, summarise_conditions
from training.ood import cross_fitted_false_alarms, fit_distribution, held_out_distances, threshold_from
from training.report import update_readme, write_metrics_markdown

CLASSES = [
    ("normal", "Normal"),
    ("abnormal_heartbeat", "Abnormal heartbeat"),
    ("mi", "Myocardial infarction"),
    ("history_of_mi", "History of MI"),
]
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
                        help="the model's input (core.preprocess); the app loads only a model of its own style")
    parser.add_argument("--cache", type=Path, default=None, help="where trained CNNs are kept (default: OUT/cache)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README whose metrics table is updated")
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


def cross_validate(inputs, scans, paths, labels, folds, config: FitConfig, class_ids, seed, cache: CnnCache, log):
    """Out-of-fold probabilities of every classifier, held-out OOD distances, per-fold CNN curves and, per
    acquisition condition, the shipped classifier's held-out predictions."""
    probs: dict[str, list[np.ndarray]] = {}
    fold_labels, histories, distances, conditions = [], [], [], []
    for k, (train_idx, test_idx) in enumerate(folds):
        log(f"fold {k + 1}/{len(folds)}: {len(train_idx)} train, {len(test_idx)} held out")
        model, history = cache.trained(
            f"fold{k}", [scans[i] for i in train_idx], labels[train_idx], len(class_ids), config, seed=seed + k,
            val_inputs=inputs[test_idx], val_labels=labels[test_idx], log=log,
        )
        histories.append(asdict(history))
        train_f, _ = predict(model, inputs[train_idx])
        train_x, train_y = classifier_training_set(
            model, [scans[i] for i in train_idx], train_f, labels[train_idx], config, seed + k
        )
        test_f, test_logits = predict(model, inputs[test_idx])
        distances.append(held_out_distances(train_f, test_f))
        probs.setdefault("cnn_softmax", []).append(softmax(test_logits))
        for name in CLASSIFIERS:
            probs.setdefault(name, []).append(fit_predict(name, train_x, train_y, test_f, seed))
        fold_labels.append(labels[test_idx])
        conditions.append(fold_condition_predictions(
            model, make_lightgbm(seed).fit(train_x, train_y), [paths[i] for i in test_idx], config.preprocessing
        ))
        log("  macro-F1 " + ", ".join(
            f"{n} {summarise([p[-1]], [labels[test_idx]], class_ids)['macro_f1_mean']:.3f}" for n, p in probs.items()
        ))
    return probs, fold_labels, histories, distances, conditions


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []

    def log(message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {message}", flush=True)
        log_lines.append(message)

    started = time.time()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    class_ids = [c for c, _ in CLASSES]
    files = data.discover(args.data, class_ids, limit_per_class=args.limit_per_class)
    log(f"reading {len(files)} images from {args.data}")
    scans, images = data.load_scans(files)
    duplicates = data.assign_groups(scans)
    log(f"duplicates: {duplicates}")
    config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
    inputs = np.stack([preprocess(img, s.crop, config=config.preprocessing) for img, s in zip(images, scans)])
    sources = [training_scan(image, scan.crop, config.augment, seed=args.seed + i)
               for i, (image, scan) in enumerate(zip(images, scans))]
    labels = np.array([s.label for s in scans])
    folds = data.grouped_folds(scans, n_folds=args.folds, seed=args.seed)
    fingerprint_check = applicability.fit(images, [s.crop for s in scans], [test for _, test in folds], args.out)
    log(f"layout fingerprint check: {fingerprint_check}")
    del images
    cache = CnnCache.for_run(args.cache or args.out / "cache", config, scans, folds, args.seed)
    log(f"trained CNNs are kept in {cache.directory}")

    probs, fold_labels, histories, fold_distances, fold_conditions = cross_validate(
        inputs, sources, [s.path for s in scans], labels, folds, config, class_ids, args.seed, cache, log
    )
    metrics = {name: summarise(p, fold_labels, class_ids) for name, p in probs.items()}
    by_condition = summarise_conditions(fold_conditions, fold_labels, len(class_ids))
    log(f"per acquisition condition (out of fold): {by_condition}")
    distances = np.concatenate(fold_distances)

    oof_raw = np.concatenate(probs["lightgbm"])
    oof_labels = np.concatenate(fold_labels)
    oof = np.concatenate(calibration.cross_fitted(probs["lightgbm"], fold_labels))
    temperature = calibration.fit_temperature(oof_raw, oof_labels)
    calibration_summary = {
        "method": "temperature scaling of LightGBM probabilities, fitted on out-of-fold predictions",
        "temperature": temperature,
        "ece_before": calibration.expected_calibration_error(oof_raw, oof_labels),
        "ece_after_cross_fitted": calibration.expected_calibration_error(oof, oof_labels),
    }
    log(f"calibration: {calibration_summary}")
    rule = rule_thresholds(probs["lightgbm"], fold_labels, class_ids)
    metrics["decision_rule"] = rule.pop("scores")
    log(f"decision rule (cross-fitted): macro-F1 {metrics['decision_rule']['macro_f1_mean']:.3f}, "
        f"MI finding {metrics['decision_rule']['mi_finding']}; shipped thresholds {rule}")
    low_confidence = low_confidence_threshold(oof, oof_labels)
    ood_threshold = threshold_from(distances)
    log(f"low-confidence below {low_confidence}, OOD distance above {ood_threshold:.1f}")

    log("final model: CNN and LightGBM on all data")
    model, final_history = cache.trained("final", sources, labels, len(class_ids), config, seed=args.seed, log=log)
    features, _ = predict(model, inputs)
    train_x, train_y = classifier_training_set(model, sources, features, labels, config, args.seed)
    booster = make_lightgbm(args.seed).fit(train_x, train_y)
    fit_distribution(features, ood_threshold).save(args.out / "feature_distribution.npz")
    cnn_path, gbm_path = args.out / "cnn.onnx", args.out / "lightgbm.txt"
    export_onnx(model, cnn_path, input_size=INPUT_SIZE)
    onnx_diff = max_abs_difference(model, cnn_path, input_size=INPUT_SIZE)
    booster.booster_.save_model(str(gbm_path))
    log(f"ONNX vs PyTorch max abs difference {onnx_diff:.2e}")

    plots.training_curves(histories, final_history, args.out / "training_curves.png")
    plots.feature_importance(booster.booster_, args.out / "lightgbm_feature_importance.png")
    plots.confusion_matrices(metrics, class_ids, args.out / "confusion_matrices.png")

    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results = {
        "created": created,
        "seed": args.seed,
        "folds": args.folds,
        "cv": "StratifiedGroupKFold over content groups (sha256 + trace-descriptor near-duplicates of the crop)",
        "fit_config": asdict(config),
        "dataset": {"dir": str(args.data), "class_counts": data.class_counts(scans, class_ids), **duplicates},
        "classifiers": metrics,
        "acquisition_conditions": by_condition,
        "shipped_bootstrap_95ci": calibration.bootstrap_f1(oof, oof_labels, class_ids, seed=args.seed),
        "calibration": calibration_summary,
        "onnx_max_abs_difference": onnx_diff,
        "out_of_distribution": {
            "method": "Mahalanobis distance of CNN features to the training features (Ledoit-Wolf covariance)",
            "threshold": ood_threshold,
            "false_alarm_rate_on_held_out_real_scans": float((distances > ood_threshold).mean()),
            "cross_fitted_false_alarm_rate": cross_fitted_false_alarms(fold_distances),
            "held_out_distance_quantiles": {q: float(np.quantile(distances, float(q))) for q in ("0.5", "0.9", "0.99")},
        },
        "duration_seconds": round(time.time() - started),
    }
    (args.out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "cv_folds.json").write_text(json.dumps(
        {"files": [s.path.relative_to(args.data).as_posix() for s in scans],
         "sha256": [s.sha256 for s in scans], "group": [s.group for s in scans],
         "fold": [int(next(k for k, (_, t) in enumerate(folds) if i in t)) for i in range(len(scans))]},
    ) + "\n")
    write_manifest(args, class_ids, rule, low_confidence, metrics, duplicates, scans, created, calibration_summary,
                   ink_range(inputs), config.preprocessing.as_dict())
    applicability.register(args.out, fingerprint_check)
    write_oof_predictions(args.out / "oof_predictions.csv", scans, folds, probs, fold_labels, class_ids)
    table = write_metrics_markdown(results, class_ids, args.out / "metrics.md")
    if args.readme.exists():
        update_readme(args.readme, table)
    log(f"done in {time.time() - started:.0f} s")
    (args.out / "training_log.txt").write_text("\n".join(log_lines) + "\n")
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


def write_manifest(
    args, class_ids, rule, low_confidence, metrics, duplicates, scans, created, calibrated, input_checks, preprocessing
) -> None:
    files = {"cnn": "cnn.onnx", "classifier": "lightgbm.txt", "feature_distribution": "feature_distribution.npz"}
    hashes = {role: sha256_of(args.out / name) for role, name in files.items()}
    shipped = metrics["lightgbm"]
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_name": "ECG Desk dual-branch CNN + LightGBM",
        "model_version": f"{created[:10]}-{hashes['cnn'][:8]}",
        "created": created,
        "classes": [{"id": cid, "name": name} for cid, name in CLASSES],
        "preprocessing": preprocessing,
        "files": {role: {"file": name, "sha256": hashes[role]} for role, name in files.items()},
        "calibration": {"method": "temperature", "temperature": calibrated["temperature"],
                        "ece_before": calibrated["ece_before"], "ece_after": calibrated["ece_after_cross_fitted"]},
        "input_checks": input_checks,
        "thresholds": {**rule, "low_confidence": low_confidence},
        "metrics": {
            "cv": f"grouped stratified {args.folds}-fold, out-of-fold",
            "macro_f1_mean": shipped["macro_f1_mean"], "macro_f1_std": shipped["macro_f1_std"],
            "per_class_f1": {cid: v["f1"] for cid, v in shipped["per_class"].items()},
            "accuracy": shipped["accuracy"],
        },
        "training_data": {
            "source": "ECG Images dataset of Cardiac Patients (Khan & Hussain, Mendeley Data 2021, "
                      "doi:10.17632/gwbz3fsgp8.2), CC BY 4.0",
            "files": len(scans), "groups": duplicates["groups"],
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
