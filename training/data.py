"""The training dataset: discovery, duplicate checks, grouping and grouped stratified folds."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold

from ecg_desktop.core.loading.image_io import IMAGE_SUFFIXES, load_for_analysis, load_image
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecg-images"
# Cosine similarity of trace descriptors: the 5 near-duplicate pairs score 0.892-0.918, distinct scans at most 0.884.
NEAR_DUPLICATE_SIMILARITY = 0.89


@dataclass
class Scan:
    """One training image with its class, content hashes and diagnostic-region crop."""

    path: Path
    label: int
    sha256: str
    descriptor: np.ndarray
    crop: CropBox
    group: int = -1


def discover(data_dir: Path, class_ids: list[str], *, limit_per_class: int | None = None) -> list[tuple[Path, int]]:
    """List ``data_dir/<class id>/*`` images with their label index, sorted for reproducibility."""
    found = []
    for label, class_id in enumerate(class_ids):
        files = sorted(p for p in (data_dir / class_id).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        found += [(p, label) for p in files[:limit_per_class]]
    if not found:
        raise SystemExit(f"No images found under {data_dir}/<class id>/")
    return found


def trace_descriptor(image: np.ndarray, box: CropBox) -> np.ndarray:
    """Unit-length 96x48 map of dark ink in the crop: same scan at another size or JPEG quality stays close.

    The pale grid is ignored (only pixels darker than 160 count), so the traces decide the similarity.
    """
    region = cv2.cvtColor(image[box.y0 : box.y1, box.x0 : box.x1], cv2.COLOR_BGR2GRAY)
    ink = np.clip(160.0 - region.astype(np.float32), 0, None)
    small = cv2.resize(ink, (96, 48), interpolation=cv2.INTER_AREA).ravel()
    return small / max(float(np.linalg.norm(small)), 1e-6)


def load_scans(files: list[tuple[Path, int]]) -> tuple[list[Scan], list[np.ndarray]]:
    """Hash and crop every file; returns the scans and their decoded (analysis-size) images."""
    scans, images = [], []
    for path, label in files:
        full = load_image(path)  # near-duplicates are judged at full size, whatever the model reads
        descriptor = trace_descriptor(full, find_diagnostic_region(full).box)
        image = load_for_analysis(path).pixels  # what inference reads: the analysis-size copy
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        scans.append(Scan(path, label, digest, descriptor, find_diagnostic_region(image).box))
        images.append(image)
    return scans, images


def assign_groups(scans: list[Scan]) -> dict[str, int]:
    """Join exact (sha256) and near (trace descriptor) duplicates into content groups; return counts."""
    descriptors = np.stack([s.descriptor for s in scans])
    similarity = descriptors @ descriptors.T
    digests = np.array([s.sha256 for s in scans])
    same_content = (digests[:, None] == digests[None, :]) | (similarity >= NEAR_DUPLICATE_SIMILARITY)
    n_groups, component = connected_components(csr_matrix(same_content), directed=False)
    groups = _numbered_by_last_file(component, n_groups)
    for scan, group in zip(scans, groups):
        scan.group = int(group)
    distinct_files = len(set(digests))
    between = similarity[groups[:, None] != groups[None, :]]
    return {
        "files": len(scans),
        "exact_duplicate_files": len(scans) - distinct_files,
        "near_duplicate_merges": distinct_files - n_groups,  # each merge of two groups removes one
        "groups": n_groups,
        "max_similarity_between_groups": round(float(between.max()), 4) if between.size else 0.0,
        "mixed_class_groups": _mixed_groups(scans),
    }


def _numbered_by_last_file(component: np.ndarray, n_groups: int) -> np.ndarray:
    """Group numbers in the order of each group's last file.

    StratifiedGroupKFold's shuffle depends on the numbers, so they are part of the split: on the dataset
    (five near-duplicate pairs) this is the numbering the shipped folds and cached CNNs were made with.
    """
    last_file = np.zeros(n_groups, dtype=int)
    np.maximum.at(last_file, component, np.arange(len(component)))
    return np.argsort(np.argsort(last_file))[component]


def _mixed_groups(scans: list[Scan]) -> int:
    labels: dict[int, set[int]] = {}
    for s in scans:
        labels.setdefault(s.group, set()).add(s.label)
    return sum(len(v) > 1 for v in labels.values())


def grouped_folds(scans: list[Scan], *, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, grouped k-fold: no content group is on both sides of a split."""
    labels = np.array([s.label for s in scans])
    groups = np.array([s.group for s in scans])
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(scans)), labels, groups))


def class_counts(scans: list[Scan], class_ids: list[str]) -> dict[str, int]:
    counts = Counter(s.label for s in scans)
    return {cid: counts[i] for i, cid in enumerate(class_ids)}
