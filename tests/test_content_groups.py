"""Content groups of the training data (training.data.assign_groups), on hand-made scans with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from ecg_desktop.core.page.crop import CropBox
from training.data import Scan, assign_groups


def scan(name: str, degrees: float, *, sha: str | None = None, label: int = 0) -> Scan:
    """A scan whose trace descriptor is a unit vector at ``degrees``: two scans' similarity is the cosine between."""
    angle = np.deg2rad(degrees)
    return Scan(Path(name), label, sha or name, np.array([np.cos(angle), np.sin(angle)]), CropBox(0, 0, 1, 1))


def test_near_duplicates_join_transitively_and_exact_copies_by_hash() -> None:
    """A~B and B~C (25 degrees apart, similarity 0.906) but not A~C (0.643): one group. E is a byte copy of D
    with another descriptor: joined by its sha256. F is alone."""
    scans = [scan("A", 0), scan("D", 120), scan("B", 25), scan("F", 300), scan("C", 50, label=1),
             scan("E", 200, sha="D")]
    counts = assign_groups(scans)
    groups = {s.path.name: s.group for s in scans}
    assert groups["A"] == groups["B"] == groups["C"] and groups["D"] == groups["E"]
    assert len(set(groups.values())) == 3
    assert counts == {"files": 6, "exact_duplicate_files": 1, "near_duplicate_merges": 2, "groups": 3,
                      "max_similarity_between_groups": 0.5, "mixed_class_groups": 1}


def test_groups_are_numbered_in_the_order_of_their_last_file() -> None:
    """The folds depend on the numbers: F's group ends at file 3, A-B-C's at 4, D-E's at 5."""
    scans = [scan("A", 0), scan("D", 120), scan("B", 25), scan("F", 300), scan("C", 50), scan("E", 120, sha="D")]
    assign_groups(scans)
    assert [s.group for s in scans] == [1, 2, 1, 0, 1, 2]
