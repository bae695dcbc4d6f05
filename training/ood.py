"""Fit the out-of-distribution model (Mahalanobis distance on CNN features) and its threshold."""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

from ecg_desktop.core.classify.ood import FeatureDistribution

FALSE_ALARM_QUANTILE = 0.99  # on held-out real scans, about 1 in 100 is flagged


def fit_distribution(features: np.ndarray, threshold: float = np.inf) -> FeatureDistribution:
    """Mean and Ledoit-Wolf shrunk precision of ``features`` (robust with few samples)."""
    estimate = LedoitWolf().fit(features)
    return FeatureDistribution(estimate.location_, estimate.precision_, float(threshold))


def held_out_distances(train_features: np.ndarray, test_features: np.ndarray) -> np.ndarray:
    """Distances of held-out scans to the distribution of the training fold."""
    return fit_distribution(train_features).distance(test_features)


def threshold_from(distances: np.ndarray) -> float:
    """The distance above which a scan is flagged, from pooled held-out distances of real scans."""
    return float(np.quantile(distances, FALSE_ALARM_QUANTILE))


def cross_fitted_false_alarms(distances_by_fold: list[np.ndarray]) -> float:
    """Share of held-out real scans flagged when each fold's threshold comes from the other folds' distances."""
    flagged = [
        (distances > threshold_from(np.concatenate(distances_by_fold[:k] + distances_by_fold[k + 1 :]))).sum()
        for k, distances in enumerate(distances_by_fold)
    ]
    return float(sum(flagged) / sum(len(d) for d in distances_by_fold))
