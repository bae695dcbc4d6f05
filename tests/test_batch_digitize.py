"""``batch --digitize``: each scan's signals in OUT/signals/<stem>.csv and its measurements in OUT/measurements.jsonl."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest

from ecg_desktop import cli
from ecg_desktop.core.batch.run import CLUSTER_DIGITIZES_NOTHING, plan_batch, run_batch
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.signals.digitize import LEADS
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import text_page
from tests.conftest import write_image


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two printouts (one in a subfolder) and a typed letter."""
    root = tmp_path_factory.mktemp("scans")
    (root / "ward").mkdir()
    write_image(root / "first.png", render_printout(kind="normal", heart_rate=60, seed=1))
    write_image(root / "ward" / "second.jpg", render_printout(kind="st_elevation", heart_rate=90, seed=2),
                cv2.IMWRITE_JPEG_QUALITY, 95)
    write_image(root / "letter.png", text_page())
    return root


def _lines(out: Path) -> dict[str, dict]:
    lines = [json.loads(line) for line in (out / "measurements.jsonl").read_text(encoding="utf-8").splitlines()]
    return {Path(line["file"]).name: line for line in lines}


def test_batch_digitize_writes_signals_and_measurements_beside_results(model, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    steps = list(run_batch(model, plan_batch([folder], out), workers=2, digitize=True))
    assert len(steps) == 3
    lines = _lines(out)
    assert set(lines) == {"first.png", "second.jpg", "letter.png"}
    with open(out / "results.csv", encoding="utf-8") as stream:
        assert {row["file"] for row in csv.DictReader(stream)} == {line["file"] for line in lines.values()}
    for name, rate in (("first.png", 60), ("second.jpg", 90)):
        line = lines[name]
        csv_path = out / "signals" / f"{output_stem(Path(line['file']))}.csv"
        assert line["error"] is None and line["outputs"] == [str(csv_path)]
        assert abs(line["heart_rate_bpm"] - rate) <= 3, line
        rows = csv_path.read_text(encoding="utf-8").splitlines()
        assert rows[0] == "time_s," + ",".join(f"{lead}_mV" for lead in LEADS) and len(rows) == 5001
    letter = lines["letter.png"]
    assert letter["error"] and letter["outputs"] == [] and letter["heart_rate_bpm"] is None
    assert sorted(p.name for p in (out / "signals").iterdir()) == sorted(
        f"{output_stem(Path(lines[name]['file']))}.csv" for name in ("first.png", "second.jpg"))
    assert next(s.item for s in steps if s.item.path.name == "letter.png").result is not None  # still classified


def test_batch_without_digitize_writes_no_signals(model, folder: Path, tmp_path: Path) -> None:
    list(run_batch(model, plan_batch([folder / "ward"], tmp_path), workers=1))
    assert not (tmp_path / "signals").exists() and not (tmp_path / "measurements.jsonl").exists()


def test_batch_digitize_is_refused_on_a_cluster(model, folder: Path, tmp_path: Path) -> None:
    with pytest.raises(EcgDeskError) as refused:
        next(run_batch(model, plan_batch([folder], tmp_path), scheduler="tcp://127.0.0.1:1", digitize=True))
    assert str(refused.value) == CLUSTER_DIGITIZES_NOTHING
    assert not (tmp_path / "results.csv").exists()


def test_cli_batch_digitize_with_pdf(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pypdf import PdfReader

    out = tmp_path / "out"
    assert cli.main(["batch", str(folder / "ward"), "--out", str(out), "--digitize", "--pdf", "--workers", "1"]) == 0
    assert (out / "signals" / f"{output_stem(folder / 'ward' / 'second.jpg')}.csv").is_file()
    assert _lines(out)["second.jpg"]["error"] is None
    text = " ".join(PdfReader(out / f"{output_stem(folder / 'ward' / 'second.jpg')}.pdf").pages[0].extract_text().split())
    assert "Measurements (from the digitized traces)" in text and "bpm" in text
