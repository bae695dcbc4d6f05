"""How training chooses the app's thresholds, on small arrays whose right answer is known in advance.

Finding thresholds (training.decision_rule, training.thresholds), the low-confidence level
(training.classifiers) and the out-of-distribution distance (training.ood).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from training import calibration
from training.classifiers import low_confidence_threshold
from training.decision_rule import choose_thresholds, cross_fitted_rule, mi_operating_point
from training.ood import cross_fitted_false_alarms, fit_distribution, threshold_from
from training.thresholds import read_oof, rule_thresholds

CLASS_IDS = ["normal", "abnormal_heartbeat", "mi", "history_of_mi"]
NORMAL, ABNORMAL, MI, HISTORY = range(4)


def scans(label: int, count: int, **probability: float) -> tuple[np.ndarray, np.ndarray]:
    """``count`` scans of class ``label``; the named classes get those probabilities, the rest share what is left."""
    row = np.zeros(len(CLASS_IDS))
    for cid, p in probability.items():
        row[CLASS_IDS.index(cid)] = p
    unnamed = [k for k, cid in enumerate(CLASS_IDS) if cid not in probability]
    row[unnamed] = (1.0 - row.sum()) / len(unnamed)
    return np.tile(row, (count, 1)), np.full(count, label)


def stack(*groups: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([g[0] for g in groups]), np.concatenate([g[1] for g in groups])


def mi_example() -> tuple[np.ndarray, np.ndarray]:
    """20 MI scans: 18 at MI probability 0.605, one at 0.405, one at 0.105; 30 others at 0.5, 50 at 0.02.

    Keeping 95% sensitivity (19 of 20) allows any threshold up to 0.40, whatever it costs in false alarms;
    best F1 would have been 0.51 (18 found, no false alarm).
    """
    return stack(scans(MI, 18, mi=0.605), scans(MI, 1, mi=0.405), scans(MI, 1, mi=0.105),
                 scans(ABNORMAL, 30, mi=0.5, abnormal_heartbeat=0.45), scans(NORMAL, 50, mi=0.02, normal=0.9))


def test_the_mi_threshold_is_the_highest_that_keeps_95_percent_sensitivity() -> None:
    probs, labels = mi_example()
    assert choose_thresholds(probs, labels, CLASS_IDS)["mi"] == 0.40


def test_the_mi_operating_point_counts_what_that_threshold_finds_and_costs() -> None:
    probs, labels = mi_example()
    point = mi_operating_point(probs, labels, CLASS_IDS, 0.40)
    assert point["detected"] == 19 and point["mi_scans"] == 20 and point["sensitivity"] == 0.95
    assert point["false_alarms"] == 30 and point["non_mi_scans"] == 80 and point["false_alarm_rate"] == 30 / 80


def test_without_any_threshold_reaching_95_percent_the_lowest_is_kept() -> None:
    probs, labels = stack(scans(MI, 10, mi=0.01), scans(NORMAL, 10, normal=0.9))
    assert choose_thresholds(probs, labels, CLASS_IDS)["mi"] == 0.05


def test_other_classes_take_the_threshold_of_best_one_vs_rest_f1() -> None:
    """8 Normal scans at 0.8, 2 others at 0.65, 10 at 0.2: F1 is 1 from 0.66 to 0.80; the lowest of those is kept."""
    probs, labels = stack(scans(NORMAL, 8, normal=0.8), scans(ABNORMAL, 2, normal=0.65),
                          scans(HISTORY, 10, normal=0.2), scans(MI, 5, mi=0.7, normal=0.0))
    assert choose_thresholds(probs, labels, CLASS_IDS)["normal"] == 0.66


def test_the_rule_is_scored_with_thresholds_chosen_on_the_other_folds_only() -> None:
    """Fold 0's MI scans sit at 0.3, fold 1's at 0.7: each fold gets the other's MI threshold (0.70, 0.30),
    so fold 0's MI scans are missed and fold 1's found; thresholds fitted on all data would find all 20."""
    fold0 = stack(scans(MI, 10, mi=0.3, normal=0.6), scans(NORMAL, 10, normal=0.9, mi=0.01))
    fold1 = stack(scans(MI, 10, mi=0.7, normal=0.2), scans(NORMAL, 10, normal=0.9, mi=0.01))
    scored = cross_fitted_rule([fold0[0], fold1[0]], [fold0[1], fold1[1]], CLASS_IDS)
    assert scored["mi_finding"]["detected"] == 10 and scored["mi_finding"]["mi_scans"] == 20
    assert scored["mi_finding"]["sensitivity"] == 0.5 and scored["mi_finding"]["false_alarms"] == 0


def test_the_manifest_block_chooses_on_calibrated_probabilities() -> None:
    """rule_thresholds calibrates each fold with the other folds' temperature first: on those probabilities its
    MI threshold keeps >= 95% sensitivity and the next grid step would not."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    probs = rng.dirichlet(np.ones(4), 400) * 0.6
    probs[np.arange(400), labels] += 0.4
    folds = [probs[f] for f in np.array_split(np.arange(400), 4)]
    fold_labels = [labels[f] for f in np.array_split(np.arange(400), 4)]
    block = rule_thresholds(folds, fold_labels, CLASS_IDS)
    mi_probs = np.concatenate(calibration.cross_fitted(folds, fold_labels))[labels == MI, MI]
    threshold = block["findings"]["mi"]
    assert (mi_probs >= threshold).mean() >= 0.95 > (mi_probs >= round(threshold + 0.01, 2)).mean()
    assert threshold != choose_thresholds(probs, labels, CLASS_IDS)["mi"]  # calibration moved it
    assert block["mi_operating_point"]["threshold"] == threshold and "mi_finding" in block["scores"]


