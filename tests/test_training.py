"""The training code on a tiny run: duplicates grouped, folds grouped, ONNX export faithful, outputs loadable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest

pytest.importorskip("torch")

from ecg_desktop.core import EcgModel
from ecg_desktop.core.classify.preprocess import preprocess
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.signals.features import page_signal_features
from ecg_desktop.testing.synthetic import render_printout
from training import ablation, data, signal_branch
from training.cnn import DualBranchCNN
from training.conditions import CONDITIONS
from training.export import export_onnx, max_abs_difference
from training.train import CLASSES, main

CLASS_IDS = [c for c, _ in CLASSES]


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real scans per class, plus an exact copy and a re-encoded, resized copy of one MI scan."""
    source = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecg-images"
    if not source.is_dir():
        pytest.skip(f"real ECG scans not found at {source}")
    root = tmp_path_factory.mktemp("tiny")
    for cid in CLASS_IDS:
        (root / cid).mkdir()
        for path in sorted((source / cid).glob("*.jpg"))[:3]:
            image = cv2.imread(str(path))
            cv2.imwrite(str(root / cid / path.name), cv2.resize(image, (1106, 786), interpolation=cv2.INTER_AREA))
    first = min((root / "mi").glob("*.jpg"))
    shutil.copy(first, root / "mi" / "exact copy.jpg")
    near = cv2.resize(cv2.imread(str(first)), (1000, 711), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(root / "mi" / "near copy.jpg"), near, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return root


def test_duplicates_are_grouped_and_never_split(tiny_dataset: Path) -> None:
    scans, _ = data.load_scans(data.discover(tiny_dataset, CLASS_IDS))
    counts = data.assign_groups(scans)
    assert counts["exact_duplicate_files"] == 1 and counts["near_duplicate_merges"] == 1
    assert counts["groups"] == len(scans) - 2
    by_name = {s.path.name: s.group for s in scans}
    first = min(n for n in by_name if n.startswith("MI("))
    assert by_name["exact copy.jpg"] == by_name["near copy.jpg"] == by_name[first]
    for train, test in data.grouped_folds(scans, n_folds=2, seed=0):
        assert not {scans[i].group for i in train} & {scans[i].group for i in test}


def test_training_reads_scans_exactly_as_inference_does(real_scan: Path, model: EcgModel) -> None:
    scans, images = data.load_scans([(real_scan, 0)])
    assert images[0].shape == (786, 1107, 3)  # the analysis-size copy, as EcgModel.classify_file reads it
    scan = load_for_analysis(real_scan)
    page = read_page(scan.pixels, image_size=scan.file_size)  # as EcgModel.classify_file reads it
    assert np.array_equal(preprocess(images[0], scans[0].crop), preprocess(page.work, page.box))
    # The signal branch's features too: training reads them off the analysis copy as the app does.
    assert np.array_equal(signal_branch.features_of(images)[0], page_signal_features(page), equal_nan=True)
    result = model.classify_file(real_scan)
    assert result.crop == scans[0].crop.scaled(2213 / 1107, 1572 / 786).clamped(2213, 1572)


def test_onnx_export_matches_pytorch(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    model = DualBranchCNN(4).eval()
    export_onnx(model, tmp_path / "cnn.onnx", input_size=227)
    assert max_abs_difference(model, tmp_path / "cnn.onnx", input_size=227, batch=3) < 1e-4


def test_one_command_tiny_run_writes_loadable_models(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- metrics:start -->\nPLACEHOLDER-TABLE\n<!-- metrics:end -->\ny\n")
    args = ["--data", str(tiny_dataset), "--out", str(out), "--folds", "2", "--epochs", "1", "--readme", str(readme)]
    assert main(args) == 0
    cached = sorted(p.name for p in (out / "cache").glob("*/*.pt"))
    assert cached == ["final.pt", "fold0.pt", "fold1.pt"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["classifiers"]) == {"cnn_softmax", "lightgbm", "xgboost", "random_forest", "naive_bayes",
                                           "signals_alone", "lightgbm_signals", "decision_rule"}
    # The signal branch is scored on the same folds and shipped only when it beats the image branch alone.
    image, combined = (metrics["classifiers"][n]["macro_f1_mean"] for n in ("lightgbm", "lightgbm_signals"))
    assert metrics["shipped"] == ("lightgbm_signals" if combined > image else "lightgbm")
    assert set(metrics["acquisition_conditions_by_branch"]) == {"lightgbm", "signals_alone", "lightgbm_signals"}
    assert metrics["acquisition_conditions"] == metrics["acquisition_conditions_by_branch"][metrics["shipped"]]
    assert metrics["signal_branch"]["scans"] == metrics["dataset"]["files"]
    assert len(metrics["classifiers"]["lightgbm"]["macro_f1_per_fold"]) == 2
    assert metrics["onnx_max_abs_difference"] < 1e-4
    assert list(metrics["acquisition_conditions"]) == list(CONDITIONS)  # held-out scans as clinics have them
    assert all(0 <= row["answered"] <= 1 for row in metrics["acquisition_conditions"].values())
    assert "| upside_down |" in readme.read_text()
    for name in ("training_curves.png", "lightgbm_feature_importance.png", "confusion_matrices.png"):
        assert (out / name).stat().st_size > 1000
    shipped_row = {"lightgbm": "Image branch: LightGBM on CNN features (shipped)",
                   "lightgbm_signals": "Image + signal branch: LightGBM stacker on both (shipped)"}[metrics["shipped"]]
    assert shipped_row in readme.read_text() and "PLACEHOLDER-TABLE" not in readme.read_text()
    model = EcgModel.load(out)
    probs = model.probabilities(np.random.default_rng(0).random((2, 3, 227, 227), dtype=np.float32))
    assert probs.shape == (2, 4) and np.allclose(probs.sum(1), 1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["thresholds"]["mi_operating_point"]["threshold"] == manifest["thresholds"]["findings"]["mi"]
    assert ("signal_stacker" in manifest["files"]) == (metrics["shipped"] == "lightgbm_signals")

    # A stopped run started again reuses every trained CNN instead of training it again.
    (out / "cache" / next((out / "cache").iterdir()).name / "fold1.pt").unlink()
    assert main(args) == 0
    log = (out / "training_log.txt").read_text()
    assert "fold0: loaded the trained CNN" in log and "final: loaded the trained CNN" in log
    assert "fold1: loaded" not in log

    # Another process can train some of a run's CNNs into its cache; it writes nothing else.
    final = next((out / "cache").glob("*/final.pt"))
    final.unlink()
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert main([*args, "--only-cnn", "final"]) == 0
    assert final.exists() and {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == written
    final.unlink()
    with pytest.raises(SystemExit, match="no CNN called 'fold7'"):
        main([*args, "--only-cnn", "final,fold7"])
    assert not final.exists()  # a bad name is refused before anything is trained
    assert main([*args, "--only-cnn", "final"]) == 0

    # The ablation refits fold 0's second stage from the cache as training did: its "app" reading is training's.
    table = tmp_path / "ablation.json"
    assert ablation.main(["--data", str(tiny_dataset), "--cache", str(out / "cache"), "--folds", "2", "--epochs", "1",
                          "--only-folds", "0", "--out", str(table)]) == 0
    tables = json.loads(table.read_text())
    for name, row in json.loads((out / "metrics.json").read_text())["acquisition_conditions_by_branch"]["lightgbm"].items():
        assert tables["app"][name]["macro_f1_per_fold"][0] == pytest.approx(row["macro_f1_per_fold"][0])
        assert tables["no_checks"][name]["answered"] == 1.0
    # Each reading's predictions are kept beside the fold's CNN: run again, it reads and classifies nothing.
    assert len(list((out / "cache").glob("*/ablation-fold0-*.json"))) == 2
    with mock.patch.object(ablation, "fold_condition_predictions", side_effect=AssertionError("recomputed")):
        assert ablation.main(["--data", str(tiny_dataset), "--cache", str(out / "cache"), "--folds", "2",
                              "--epochs", "1", "--only-folds", "0", "--out", str(table)]) == 0
    assert json.loads(table.read_text()) == tables


def test_identity_augmentation_is_the_inference_input(real_scan: Path) -> None:
    from training.augment import AugmentConfig, augment, training_scan

    scans, images = data.load_scans([(real_scan, 0)])
    still = AugmentConfig(0, 0, 0, 0, 0, *(0.0,) * 8)
    view = augment(training_scan(images[0], scans[0].crop), np.random.default_rng(0), still)
    assert np.abs(view - preprocess(images[0], scans[0].crop)).max() < 1 / 255


def test_the_ablation_reads_a_page_as_it_comes() -> None:
    """An upside-down page: the app turns it; the ablation's no-geometry reading leaves it as it is."""
    page = cv2.rotate(render_printout(kind="normal", seed=3, width=1106, height=786), cv2.ROTATE_180)
    assert read_page(page).page_transform.quarter_turns == 2
    as_it_comes = ablation.read_as_it_comes(page)
    assert as_it_comes.page_transform.is_identity and np.array_equal(as_it_comes.work, page)
    assert read_page(page).page_transform.quarter_turns == 2  # the app's reading is back as it was
