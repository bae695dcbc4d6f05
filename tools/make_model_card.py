"""Write the model card (MODEL_CARD.md) from a training run's metrics.json and manifest.json.

    .venv/bin/python tools/make_model_card.py [--models models] [--out models/MODEL_CARD.md]

Every number in the card is read from those two files (nothing is typed by hand), so the card is
regenerated, never edited: tests/test_model_card.py checks that the committed card matches them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from training.report import NAMES as CLASSIFIER_NAMES
from training.report import (
    TUNING_SET,
    applicability_markdown,
    branch_conditions_markdown,
    conditions_classifier,
    flag_markdown,
    second_stage_comparison,
    shipped_name,
)

FEATURE_IMPORTANCE = "lightgbm_feature_importance.png"  # written next to metrics.json by training
REQUIRED_METRICS = ("cv", "folds", "seed", "dataset", "classifiers", "shipped_bootstrap_95ci", "calibration",
                    "out_of_distribution")
APPEARANCE_CHANGES = {"greyscale": "grey copies", "photocopy": "photocopies", "grid_hue": "other grid colours",
                      "low_resolution": "low resolution", "lighting": "uneven light", "noise": "sensor noise",
                      "blur": "blur", "jpeg": "JPEG"}
ABLATION_VARIANTS = {"app": "the app's reading",
                     "no_geometry": "no page correction (turning, deskewing, rectifying)",
                     "no_checks": "every page answered",
                     "no_geometry_no_checks": "no page correction, every page answered"}
HOSPITAL = "the Ch. Pervaiz Elahi Institute of Cardiology, Multan, Pakistan"
CITATION = (  # the short form is the one the app's About dialog and PDF reports use
    "*ECG Images dataset of Cardiac Patients* (Khan & Hussain, Mendeley Data 2021), CC BY 4.0. Full reference: "
    "Ali Haider Khan and Muzammil Hussain, ECG Images dataset of Cardiac Patients, Mendeley Data, version 2, 2021, "
    "[doi:10.17632/gwbz3fsgp8.2](https://doi.org/10.17632/gwbz3fsgp8.2); licence "
    "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)"
)


class CardError(ValueError):
    """metrics.json and manifest.json cannot make a card (missing keys, different training runs)."""


def load_inputs(models: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """metrics.json and manifest.json of ``models``."""
    try:
        return (json.loads((models / "metrics.json").read_text(encoding="utf-8")),
                json.loads((models / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise CardError(f"cannot read the training outputs in {models}: {exc}") from exc


def render_card(metrics: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The model card as Markdown."""
    missing = [key for key in REQUIRED_METRICS if key not in metrics]
    if shipped_name(metrics) not in metrics.get("classifiers", {}):
        missing.append(f"classifiers.{shipped_name(metrics)}")
    if missing:
        raise CardError(f"metrics.json lacks {', '.join(missing)}: it comes from an older training run; "
                        "run python -m training.train again")
    if metrics.get("created") and manifest.get("created") and metrics["created"] != manifest["created"]:
        raise CardError(f"metrics.json ({metrics['created']}) and manifest.json ({manifest['created']}) "
                        "come from different training runs")
    # what it is for and its limits first
    sections = [_title, _intended_use, _limits, _out_of_distribution, _thresholds, _data, _evaluation,
                _performance, _conditions, _comparison, _calibration, _importance, _files]
    return "\n\n".join(section(metrics, manifest).strip() for section in sections) + "\n"


# -- sections --------------------------------------------------------------------------------------------------------

def _title(metrics: dict, manifest: dict) -> str:
    created = manifest.get("created") or metrics.get("created", "(date unknown)")
    return f"""
# Model card: {manifest.get("model_name", "ECG Desk model")}

Model version `{manifest["model_version"]}`, trained {created}.
"""


