"""The decision rule: Normal only when no abnormal class reaches its threshold; MI's threshold favours sensitivity."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_desktop.core.classify.decision import decide

THRESHOLDS = {"normal": 0.5, "abnormal_heartbeat": 0.45, "mi": 0.12, "history_of_mi": 0.4}


def probs(normal: float, abnormal: float, mi: float, history: float) -> dict[str, float]:
    return {"normal": normal, "abnormal_heartbeat": abnormal, "mi": mi, "history_of_mi": history}


def test_normal_when_nothing_abnormal_reaches_its_threshold() -> None:
    decision = decide(probs(0.8, 0.1, 0.05, 0.05), THRESHOLDS, 0.5)
    assert decision.label == "normal" and decision.findings == ("normal",) and not decision.low_confidence


def test_an_mi_over_its_low_threshold_overrides_a_normal_top_class() -> None:
    decision = decide(probs(0.8, 0.02, 0.15, 0.03), THRESHOLDS, 0.5)
    assert decision.label == "mi"
    assert decision.findings == ("normal", "mi")
    assert decision.low_confidence  # the answer's own probability is low: said, not hidden


def test_the_strongest_abnormal_finding_is_the_answer() -> None:
    assert decide(probs(0.1, 0.5, 0.2, 0.2), THRESHOLDS, 0.5).label == "abnormal_heartbeat"


def test_without_findings_the_top_class_is_the_answer_with_low_confidence() -> None:
    decision = decide(probs(0.3, 0.35, 0.05, 0.3), THRESHOLDS, 0.5)
    assert decision.label == "abnormal_heartbeat" and decision.findings == () and decision.low_confidence


def test_training_scores_the_same_rule() -> None:
    from training.decision_rule import choose_thresholds, mi_operating_point

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    scores = rng.dirichlet(np.ones(4), 400) * 0.5
    scores[np.arange(400), labels] += 0.5
    thresholds = choose_thresholds(scores, labels, ["normal", "abnormal_heartbeat", "mi", "history_of_mi"])
    point = mi_operating_point(scores, labels, ["normal", "abnormal_heartbeat", "mi", "history_of_mi"], thresholds["mi"])
    assert point["sensitivity"] >= 0.95
    assert thresholds["mi"] == pytest.approx(max(t for t in np.round(np.arange(0.05, 0.91, 0.01), 2)
                                                 if (scores[labels == 2, 2] >= t).mean() >= 0.95))
