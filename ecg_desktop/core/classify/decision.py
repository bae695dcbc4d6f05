"""The decision rule: which class is the answer, given calibrated probabilities and finding thresholds.

"Normal" is the answer only when no abnormal class reaches its finding threshold. Myocardial
infarction's threshold is set low on purpose (high sensitivity, chosen on out-of-fold predictions):
a missed acute MI is the most dangerous error this tool can make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NORMAL = "normal"


@dataclass(frozen=True)
class Decision:
    """The answer, every class that reaches its finding threshold, and whether confidence is low."""

    label: str
    findings: tuple[str, ...]
    low_confidence: bool


def decide(probabilities: Mapping[str, float], thresholds: Mapping[str, float], low_confidence: float) -> Decision:
    """Apply the rule to one scan's probabilities (class id -> probability, in manifest order)."""
    findings = tuple(cid for cid, p in probabilities.items() if p >= thresholds.get(cid, 1.0))
    abnormal = [cid for cid in findings if cid != NORMAL]
    label = max(abnormal or probabilities, key=probabilities.__getitem__)
    return Decision(label, findings, probabilities[label] < low_confidence)


def decide_all(probs, class_ids: list[str], thresholds: Mapping[str, float], low_confidence: float = 0.0) -> list[str]:
    """The rule's labels for an N x classes array of probabilities (training uses it to score the rule)."""
    return [decide(dict(zip(class_ids, row)), thresholds, low_confidence).label for row in probs]