def _intended_use(metrics: dict, manifest: dict) -> str:
    classes = ", ".join(f"**{c['name']}**" for c in manifest["classes"])
    return f"""
## Intended use

- **What it does:** reads a scan of a paper 12-lead ECG printout and gives a probability for each of
  {len(manifest["classes"])} classes: {classes}. Any class over its own threshold is listed as a finding;
  a page it cannot read (another layout or cart, no grid, not an ECG) gets no answer at all.
- **For whom:** clinicians reading ECGs, as decision support: a second opinion, or help sorting a folder of
  scans. The app shows which parts of the scan drove each result (View ▸ Show Saliency).
- **Not a diagnosis.** Every result must be confirmed by a qualified physician who reads the ECG itself.
  The model was built for scans of one ECG cart's printout. It was not built for other printout layouts,
  monitoring strips or screening of the general population, and it has not been evaluated in a prospective
  clinical study. Photos of that printout taken with a phone are read too, at the cost the table per
  acquisition condition below gives.
"""


def _data(metrics: dict, manifest: dict) -> str:
    ds = metrics["dataset"]
    names = _class_names(manifest)
    rows = "\n".join(f"| {names.get(cid, cid)} | {count} |" for cid, count in ds["class_counts"].items())
    checks = []
    if "exact_duplicate_files" in ds:
        checks.append(f"{ds['exact_duplicate_files']} byte-identical files")
    if "near_duplicate_merges" in ds:
        checks.append(f"{ds['near_duplicate_merges']} near-duplicates (the same tracing at another size or JPEG "
                      "quality), which were grouped with their originals")
    found = f" The training run's own duplicate check found {' and '.join(checks)}." if checks else ""
    return f"""
## Training data

Source: {CITATION}. The scans were collected at {HOSPITAL}.

The published files repeat many images byte for byte; after deduplication (one file per distinct image) the
training set has **{ds["files"]} scans** in **{ds["groups"]} distinct content groups**.{found} Scans of one
group are never split between training and test. A further part of the published dataset is kept apart to
measure the shipped model and was not used for anything in this card.

| Class | Scans |
|---|---|
{rows}
"""


def _evaluation(metrics: dict, manifest: dict) -> str:
    return f"""
## How it was evaluated

Split: {metrics["cv"]}; {metrics["folds"]} folds, seed {metrics["seed"]}. Every number below is out-of-fold:
each scan was predicted by models (CNN and classifier) trained without it and without its near-duplicates.
{TUNING_SET}
"""


def _performance(metrics: dict, manifest: dict) -> str:
    shipped = metrics["classifiers"][shipped_name(metrics)]
    ci = metrics["shipped_bootstrap_95ci"]
    names = _class_names(manifest)
    rows = "\n".join(
        f"| {names.get(cid, cid)} | {m['support']} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | "
        f"{_ci(ci.get(cid))} |"
        for cid, m in shipped["per_class"].items()
    )
    return f"""
## Performance of the shipped model ({CLASSIFIER_NAMES[shipped_name(metrics)]})

Macro-F1 **{_f(shipped["macro_f1_mean"])} ± {_f(shipped["macro_f1_std"])}** (mean ± standard deviation over
folds; 95% bootstrap interval {_ci(ci.get("macro_f1"))}); accuracy {_f(shipped["accuracy"])}.

| Class | Scans | Precision | Recall | F1 | F1 95% interval |
|---|---|---|---|---|---|
{rows}

*Precision*: of the scans the model put in a class, the share that belong there. *Recall*: of the scans that
belong to a class, the share the model found. The 95% intervals are percentile bootstrap intervals over the
pooled out-of-fold predictions: with this few scans they are wide, and the true performance may lie anywhere
in them.
"""


def _appearance_training(metrics: dict) -> str:
    """How the run's training views covered the ways clinics copy and photograph a printout."""
    augment = metrics.get("fit_config", {}).get("augment", {})
    changes = [name for key, name in APPEARANCE_CHANGES.items() if augment.get(key)]
    if not changes:
        return "but the model was trained only on\n  clean colour scans of that one printout."
    return ("and the model was trained on views of\n  that one printout changed as clinics change it ("
            + ", ".join(changes) + "); the table\n  per acquisition condition below says what each change costs.")


