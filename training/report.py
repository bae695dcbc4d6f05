"""The Markdown metrics table that training writes to models/metrics.md and the README."""

from __future__ import annotations

from pathlib import Path

NAMES = {
    "lightgbm": "LightGBM on CNN features (shipped)",
    "xgboost": "XGBoost on CNN features",
    "random_forest": "Random Forest on CNN features",
    "naive_bayes": "Gaussian Naive Bayes on CNN features",
    "cnn_softmax": "CNN softmax (no second stage)",
    "decision_rule": "Shipped rule: calibrated LightGBM + finding thresholds (cross-fitted)",
    "seed_baseline_lightgbm": "Seed configuration: LightGBM on CNN features",
    "seed_baseline_cnn_softmax": "Seed configuration: CNN softmax",
}


def write_metrics_markdown(results: dict, class_ids: list[str], path: Path) -> str:
    """Render the classifier comparison as Markdown, write it to ``path`` and return it."""
    ds = results["dataset"]
    lines = [
        f"Grouped stratified {results['folds']}-fold cross-validation, out-of-fold, seed {results['seed']}; "
        f"{ds['files']} distinct scans in {ds['groups']} content groups "
        f"({', '.join(f'{k} {v}' for k, v in ds['class_counts'].items())}). "
        "Macro-F1 is mean ± standard deviation over folds (min–max in brackets); per-class F1 is pooled over folds.",
        "",
        "| classifier | macro-F1 | accuracy | " + " | ".join(f"F1 {c}" for c in class_ids) + " |",
        "|---|---|---|" + "---|" * len(class_ids),
    ]
    for name, m in results["classifiers"].items():
        folds = m["macro_f1_per_fold"]
        per_class = " | ".join(f"{m['per_class'][c]['f1']:.2f}" for c in class_ids)
        lines.append(
            f"| {NAMES.get(name, name)} | {m['macro_f1_mean']:.3f} ± {m['macro_f1_std']:.3f} "
            f"[{min(folds):.2f}–{max(folds):.2f}] | {m['accuracy']:.3f} | {per_class} |"
        )
    ci = results.get("shipped_bootstrap_95ci")
    if ci:
        lines += ["", "Shipped model, 95% bootstrap intervals on pooled out-of-fold predictions: "
                  + "; ".join(f"{k} [{lo:.2f}, {hi:.2f}]" for k, (lo, hi) in ci.items()) + "."]
    cal = results.get("calibration")
    if cal:
        lines += ["", f"Calibration (temperature {cal['temperature']:.2f}): expected calibration error "
                  f"{cal['ece_before']:.3f} before, {cal['ece_after_cross_fitted']:.3f} after (cross-fitted)."]
    ood = results.get("out_of_distribution")
    if ood:
        lines += ["", f"Out-of-distribution flag: Mahalanobis distance above {ood['threshold']:.1f}; "
                  f"it flags {100 * ood['false_alarm_rate_on_held_out_real_scans']:.1f}% of held-out real scans."]
    table = "\n".join(lines)
    path.write_text(table + "\n")
    return table
