"""The Markdown metrics table that training writes to models/metrics.md and the README."""

from __future__ import annotations

from pathlib import Path

NAMES = {
    "lightgbm": "Image branch: LightGBM on CNN features",
    "signals_alone": "Signal branch alone: LightGBM on the digitized leads' features",
    "lightgbm_signals": "Image + signal branch: LightGBM stacker on both",
    "xgboost": "XGBoost on CNN features",
    "random_forest": "Random Forest on CNN features",
    "naive_bayes": "Gaussian Naive Bayes on CNN features",
    "cnn_softmax": "CNN softmax (no second stage)",
    "decision_rule": "Shipped rule: the shipped classifier calibrated + finding thresholds (cross-fitted)",
    "seed_baseline_lightgbm": "Seed configuration: LightGBM on CNN features",
    "seed_baseline_cnn_softmax": "Seed configuration: CNN softmax",
}
ALTERNATIVES = ("lightgbm", "cnn_softmax", "xgboost", "random_forest", "naive_bayes")  # same folds and CNNs
BRANCHES = ("lightgbm", "signals_alone", "lightgbm_signals")


def shipped_name(results: dict) -> str:
    """The classifier the run shipped (runs before the signal branch shipped LightGBM on CNN features)."""
    return results.get("shipped", "lightgbm")
TUNING_SET = ("These folds are a tuning set, not a test set: the CNN's epochs and regularisation were chosen "
              "on them, so every figure here is optimistic.")


def conditions_classifier(results: dict) -> str:
    """Which classifier the per-condition figures are of, in words (the shipped one unless the run says otherwise:
    a signal branch added to a finished run, see training.signal_branch, has no per-condition figures of its own)."""
    name = results.get("acquisition_conditions_classifier", shipped_name(results))
    return NAMES[name] + (" (the shipped one)" if name == shipped_name(results) else " (not the shipped classifier)")


def second_stage_comparison(classifiers: dict, name: str = "lightgbm") -> str:
    """One sentence saying plainly whether the shipped classifier ``name`` beats the alternatives measured with it."""
    shipped, std = classifiers[name]["macro_f1_mean"], classifiers[name]["macro_f1_std"]
    as_good = {other: classifiers[other]["macro_f1_mean"] for other in ALTERNATIVES
               if other != name and other in classifiers and classifiers[other]["macro_f1_mean"] >= shipped}
    if not as_good:
        return f"The shipped classifier ({NAMES[name]}) has the highest mean macro-F1 of those compared ({shipped:.3f})."
    gap = max(as_good.values()) - shipped
    spread = f"; the largest gap, {gap:.3f}, is smaller than the spread over folds (±{std:.3f})" if gap < std else ""
    return (f"The shipped classifier ({NAMES[name]}, macro-F1 {shipped:.3f}) is not better than "
            + ", ".join(f"{NAMES[other]} at {f1:.3f}" for other, f1 in as_good.items()) + f"{spread}.")


def branch_conditions_markdown(results: dict) -> list[str]:
    """Per acquisition condition, each branch's and the combination's out-of-fold macro-F1 (Markdown lines)."""
    by_branch = results.get("acquisition_conditions_by_branch") or {}
    branches = [b for b in BRANCHES if b in by_branch]
    if len(branches) < 2:
        return []
    lines = ["", ("Out of fold, per acquisition condition and branch (macro-F1 of the answers, mean ± std over folds; "
             "every branch answers the same pages):"), "",
             "| condition | answered | " + " | ".join(NAMES[b] for b in branches) + " |",
             "|---|---|" + "---|" * len(branches)]
    for condition, row in by_branch[branches[0]].items():
        cells = " | ".join(f"{by_branch[b][condition]['macro_f1_mean']:.3f} ± {by_branch[b][condition]['macro_f1_std']:.3f}"
                           for b in branches)
        lines.append(f"| {condition} | {100 * row['answered']:.0f}% | {cells} |")
    return lines