def _conditions(metrics: dict, manifest: dict) -> str:
    conditions = metrics.get("acquisition_conditions")
    if not conditions:
        return "## Per acquisition condition\n\nNot measured by the training run that made this model."
    rows = "\n".join(f"| {name} | {_pct(row['answered'])} | {_f(row['macro_f1_mean'])} ± {_f(row['macro_f1_std'])} |"
                     for name, row in conditions.items())
    text = f"""
## Per acquisition condition

Each fold's models on its held-out scans, each scan transformed as clinics produce it (training.conditions),
then read by the app's page reading and checks and answered by {conditions_classifier(metrics)}; *answered* is
the share the checks let through, macro-F1 is over those answers (mean ± standard deviation over folds).

| Condition | Answered | Macro-F1 |
|---|---|---|
{rows}
""" + _lines(branch_conditions_markdown(metrics))
    ablation = metrics.get("ablation")
    if ablation:
        variants = [name for name in ablation if name in ABLATION_VARIANTS]
        header = " | ".join(ABLATION_VARIANTS[name] for name in variants)
        lines = [f"| {name} | " + " | ".join(
            _answered_f1(ablation[v][name]) for v in variants)
            + " |" for name in conditions]
        text += f"""
What the page reading contributes (`python -m training.ablation`, the same fold models, LightGBM refitted as
training does; answered share, macro-F1 of the answers):

| Condition | {header} |
|---|{"---|" * len(variants)}
""" + "\n".join(lines) + "\n"
    return text


def _lines(lines: list[str]) -> str:
    """Markdown lines as a block that follows another ("" for none)."""
    return "\n".join(lines) + "\n" if lines else ""


def _answered_f1(row: dict) -> str:
    """Answered share and macro-F1 of the answers ("–" when nothing was answered)."""
    return f"{_pct(row['answered'])}, " + (_f(row["macro_f1_mean"]) if row["answered"] else "–")


def _comparison(metrics: dict, manifest: dict) -> str:
    rows = "\n".join(
        f"| {CLASSIFIER_NAMES.get(name, name)} | {_f(m['macro_f1_mean'])} ± {_f(m['macro_f1_std'])} | "
        f"{_f(m['accuracy'])} |"
        for name, m in metrics["classifiers"].items()
    )
    return f"""
## Comparison of classifiers

The same folds, the same CNN features; macro-F1 is mean ± standard deviation over folds.

| Classifier | Macro-F1 | Accuracy |
|---|---|---|
{rows}

{second_stage_comparison(metrics["classifiers"], shipped_name(metrics))}
""" + _lines(flag_markdown(metrics))


def _calibration(metrics: dict, manifest: dict) -> str:
    cal = metrics["calibration"]
    after = cal.get("ece_after_cross_fitted", cal.get("ece_after"))
    return f"""
## Calibration

The classifier's probabilities are temperature-scaled with temperature **{_f(cal["temperature"])}**, fitted on
out-of-fold predictions. Expected calibration error (the average gap between the probability shown for the
top class and how often the top class is right): {_f(cal["ece_before"])} before, **{_f(after)}** after
(cross-fitted: each fold calibrated with a temperature fitted on the other folds only).
"""


def _out_of_distribution(metrics: dict, manifest: dict) -> str:
    ood = metrics["out_of_distribution"]
    measured = metrics.get("app_measurement")
    figures = applicability_markdown(measured, manifest) if measured and "applicability" in manifest else (
        "The applicability figures have not been measured for this model (`python -m training.app_measure`)."
    )
    # the same figures stand in the README, where "the model card" is this card: here it is a section of it
    figures = figures.replace("in the model card", 'under "Decision rule and thresholds used by the app" below')
    return f"""
## When the model does not answer

The app gives **no diagnosis** ("Not assessable by this model", with the reasons) when the page has no ECG
grid, a grid with another lead layout, an edited crop that cuts off leads, an amount of trace ink outside
the training printouts' range, a layout fingerprint far from the training scans', or CNN features far from
the training scans'. The last check: {ood.get("method", "distance of the CNN features to the training scans'")},
flagged above **{ood["threshold"]:.1f}**, the 99th percentile of held-out scans' distances; its
**{_pct(ood["false_alarm_rate_on_held_out_real_scans"])}** false-alarm rate is that percentile on the same
distances, not an independent measurement.

{figures}
"""


