"""Page reading and model inputs stay exactly what they were when the model now being trained was trained.

``tests/data/same_results.npz`` holds what the code computed before the speed work, for rendered
printouts (always checked) and real dataset scans (checked when the dataset is present): the page
transform, the diagnostic region (in the upright analysis copy and in full-size pixels), the grid
pitch, the reasons, a hash of the upright analysis copy, the layout fingerprint and the model inputs of
both input styles (also through a training warp). Transforms, boxes, reasons and hashes must be equal;
inputs and fingerprints within 1e-6.

Record again only when results are meant to change (which means retraining)::

    .venv/bin/python tests/test_same_results.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecg_desktop.core.classify.fingerprint import layout_fingerprint
from ecg_desktop.core.classify.preprocess import PREPROCESSING, preprocess
from ecg_desktop.core.loading.image_io import load_for_analysis, load_image
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.testing.synthetic import render_printout
from training.augment import AugmentConfig, random_warp
from training.conditions import apply_condition

RECORD = Path(__file__).resolve().parent / "data" / "same_results.npz"
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"
TOLERANCE = 1e-6
STYLES = ("ink_on_scan", "ink_only")


@dataclass(frozen=True)
class Case:
    """An image as read_page takes it: pixels, the full file's size when reduced, and a user's crop."""

    image: np.ndarray
    image_size: tuple[int, int] | None = None
    crop: CropBox | None = None


def _rendered(**options: object) -> np.ndarray:
    """A rendered printout (normal, seed 3 unless given)."""
    return render_printout(**{"kind": "normal", "seed": 3, **options})


def _perspective_photo(page: np.ndarray) -> np.ndarray:
    """The page photographed in perspective on a dark table (as in test_geometry)."""
    h, w = page.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32([[70, 40], [1050, 75], [1010, 760], [95, 720]]) * (w / 1107)
    matrix = cv2.getPerspectiveTransform(corners, seen)
    return cv2.warpPerspective(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(60, 80, 95))


RENDERED: dict[str, Callable[[], Case]] = {
    "rendered normal": lambda: Case(_rendered()),
    "rendered st_elevation grey": lambda: Case(apply_condition("grey", _rendered(kind="st_elevation", seed=4), 0)),
    "rendered irregular portrait": lambda: Case(apply_condition("portrait", _rendered(kind="irregular", seed=5), 1)),
    "rendered upside down": lambda: Case(apply_condition("upside_down", _rendered(seed=6), 0)),
    "rendered askew 4 deg": lambda: Case(apply_condition("askew_4deg", _rendered(seed=7), 2)),
    "rendered phone photo": lambda: Case(apply_condition("phone_photo", _rendered(seed=8), 3)),
    "rendered perspective photo": lambda: Case(_perspective_photo(_rendered(width=1107, height=786))),
    "rendered blue dot grid": lambda: Case(_rendered(grid_colour=(200, 120, 60), dot_grid=True, seed=9)),
    "rendered other cart": lambda: Case(_rendered(header="other", seed=10)),
    "rendered 6x2": lambda: Case(_rendered(layout="6x2", seed=11)),
    "rendered empty grid": lambda: Case(_rendered(traces=False)),
    "rendered crop cutting leads": lambda: Case(_rendered(), crop=CropBox(67, 283, 1200, 1517)),
    "rendered crop trimming margin": lambda: Case(_rendered(), crop=CropBox(60, 270, 2190, 1530)),
    "noise": lambda: Case(np.random.default_rng(0).integers(0, 256, (800, 1100, 3), dtype=np.uint8)),
}


def _scan(folder: str, index: int) -> Path:
    return sorted((DATA_DIR / folder).glob("*.jpg"))[index]


def _analysis(folder: str, index: int, crop: CropBox | None = None) -> Case:
    """The scan as the app reads it: decoded straight at the analysis size."""
    scan = load_for_analysis(_scan(folder, index))
    return Case(scan.pixels, scan.file_size, crop)


def _condition(name: str, folder: str, index: int, seed: int) -> Case:
    """The full-size scan under an acquisition condition."""
    return Case(apply_condition(name, load_image(_scan(folder, index)), seed))


REAL: dict[str, Callable[[], Case]] = {
    **{f"{folder} {index}": (lambda f=folder, i=index: _analysis(f, i))
       for folder in ("normal", "abnormal_heartbeat", "mi", "history_of_mi") for index in (0, 7, -1)},
    "normal 3 full size": lambda: Case(load_image(_scan("normal", 3))),
    "mi 2 grey": lambda: _condition("grey", "mi", 2, 0),
    "abnormal_heartbeat 5 portrait": lambda: _condition("portrait", "abnormal_heartbeat", 5, 1),
    "history_of_mi 4 askew 4 deg": lambda: _condition("askew_4deg", "history_of_mi", 4, 2),
    "normal 9 phone photo": lambda: _condition("phone_photo", "normal", 9, 3),
    "mi 3 perspective photo": lambda: Case(_perspective_photo(load_for_analysis(_scan("mi", 3)).pixels)),
    "mi 4 crop cutting leads": lambda: _analysis("mi", 4, CropBox(60, 280, 1100, 1400)),
}


def results(case: Case) -> dict[str, np.ndarray]:
    """What the pipeline computes for one image, as named arrays (metadata as one JSON string; inputs float32)."""
    page = read_page(case.image, image_size=case.image_size, crop=case.crop)
    found = find_diagnostic_region(page.work)
    transform = page.page_transform
    meta = {
        "size": list(transform.size), "quarter_turns": transform.quarter_turns, "skew_deg": transform.skew_deg,
        "rectified": transform.rectified, "box": page.box.as_list(), "crop": page.crop.as_list(),
        "source_size": list(page.source_size), "reasons": [[r.code, r.message] for r in page.reasons],
        "found": [found.box.as_list(), found.grid_found, found.grid_pitch_px],
        "work": [list(page.work.shape), hashlib.sha256(page.work.tobytes()).hexdigest()],
    }
    arrays = {"meta": np.array(json.dumps(meta)), "homography": transform.homography,
              "fingerprint": layout_fingerprint(page.work, page.box)}
    warp = random_warp(page.box, np.random.default_rng(0), AugmentConfig())
    for style in STYLES:
        config = replace(PREPROCESSING, input_style=style)
        arrays[style] = preprocess(page.work, page.box, config=config)
        arrays[f"{style} warped"] = preprocess(page.work, page.box, warp=warp, config=config)
    return arrays


INPUTS = (*STYLES, *(f"{style} warped" for style in STYLES))
SAMPLES = np.random.default_rng(0).integers(0, 3 * 227 * 227, 400)  # pixels stored as they are


def digest(inputs: np.ndarray) -> np.ndarray:
    """Model inputs (3 x S x S, k / 255 in float32) as exact byte sums of every row and column of each
    channel, then the bytes of the sampled pixels: any pixel changed by 1/255 changes a row and a column."""
    stored = np.round(inputs * 255).astype(np.uint16)
    assert np.array_equal(stored.astype(np.float32) / np.float32(255.0), inputs), "inputs are not k / 255"
    return np.concatenate([stored.sum(axis=2).ravel(), stored.sum(axis=1).ravel(), stored.ravel()[SAMPLES]])


def _same_inputs(now: np.ndarray, then: np.ndarray) -> bool:
    """``now`` (float inputs) within TOLERANCE of a digest: row and column means, and the sampled pixels."""
    size = now.shape[-1]
    sums = 2 * 3 * size
    expected_means, expected_pixels = then[:sums] / (255.0 * size), then[sums:] / 255.0
    means = np.concatenate([now.astype(np.float64).mean(axis=2).ravel(), now.astype(np.float64).mean(axis=1).ravel()])
    return bool(np.abs(means - expected_means).max() <= TOLERANCE
                and np.abs(now.ravel()[SAMPLES] - expected_pixels).max() <= TOLERANCE)


@pytest.fixture(scope="module")
def recorded() -> dict[str, np.ndarray]:
    with np.load(RECORD, allow_pickle=False) as stored:
        return dict(stored)


def _check(name: str, make: Callable[[], Case], recorded: dict[str, np.ndarray]) -> None:
    now = results(make())
    meta, then = json.loads(str(now["meta"])), json.loads(str(recorded[f"{name}/meta"]))
    assert meta == then, name
    assert np.array_equal(now["homography"], recorded[f"{name}/homography"]), name
    assert np.abs(now["fingerprint"] - recorded[f"{name}/fingerprint"]).max() <= TOLERANCE, name
    for key in INPUTS:
        assert _same_inputs(now[key], recorded[f"{name}/{key}"]), (name, key)


@pytest.mark.parametrize("name", list(RENDERED))
def test_rendered_printouts_read_as_recorded(name: str, recorded: dict[str, np.ndarray]) -> None:
    _check(name, RENDERED[name], recorded)


@pytest.mark.parametrize("name", list(REAL))
def test_real_scans_read_as_recorded(name: str, recorded: dict[str, np.ndarray], data_dir: Path) -> None:
    _check(name, REAL[name], recorded)


def record() -> None:
    """Write the record from the code as it is now (real scans only when the dataset is present)."""
    cases = {**RENDERED, **(REAL if DATA_DIR.is_dir() else {})}
    arrays = {}
    for name, make in cases.items():
        found = results(make())
        arrays.update({f"{name}/{key}": digest(value) if key in INPUTS else value for key, value in found.items()})
    RECORD.parent.mkdir(exist_ok=True)
    np.savez_compressed(RECORD, **arrays)
    print(f"{len(cases)} cases, {RECORD.stat().st_size / 1e6:.2f} MB in {RECORD}")


if __name__ == "__main__":
    record()
