"""The signal branch: features read off the digitized leads, and the model's answer when it ships a stacker."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np
import pytest

from ecg_desktop.core import EcgModel, ModelError
from ecg_desktop.core.classify.manifest import sha256_of
from ecg_desktop.core.classify.signal_branch import DISAGREEMENT_WARNING, disagree, stack_inputs
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.signals.features import FEATURE_NAMES, page_signal_features
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import blank_page
from tests.conftest import copy_models

V2_ST60 = FEATURE_NAMES.index("V2_st60")
V2_Q_DEPTH = FEATURE_NAMES.index("V2_q_depth")
HEART_RATE = FEATURE_NAMES.index("heart_rate")


@pytest.fixture(scope="module")
def features() -> dict[str, np.ndarray]:
    """Signal features of a normal and an ST-elevation render (the same heart rate and seed)."""
    return {kind: page_signal_features(read_page(render_printout(kind=kind, seed=1, heart_rate=75)))
            for kind in ("normal", "st_elevation")}


def test_features_show_what_the_printout_shows(features: dict[str, np.ndarray]) -> None:
    normal, st = features["normal"], features["st_elevation"]
    assert normal.shape == (len(FEATURE_NAMES),) and np.isfinite(normal).mean() > 0.9
    assert abs(normal[V2_ST60]) < 0.1 < st[V2_ST60] - normal[V2_ST60]  # V2 drawn 0.30 mV up
    assert st[V2_Q_DEPTH] > normal[V2_Q_DEPTH] + 0.3  # pathological Q wave in V2
    assert normal[HEART_RATE] == pytest.approx(75, abs=3)


def test_a_page_without_traces_has_no_features() -> None:
    assert np.isnan(page_signal_features(read_page(blank_page()))).all()


def test_disagreement_is_normal_against_abnormal_on_pages_whose_signals_were_read() -> None:
    normal, mi, history = [0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]
    read, unread = np.zeros(3), np.full(3, np.nan)
    image = np.array([normal, mi, normal, normal])
    signals = np.array([mi, history, normal, mi])
    assert disagree(image, signals, np.stack([read, read, read, unread])).tolist() == [True, False, False, False]
    assert stack_inputs(image[:1], read[None]).shape == (1, 4 + 3)


def _signal_branch(models: Path, signals_say: int, features: tuple[str, ...] = FEATURE_NAMES) -> None:
    """Give the models in ``models`` a signal branch whose signals alone answer class ``signals_say`` for any page
    and whose stacker follows the image branch's own probabilities."""
    rng = np.random.default_rng(0)
    image = np.eye(4)[rng.integers(0, 4, 400)] * 0.9 + 0.025
    rows = stack_inputs(image, rng.normal(size=(400, len(FEATURE_NAMES))))
    labels = np.argmax(image, axis=1)
    params = {"n_estimators": 20, "min_child_samples": 5, "verbose": -1}
    stacker = lightgbm.LGBMClassifier(**params).fit(rows, labels)
    alone = lightgbm.LGBMClassifier(**params).fit(rows[:, 4:], np.where(rng.random(400) < 0.95, signals_say, labels))
    stacker.booster_.save_model(str(models / "signal_stacker.txt"))
    alone.booster_.save_model(str(models / "signal_classifier.txt"))
    manifest = json.loads((models / "manifest.json").read_text())
    for role, name in (("signal_stacker", "signal_stacker.txt"), ("signal_classifier", "signal_classifier.txt")):
        manifest["files"][role] = {"file": name, "sha256": sha256_of(models / name)}
    manifest["signal_branch"] = {"features": list(features)}
    (models / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("signals_say, warned", [(2, True), (0, False)])
def test_a_model_with_a_signal_branch_warns_when_the_branches_disagree(
        tmp_path: Path, signals_say: int, warned: bool) -> None:
    copy_models(tmp_path / "models")
    _signal_branch(tmp_path / "models", signals_say)
    result = EcgModel.load(tmp_path / "models").classify(render_printout(kind="normal", seed=2))
    assert result.label == "normal"
    expected = DISAGREEMENT_WARNING.format(image="Normal", signals="Myocardial infarction")
    assert (expected in result.warnings) == warned
    assert result.low_confidence or not warned


def test_a_signal_branch_reading_other_features_is_refused(tmp_path: Path) -> None:
    copy_models(tmp_path / "models")
    _signal_branch(tmp_path / "models", 2, features=(*FEATURE_NAMES[:-1], "something_else"))
    with pytest.raises(ModelError, match="other signal features"):
        EcgModel.load(tmp_path / "models")