def _thresholds(metrics: dict, manifest: dict) -> str:
    thresholds = manifest["thresholds"]
    names = _class_names(manifest)
    rows = "\n".join(f"| {names.get(cid, cid)} | {_f(t)} |" for cid, t in thresholds["findings"].items())
    method = f" Chosen by: {thresholds['method']}." if thresholds.get("method") else ""
    rule = metrics["classifiers"].get("decision_rule")
    scored = "" if rule is None else (
        f" Scored with each fold's thresholds chosen on the other folds, the rule reaches macro-F1 "
        f"**{_f(rule['macro_f1_mean'])} ± {_f(rule['macro_f1_std'])}** and lists MI for "
        f"**{rule['mi_finding']['detected']} of {rule['mi_finding']['mi_scans']}** MI scans, with "
        f"{rule['mi_finding']['false_alarms']} false MI findings among {rule['mi_finding']['non_mi_scans']} others."
    )
    return f"""
## Decision rule and thresholds used by the app

A class is listed as a finding when its probability reaches its threshold. **Normal** is the answer only when
no abnormal class reaches its threshold; otherwise the answer is the most probable abnormal finding. MI's
threshold is the highest that keeps at least 95% out-of-fold sensitivity.{scored}

| Class | Finding threshold |
|---|---|
{rows}

An answer is marked **low confidence** when its probability is below **{_f(thresholds["low_confidence"])}**.{method}
"""


def _importance(metrics: dict, manifest: dict) -> str:
    return f"""
## What the classifier relies on

![LightGBM feature importance]({FEATURE_IMPORTANCE})

Gain importance of the CNN features in the image branch's LightGBM (the features are learned, not named clinical
measurements). For one scan, View ▸ Show Saliency in the app and the `--saliency` option of
`ecg-desktop report` show which regions and leads drove the image branch's result.
""" + (_STACKER_IMPORTANCE if shipped_name(metrics) == "lightgbm_signals" else "")


_STACKER_IMPORTANCE = """
![Signal branch stacker: feature importance](signal_stacker_feature_importance.png)

Gain importance of the stacker's inputs: the image branch's probabilities (`image p(...)`) and the features read
off the digitized leads (`lead_feature`: ST level at J+60/J+80 ms, Q depth and width, R, S and T amplitudes, net
QRS; then heart rate, RR irregularity, PR, QRS, QT, QTc and axis).
"""


def _limits(metrics: dict, manifest: dict) -> str:
    ds = metrics["dataset"]
    mi = next((c["name"] for c in manifest["classes"] if c["id"] == "mi"), "myocardial infarction")
    return f"""
## Known limits

- **One hospital:** all scans come from {HOSPITAL}; other populations, and other hospitals'
  equipment and habits, may differ.
- **One ECG machine layout:** 3 rows of 4 leads plus a rhythm strip on a pink grid. Other layouts are refused;
  grey copies, other grid colours, turned pages and phone photos are read, {_appearance_training(metrics)}
- **Few acute MI scans:** only {ds["class_counts"].get("mi", "an unknown number of")} distinct scans of
  {mi.lower()} ({ds["files"]} scans in all), so results for that class are the least certain (see its 95% interval
  in the table under "Performance of the shipped model" below).
- The probabilities are calibrated on the same dataset; they are not risks for a patient in another setting.
- The bundled sample scans are synthetic drawings for demonstration only.
"""


def _files(metrics: dict, manifest: dict) -> str:
    rows = "\n".join(
        f"| {role} | `{entry['file']}` | `{entry['sha256']}` |" for role, entry in manifest["files"].items()
    )
    return f"""
## Model files

Each file's sha256 checksum below lets anyone check that the installed files are the ones this card describes.

| Role | File | sha256 |
|---|---|---|
{rows}
"""


# -- formatting ------------------------------------------------------------------------------------------------------

def _f(value: float) -> str:
    return f"{value:.3f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _ci(bounds: list[float] | None) -> str:
    return f"[{_f(bounds[0])}, {_f(bounds[1])}]" if bounds else "–"


def _class_names(manifest: dict) -> dict[str, str]:
    return {c["id"]: c["name"] for c in manifest["classes"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=REPO / "models", help="folder with metrics.json, manifest.json")
    parser.add_argument("--out", type=Path, default=None, help="the card to write (default: MODELS/MODEL_CARD.md)")
    args = parser.parse_args(argv)
    out = args.out or args.models / "MODEL_CARD.md"
    try:
        card = render_card(*load_inputs(args.models))
    except CardError as exc:
        print(f"make_model_card: {exc}", file=sys.stderr)
        return 2
    out.write_text(card, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
