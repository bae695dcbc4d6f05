"""tools/make_model_card.py: the card carries the numbers of metrics.json and manifest.json, and the committed
models/MODEL_CARD.md is exactly what the script makes from the committed files (so it cannot drift)."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
_spec = importlib.util.spec_from_file_location("make_model_card", REPO / "tools" / "make_model_card.py")
make_model_card = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_model_card)

CLASSES = [("normal", "Normal"), ("abnormal_heartbeat", "Abnormal heartbeat"), ("mi", "Myocardial infarction"),
           ("history_of_mi", "History of MI")]


def _summary(f1s: list[float], mean: float, std: float, accuracy: float, support: list[int]) -> dict:
    per_class = {
        cid: {"precision": round(f1 + 0.0123, 4), "recall": round(f1 - 0.0234, 4), "f1": f1, "support": n}
        for (cid, _), f1, n in zip(CLASSES, f1s, support)
    }
    return {"macro_f1_mean": mean, "macro_f1_std": std, "macro_f1_per_fold": [mean - std, mean + std],
            "pooled_macro_f1": mean, "accuracy": accuracy, "per_class": per_class, "confusion_matrix": []}


FAKE_METRICS = {
    "created": "2026-12-01T10:00:00+00:00",
    "seed": 0,
    "folds": 5,
    "cv": "StratifiedGroupKFold over content groups (sha256 + trace-descriptor near-duplicates of the crop)",
    "dataset": {"dir": "/data/ecg-images", "class_counts": {"normal": 141, "abnormal_heartbeat": 125, "mi": 23,
                "history_of_mi": 103}, "files": 392, "exact_duplicate_files": 537, "near_duplicate_merges": 11,
                "groups": 381, "max_similarity_between_groups": 0.8812, "mixed_class_groups": 0},
    "classifiers": {
        "cnn_softmax": _summary([0.71, 0.66, 0.21, 0.52], 0.5312, 0.0411, 0.6123, [141, 125, 23, 103]),
        "lightgbm": _summary([0.8123, 0.7456, 0.3789, 0.6012], 0.6351, 0.0567, 0.7034, [141, 125, 23, 103]),
        "xgboost": _summary([0.80, 0.74, 0.31, 0.59], 0.6101, 0.0632, 0.6912, [141, 125, 23, 103]),
    },
    "shipped_bootstrap_95ci": {"macro_f1": [0.5811, 0.6823], "normal": [0.7612, 0.8534],
                               "abnormal_heartbeat": [0.6845, 0.8012], "mi": [0.1523, 0.5634],
                               "history_of_mi": [0.5234, 0.6789]},
    "calibration": {"method": "temperature scaling", "temperature": 1.4142, "ece_before": 0.0876,
                    "ece_after_cross_fitted": 0.0345},
    "out_of_distribution": {"method": "Mahalanobis distance of CNN features to the training features",
                            "threshold": 23.456, "false_alarm_rate_on_held_out_real_scans": 0.0153,
                            "held_out_distance_quantiles": {"0.5": 9.1, "0.9": 14.2, "0.99": 22.9}},
}
FAKE_MANIFEST = {
    "format_version": 1,
    "model_name": "ECG Desk dual-branch CNN + LightGBM",
    "model_version": "2026-12-01-0123abcd",
    "created": "2026-12-01T10:00:00+00:00",
    "classes": [{"id": cid, "name": name} for cid, name in CLASSES],
    "files": {"cnn": {"file": "cnn.onnx", "sha256": "0123abcd" * 8},
              "classifier": {"file": "lightgbm.txt", "sha256": "fedc9876" * 8}},
    "calibration": {"method": "temperature", "temperature": 1.4142, "ece_before": 0.0876, "ece_after": 0.0345},
    "thresholds": {"findings": {"normal": 0.55, "abnormal_heartbeat": 0.35, "mi": 0.15, "history_of_mi": 0.4},
                   "low_confidence": 0.65, "method": "best one-vs-rest F1 on calibrated out-of-fold probabilities"},
}


def _write(folder: Path, metrics: dict, manifest: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def expected_parts(metrics: dict, manifest: dict) -> list[str]:
    """Text the card must contain, formatted from the two files the way the card formats numbers."""
    f = "{:.3f}".format
    ds, shipped = metrics["dataset"], metrics["classifiers"][metrics.get("shipped", "lightgbm")]
    ci, cal, ood = metrics["shipped_bootstrap_95ci"], metrics["calibration"], metrics["out_of_distribution"]
    parts = [
        manifest["model_version"], "Not a diagnosis", "decision support", "Khan", "Hussain", "Mendeley Data", "2021",
        "doi:10.17632/gwbz3fsgp8.2", "CC BY 4.0", metrics["cv"],
        f"**{ds['files']} scans**", f"**{ds['groups']} distinct content", f"only {ds['class_counts']['mi']} distinct",
        f"{f(shipped['macro_f1_mean'])} ± {f(shipped['macro_f1_std'])}",
        f"[{f(ci['macro_f1'][0])}, {f(ci['macro_f1'][1])}]",
        f"temperature **{f(cal['temperature'])}**", f(cal["ece_before"]), f"**{f(cal['ece_after_cross_fitted'])}**",
        f"{ood['threshold']:.1f}", f"{100 * ood['false_alarm_rate_on_held_out_real_scans']:.1f}%",
        f"below **{f(manifest['thresholds']['low_confidence'])}**", "](lightgbm_feature_importance.png)",
        "One hospital", "One ECG machine layout",
    ]
    names = {c["id"]: c["name"] for c in manifest["classes"]}
    for cid, count in ds["class_counts"].items():
        parts.append(f"| {names[cid]} | {count} |")
    for cid, m in shipped["per_class"].items():
        lo, hi = ci[cid]
        parts.append(f"| {names[cid]} | {m['support']} | {f(m['precision'])} | {f(m['recall'])} | {f(m['f1'])} | "
                     f"[{f(lo)}, {f(hi)}] |")
    for name, m in metrics["classifiers"].items():
        parts.append(f"| {make_model_card.CLASSIFIER_NAMES.get(name, name)} | "
                     f"{f(m['macro_f1_mean'])} ± {f(m['macro_f1_std'])} | {f(m['accuracy'])} |")
    for cid, threshold in manifest["thresholds"]["findings"].items():
        parts.append(f"| {names[cid]} | {f(threshold)} |")
    for entry in manifest["files"].values():
        parts.append(entry["sha256"])
    return parts


def _missing(card: str, metrics: dict, manifest: dict) -> list[str]:
    return [part for part in expected_parts(metrics, manifest) if part not in card]


def test_card_carries_the_numbers(tmp_path: Path) -> None:
    models = _write(tmp_path / "models", FAKE_METRICS, FAKE_MANIFEST)
    out = tmp_path / "card.md"
    assert make_model_card.main(["--models", str(models), "--out", str(out)]) == 0
    card = out.read_text(encoding="utf-8")
    assert _missing(card, FAKE_METRICS, FAKE_MANIFEST) == []
    assert "0.635 ± 0.057" in card and "1.5%" in card and "23.5" in card  # spot checks of the formatting itself
    assert make_model_card.render_card(FAKE_METRICS, FAKE_MANIFEST) == card  # deterministic


def test_card_gives_each_acquisition_condition_and_what_the_reading_contributes() -> None:
    def row(answered: float, f1: float) -> dict:
        return {"answered": answered, "macro_f1_mean": f1, "macro_f1_std": 0.0412, "macro_f1_per_fold": [f1]}

    conditions = {"clean": row(0.995, 0.8841), "phone_photo": row(0.9512, 0.8123)}
    augment = {"rotation_deg": 2.0, "greyscale": 0.3, "photocopy": 0.2, "grid_hue": 0.3}
    card = make_model_card.render_card({**FAKE_METRICS, "acquisition_conditions": conditions,
                                        "fit_config": {"augment": augment}}, FAKE_MANIFEST)
    assert "| phone_photo | 95.1% | 0.812 ± 0.041 |" in card and "| clean | 99.5% | 0.884 ± 0.041 |" in card
    assert "grey copies, photocopies, other grid colours" in card and "trained only on" not in card
    assert "What the page reading contributes" not in card  # no ablation in this run's metrics

    ablation = {"folds": [0], "app": conditions, "no_geometry": {"clean": row(0.99, 0.88),
                                                                 "phone_photo": row(0.0, 0.0)}}
    card = make_model_card.render_card({**FAKE_METRICS, "acquisition_conditions": conditions, "ablation": ablation},
                                       FAKE_MANIFEST)
    assert "| phone_photo | 95.1%, 0.812 | 0.0%, – |" in card and "| clean | 99.5%, 0.884 | 99.0%, 0.880 |" in card
    assert "trained only on\n  clean colour scans" in card  # this run's views had no appearance changes

    assert "Not measured by the training run" in make_model_card.render_card(FAKE_METRICS, FAKE_MANIFEST)


def test_default_out_is_beside_the_metrics(tmp_path: Path) -> None:
    models = _write(tmp_path / "models", FAKE_METRICS, FAKE_MANIFEST)
    assert make_model_card.main(["--models", str(models)]) == 0
    assert (models / "MODEL_CARD.md").read_text(encoding="utf-8").startswith("# Model card: ECG Desk")


@pytest.mark.parametrize("key", ["shipped_bootstrap_95ci", "calibration", "out_of_distribution"])
def test_older_metrics_are_refused(tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    metrics = copy.deepcopy(FAKE_METRICS)
    del metrics[key]
    out = tmp_path / "card.md"
    models = _write(tmp_path / "m", metrics, FAKE_MANIFEST)
    assert make_model_card.main(["--models", str(models), "--out", str(out)]) == 2
    assert key in capsys.readouterr().err and not out.exists()


def test_metrics_and_manifest_of_different_runs_are_refused(tmp_path: Path) -> None:
    manifest = copy.deepcopy(FAKE_MANIFEST) | {"created": "2027-01-01T00:00:00+00:00"}
    with pytest.raises(make_model_card.CardError, match="different training runs"):
        make_model_card.render_card(FAKE_METRICS, manifest)


def test_committed_card_matches_the_committed_metrics(tmp_path: Path) -> None:
    card = MODELS / "MODEL_CARD.md"
    if not card.is_file():
        pytest.skip("models/MODEL_CARD.md is not there yet: run tools/make_model_card.py once the trained "
                    "models/metrics.json and models/manifest.json are committed")
    if not (MODELS / "metrics.json").is_file():
        pytest.fail("models/MODEL_CARD.md is committed without the models/metrics.json it was made from")
    out = tmp_path / "MODEL_CARD.md"
    assert make_model_card.main(["--models", str(MODELS), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == card.read_text(encoding="utf-8"), (
        "models/MODEL_CARD.md is out of date: run .venv/bin/python tools/make_model_card.py"
    )
    metrics, manifest = make_model_card.load_inputs(MODELS)
    assert _missing(out.read_text(encoding="utf-8"), metrics, manifest) == []
    assert (MODELS / make_model_card.FEATURE_IMPORTANCE).is_file(), "the card links to the feature-importance figure"


def test_card_leads_with_what_it_is_for_and_its_limits() -> None:
    """Help > About shows this card: purpose, limits and when it does not answer come before the metrics."""
    headings = [line[3:] for line in (MODELS / "MODEL_CARD.md").read_text().splitlines() if line.startswith("## ")]
    assert headings[:3] == ["Intended use", "Known limits", "When the model does not answer"]
    assert headings[-1] == "Model files"  # file names and hashes last