def test_out_of_fold_predictions_are_read_back_per_fold(tmp_path: Path) -> None:
    path = tmp_path / "oof_predictions.csv"
    header = "file,fold,label," + ",".join(f"lightgbm_{c}" for c in CLASS_IDS)
    path.write_text(f"{header}\na.jpg,0,mi,0.1,0.2,0.6,0.1\nb.jpg,1,normal,0.7,0.1,0.1,0.1\n"
                    "c.jpg,0,history_of_mi,0.1,0.1,0.1,0.7\n")
    probs, labels = read_oof(path, CLASS_IDS)
    assert [p.tolist() for p in probs] == [[[0.1, 0.2, 0.6, 0.1], [0.1, 0.1, 0.1, 0.7]], [[0.7, 0.1, 0.1, 0.1]]]
    assert [y.tolist() for y in labels] == [[MI, HISTORY], [NORMAL]]


def test_low_confidence_is_the_highest_level_below_which_predictions_are_right_at_most_two_times_in_three() -> None:
    """10 answers at 0.42 (3 right), 10 at 0.57 (9 right), 10 at 0.77 (7 right), 30 at 0.97 (all right): below
    0.45-0.55 the answers are right 30% of the time, below 0.60-0.75 60%, below 0.80-0.95 63%; above 2/3 from 1.0."""
    top = np.repeat([0.42, 0.57, 0.77, 0.97], [10, 10, 10, 30])
    right = np.concatenate([np.arange(10) < 3, np.arange(10) < 9, np.arange(10) < 7, np.ones(30, bool)])
    probs = np.column_stack([top, *(np.full((3, 60), 1 - top) / 3)])
    labels = np.where(right, 0, 1)
    assert low_confidence_threshold(probs, labels) == 0.95
    right[27:29] = True  # 9 of 10 right at 0.77: below 0.80, 21 of 30 (70%)
    assert low_confidence_threshold(probs, np.where(right, 0, 1)) == 0.75


def test_the_ood_threshold_is_the_99th_percentile_of_held_out_distances() -> None:
    assert threshold_from(np.arange(1.0, 101.0)) == pytest.approx(99.01)


def test_cross_fitted_false_alarms_use_the_other_folds_thresholds() -> None:
    """Two folds at distances 1-100 and one at 101-200: the far fold is wholly flagged by the threshold of the
    other two (99.01), and the near folds not at all by thresholds that include the far fold (198.01)."""
    near, far = np.arange(1.0, 101.0), np.arange(101.0, 201.0)
    assert cross_fitted_false_alarms([near, near.copy(), far]) == pytest.approx(100 / 300)


def test_the_feature_distribution_measures_mahalanobis_distance() -> None:
    """Features with standard deviation 1 and 10 along two axes: a point 3 deviations out along either is at 3."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(5000, 2)) * [1.0, 10.0] + [5.0, -5.0]
    distribution = fit_distribution(features, threshold=4.0)
    distances = distribution.distance(np.array([[5.0, -5.0], [8.0, -5.0], [5.0, 25.0]]))
    assert distances == pytest.approx([0.0, 3.0, 3.0], abs=0.1) and distribution.threshold == 4.0
