"""Fit the applicability check's layout-fingerprint distribution and measure the whole check honestly.

    python -m training.applicability [--models models]    # also called by training.train

1. Fit: the fingerprint (ecg_desktop.core.classify.fingerprint) of every real scan, plus augmented views (grey,
   photocopy, grid hue, lighting, small warps), gives a Mahalanobis distribution. Its threshold is the
   99th percentile of distances of scans held out from the fit (inner folds), so it is never chosen on
   the distances it is judged by.
2. False alarms: for each outer fold, the distribution is fitted on the other folds, the threshold on
   inner folds within them, and the held-out fold's real scans are counted: cross-fitted.
3. Catch rate: the app itself (EcgModel.classify with the final files) on pages of each negative family
   (training.negatives, never used for fitting), and the share of real scans it answers, clean and under
   each acquisition condition (training.conditions).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from ecg_desktop.core.classify.fingerprint import layout_fingerprint
from ecg_desktop.core.classify.manifest import sha256_of
from ecg_desktop.core.page.crop import CropBox
from training import data
from training.augment import AugmentConfig, appearance, random_warp
from training.ood import fit_distribution

REPO = Path(__file__).resolve().parents[1]
FILE = "layout_distribution.npz"
FALSE_ALARM_QUANTILE = 0.99
VIEWS = 2  # augmented views per scan added to the fit
_VIEW_AUGMENT = AugmentConfig(rotation_deg=1.0, shift=0.015, zoom=0.03, shear=0.01, perspective=0.01)


def fingerprints(images: list[np.ndarray], boxes: list[CropBox], *, views: int = 0, seed: int = 0) -> np.ndarray:
    """Fingerprints of each image (``views`` == 0) or of ``views`` augmented copies of each, scan by scan."""
    rng = np.random.default_rng(seed)
    rows = []
    for image, box in zip(images, boxes):
        if not views:
            rows.append(layout_fingerprint(image, box))
        for _ in range(views):
            moved = cv2.warpPerspective(appearance(image, rng, _VIEW_AUGMENT), random_warp(box, rng, _VIEW_AUGMENT),
                                        (image.shape[1], image.shape[0]), borderValue=(255, 255, 255))
            rows.append(layout_fingerprint(moved, box))
    return np.stack(rows).reshape(len(images), max(views, 1), -1)


def _fitted_on(clean: np.ndarray, views: np.ndarray, scans: np.ndarray, threshold: float = np.inf):
    """The distribution of the clean fingerprints and augmented views of ``scans``."""
    return fit_distribution(np.concatenate([clean[scans], views[scans].reshape(-1, clean.shape[1])]), threshold)


def held_out_distances(clean: np.ndarray, views: np.ndarray, folds: list[np.ndarray]) -> np.ndarray:
    """Distance of each scan in ``folds`` to the distribution fitted on the scans of the other folds (pooled)."""
    members = np.concatenate(folds)
    return np.concatenate([
        _fitted_on(clean, views, np.setdiff1d(members, test)).distance(clean[test]) for test in folds
    ])


def cross_fitted_false_alarms(clean: np.ndarray, views: np.ndarray, folds: list[np.ndarray]) -> dict:
    """Per outer fold: threshold from inner folds, distribution from all other folds, count the held-out fold.

    Needs at least three folds (two inner folds to hold out from each other); with fewer, nothing is counted.
    """
    if len(folds) < 3:
        return {"false_alarms": None, "real_scans": None, "false_alarm_rate": None, "false_alarm_rate_per_fold": []}
    flagged, per_fold = 0, []
    for k, test in enumerate(folds):
        inner = [f for j, f in enumerate(folds) if j != k]
        threshold = float(np.quantile(held_out_distances(clean, views, inner), FALSE_ALARM_QUANTILE))
        distances = _fitted_on(clean, views, np.concatenate(inner)).distance(clean[test])
        per_fold.append(float((distances > threshold).mean()))
        flagged += int((distances > threshold).sum())
    total = sum(len(f) for f in folds)
    return {"false_alarms": flagged, "real_scans": total, "false_alarm_rate": flagged / total,
            "false_alarm_rate_per_fold": per_fold}


def fit(images: list[np.ndarray], boxes: list[CropBox], folds: list[np.ndarray], out: Path, *, seed: int = 0) -> dict:
    """Write the final distribution with its threshold to ``out / FILE``; return the cross-fitted figures."""
    clean = fingerprints(images, boxes)[:, 0]
    views = fingerprints(images, boxes, views=VIEWS, seed=seed)
    threshold = float(np.quantile(held_out_distances(clean, views, folds), FALSE_ALARM_QUANTILE))
    _fitted_on(clean, views, np.arange(len(clean)), threshold).save(out / FILE)
    return {"threshold": threshold, **cross_fitted_false_alarms(clean, views, folds)}


def register(models: Path, figures: dict) -> None:
    """Name the distribution file (with its sha256) and its figures in the manifest."""
    manifest = json.loads((models / "manifest.json").read_text())
    manifest["files"]["layout_distribution"] = {"file": FILE, "sha256": sha256_of(models / FILE)}
    manifest["applicability"] = {
        "layout_fingerprint": {
            "method": "Mahalanobis distance (Ledoit-Wolf) of the trace-ink layout fingerprint to real scans "
                      f"and {VIEWS} augmented views of each; threshold: {FALSE_ALARM_QUANTILE:.0%} quantile of "
                      "distances of scans held out from the fit",
            **figures,
        },
    }
    (models / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--models", type=Path, default=REPO / "models")
    args = parser.parse_args(argv)
    split = json.loads((args.models / "cv_folds.json").read_text())
    files = [args.data / name for name in split["files"]]
    from ecg_desktop.core.loading.image_io import load_for_analysis
    from ecg_desktop.core.page.crop import find_diagnostic_region

    images = [load_for_analysis(path).pixels for path in files]
    boxes = [find_diagnostic_region(image).box for image in images]
    fold_of = np.array(split["fold"])
    folds = [np.flatnonzero(fold_of == k) for k in sorted(set(split["fold"]))]
    figures = fit(images, boxes, folds, args.models)
    register(args.models, figures)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
