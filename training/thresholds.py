"""Re-derive the decision rule's thresholds (findings, MI operating point, low confidence) from a training run's
saved out-of-fold predictions.

    python -m training.thresholds [--models models] [--readme README.md]

Reads ``oof_predictions.csv`` (written by training.train), calibrates each fold with a temperature
fitted on the other folds, chooses the thresholds as training does (training.decision_rule), and
rewrites them into ``manifest.json``, the rule's cross-fitted scores into ``metrics.json``, and the
metrics table. Used when the rule changes without retraining the models.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from training import calibration
from training.classifiers import low_confidence_threshold
from training.decision_rule import MI_SENSITIVITY, choose_thresholds, cross_fitted_rule, mi_operating_point
from training.report import update_readme, write_metrics_markdown

REPO = Path(__file__).resolve().parents[1]


def read_oof(
    path: Path, class_ids: list[str], classifier: str = "lightgbm"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per fold, the classifier's out-of-fold probabilities and the true labels."""
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    folds = sorted({int(r["fold"]) for r in rows})
    probs = [np.array([[float(r[f"{classifier}_{c}"]) for c in class_ids] for r in rows if int(r["fold"]) == k])
             for k in folds]
    labels = [np.array([class_ids.index(r["label"]) for r in rows if int(r["fold"]) == k]) for k in folds]
    return probs, labels


def rule_thresholds(probs: list[np.ndarray], labels: list[np.ndarray], class_ids: list[str]) -> dict:
    """The manifest's threshold block and the rule's cross-fitted scores, from raw out-of-fold probabilities."""
    calibrated = calibration.cross_fitted(probs, labels)
    oof, oof_labels = np.concatenate(calibrated), np.concatenate(labels)
    thresholds = choose_thresholds(oof, oof_labels, class_ids)
    return {
        "findings": thresholds,
        "mi_operating_point": mi_operating_point(oof, oof_labels, class_ids, thresholds["mi"]),
        "low_confidence": low_confidence_threshold(oof, oof_labels),
        "method": "best one-vs-rest F1 on calibrated out-of-fold LightGBM probabilities; MI: the highest "
                  f"threshold with out-of-fold sensitivity >= {MI_SENSITIVITY}; "
                  "low confidence where out-of-fold accuracy <= 2/3",
        "rule": "Normal only when no abnormal class reaches its threshold (ecg_desktop.core.classify.decision)",
        "scores": cross_fitted_rule(calibrated, labels, class_ids),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    manifest = json.loads((args.models / "manifest.json").read_text())
    metrics = json.loads((args.models / "metrics.json").read_text())
    class_ids = [c["id"] for c in manifest["classes"]]
    block = rule_thresholds(*read_oof(args.models / "oof_predictions.csv", class_ids), class_ids)
    metrics["classifiers"]["decision_rule"] = block.pop("scores")
    manifest["thresholds"] = {**manifest["thresholds"], **block}
    (args.models / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (args.models / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    table = write_metrics_markdown(metrics, class_ids, args.models / "metrics.md")
    if args.readme.exists():
        update_readme(args.readme, table)
    print(json.dumps(manifest["thresholds"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
