"""The command-line contract: JSON lines, exit codes, version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ecg_desktop.cli import main

FIELDS = {"file", "label", "probabilities", "findings", "crop", "warnings", "error"}


def test_classify_json_on_real_scans(data_dir: Path, capsys) -> None:
    scans = [data_dir / "mi" / "MI(1).jpg", data_dir / "normal" / "Normal(1).jpg"]
    assert main(["classify", *map(str, scans), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(s) for s in scans]
    for line in lines:
        assert FIELDS <= set(line)
        assert line["error"] is None
        assert line["label"] in line["probabilities"]
        assert abs(sum(line["probabilities"].values()) - 1) < 1e-4
        assert len(line["crop"]) == 4


def test_classify_reports_failures_with_exit_1(tmp_path: Path, synthetic_scan: Path, capsys) -> None:
    (tmp_path / "bad.jpg").write_text("not an image")
    code = main(["classify", str(synthetic_scan), str(tmp_path / "bad.jpg"), str(tmp_path / "missing.png"), "--json"])
    assert code == 1
    lines = {Path(x["file"]).name: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["synthetic.png"]["error"] is None
    assert "not a readable image" in lines["bad.jpg"]["error"] and lines["bad.jpg"]["label"] is None
    assert "no such file" in lines["missing.png"]["error"]


def test_usage_error_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "ecg_desktop", "classify"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_version_prints_app_and_model(capsys) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert "ECG Desk" in out and "model 20" in out


def test_altered_model_makes_classify_fail_clearly(tmp_path: Path, synthetic_scan: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ECG_DESK_MODELS", str(tmp_path))
    assert main(["classify", str(synthetic_scan)]) == 1
    assert "manifest is missing" in capsys.readouterr().err


def test_self_test_passes_and_fails_loudly(tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["--self-test"]) == 0
    assert "self-test passed" in capsys.readouterr().out
    monkeypatch.setenv("ECG_DESK_MODELS", str(tmp_path))
    assert main(["--self-test"]) == 1
    assert "self-test FAILED" in capsys.readouterr().err