def flag_markdown(results: dict) -> list[str]:
    """What the branches' disagreement warning flagged out of fold (Markdown lines; none without the signal branch)."""
    flags = results.get("signal_branch")
    if not flags:
        return []
    mi = flags["answered_normal"].get("mi", {"scans": 0, "unflagged": 0, "flagged": 0})
    return ["", (f"Disagreement warning, out of fold: the image branch and the signal branch alone disagree on Normal "
            f"against an abnormal class on {flags['disagreeing']} of {flags['scans']} scans (signals read on "
            f"{flags['signals_read']}); with the low-confidence flag, {flags['flagged_any']} scans are flagged. "
            f"Accuracy of the answers: {_share(flags['accuracy_unflagged'])} unflagged, "
            f"{_share(flags['accuracy_flagged'])} flagged. MI scans answered Normal: {mi['unflagged']} without a "
            f"flag, {mi['flagged']} with one (of {mi['scans']}); the rule's thresholds were chosen on these "
            "predictions.")]


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def write_metrics_markdown(results: dict, class_ids: list[str], path: Path) -> str:
    """Render the classifier comparison as Markdown, write it to ``path`` and return it."""
    ds = results["dataset"]
    lines = [
        (f"Grouped stratified {results['folds']}-fold cross-validation, out-of-fold, seed {results['seed']}; "
        f"{ds['files']} distinct scans in {ds['groups']} content groups "
        f"({', '.join(f'{k} {v}' for k, v in ds['class_counts'].items())}). {TUNING_SET} "
        "Macro-F1 is mean ± standard deviation over folds (min–max in brackets); per-class F1 is pooled over folds."),
        "",
        "| classifier | macro-F1 | accuracy | " + " | ".join(f"F1 {c}" for c in class_ids) + " |",
        "|---|---|---|" + "---|" * len(class_ids),
    ]
    shipped = shipped_name(results)
    for name, m in results["classifiers"].items():
        folds = m["macro_f1_per_fold"]
        per_class = " | ".join(f"{m['per_class'][c]['f1']:.2f}" for c in class_ids)
        label = NAMES.get(name, name) + (" (shipped)" if name == shipped else "")
        lines.append(
            f"| {label} | {m['macro_f1_mean']:.3f} ± {m['macro_f1_std']:.3f} "
            f"[{min(folds):.2f}–{max(folds):.2f}] | {m['accuracy']:.3f} | {per_class} |"
        )
    if shipped in results["classifiers"]:
        lines += ["", second_stage_comparison(results["classifiers"], shipped)]
    lines += flag_markdown(results)
    conditions = results.get("acquisition_conditions")
    if conditions:
        lines += ["", ("Out of fold, per acquisition condition (held-out scans transformed as clinics produce them, "
                  f"read by the app's page reading; answered by {conditions_classifier(results)}, page checks only):"),
                  "",
                  "| condition | answered | macro-F1 of the answers | pooled |", "|---|---|---|---|"]
        for name, row in conditions.items():
            pooled = "–" if row["pooled_macro_f1"] is None else f"{row['pooled_macro_f1']:.3f}"
            lines.append(f"| {name} | {100 * row['answered']:.0f}% | {row['macro_f1_mean']:.3f} ± "
                         f"{row['macro_f1_std']:.3f} | {pooled} |")
        lines += branch_conditions_markdown(results)
    ci = results.get("shipped_bootstrap_95ci")
    if ci:
        lines += ["", "Shipped model, 95% bootstrap intervals on pooled out-of-fold predictions: "
                  + "; ".join(f"{k} [{lo:.2f}, {hi:.2f}]" for k, (lo, hi) in ci.items()) + "."]
    cal = results.get("calibration")
    if cal:
        lines += ["", (f"Calibration (temperature {cal['temperature']:.2f}): expected calibration error "
                  f"{cal['ece_before']:.3f} before, {cal['ece_after_cross_fitted']:.3f} after (cross-fitted).")]
    ood = results.get("out_of_distribution")
    if ood:
        crossed = ood.get("cross_fitted_false_alarm_rate")
        measured = ("not an independent measurement" if crossed is None else
                    f"with each fold's threshold taken from the other folds, {100 * crossed:.1f}% are flagged")
        lines += ["", (f"CNN-feature out-of-distribution flag: Mahalanobis distance above {ood['threshold']:.1f}, the "
                  f"99th percentile of held-out real scans' distances (about 1% of them by construction; {measured}).")]
    table = "\n".join(lines)
    path.write_text(table + "\n")
    return table


def update_readme(readme: Path, text: str, section: str = "metrics") -> None:
    """Replace the README's text between the ``<!-- section:start -->`` and ``<!-- section:end -->`` markers."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    content = readme.read_text()
    if start in content and end in content:
        head, rest = content.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def applicability_markdown(measured: dict, manifest: dict) -> str:
    """The applicability check's figures (training.app_measure) and the MI operating point, as Markdown."""
    fingerprint = manifest["applicability"]["layout_fingerprint"]
    mi = manifest["thresholds"]["mi_operating_point"]
    lines = [
        (f"Measured by `python -m training.app_measure` on model {measured['model_version']}, through "
        "`EcgModel.classify` as the app runs it."),
        "",
        (f"- MI is listed, and is the answer, from probability {mi['threshold']:.2f}: out of fold it finds "
        f"{mi['detected']} of {mi['mi_scans']} MI scans and costs {mi['false_alarms']} false MI findings among "
        f"{mi['non_mi_scans']} other scans (threshold chosen on these predictions; cross-fitted figures in the "
        "model card)."),
    ]
    if fingerprint.get("false_alarm_rate") is not None:
        lines.append(
            f"- Layout-fingerprint check: {fingerprint['false_alarms']} of {fingerprint['real_scans']} real scans "
            f"({100 * fingerprint['false_alarm_rate']:.1f}%) flagged when the distribution and its threshold were "
            "fitted without them (cross-fitted over the 5 folds)."
        )
    lines += ["", "| negative family (rendered, never used for fitting) | pages | not assessable | reasons given |",
              "|---|---|---|---|"]
    for name, row in measured["negative_families"].items():
        reasons = ", ".join(f"{code} {count}" for code, count in sorted(row["reasons"].items()))
        lines.append(f"| {name} | {row['pages']} | {100 * row['catch_rate']:.0f}% | {reasons} |")
    lines += ["", ("| real scans as a clinic may also have them | scans | answered | macro-F1 of the answers* | "
              "reasons given |"), "|---|---|---|---|---|"]
    for name, row in measured["conditions_on_training_scans"].items():
        f1 = "–" if row["macro_f1_of_answers"] is None else f"{row['macro_f1_of_answers']:.3f}"
        reasons = ", ".join(f"{code} {count}" for code, count in sorted(row["reasons"].items()))
        lines.append(f"| {name} | {row['scans']} | {100 * row['answered']:.0f}% | {f1} | {reasons} |")
    lines += ["", ("\\* These scans trained the shipped model, so their macro-F1 is optimistic; it shows what each "
              "acquisition change costs, not accuracy on new patients. The answered share measures the checks.")]
    return "\n".join(lines)
