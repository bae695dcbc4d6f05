"""The command-line contract: JSON lines, exit codes, version."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from ecg_desktop.cli import main
from ecg_desktop.core.batch.run import plan_batch, run_batch
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.outcome import NOT_ASSESSABLE
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import blank_page, text_page
from tests.conftest import copy_models, interrupt_batch, write_batch_with_failures, write_image

FIELDS = {
    "file", "assessable", "label", "reasons", "probabilities", "model_outputs_not_a_diagnosis", "findings", "crop",
    "warnings", "low_confidence", "out_of_distribution", "other_printout", "model_version", "error",
}


def test_classify_json_on_real_scans(data_dir: Path, capsys) -> None:
    scans = [data_dir / "mi" / "MI(1).jpg", data_dir / "normal" / "Normal(1).jpg"]
    assert main(["classify", *map(str, scans), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(s) for s in scans]
    for line in lines:
        assert set(line) == FIELDS
        assert line["error"] is None and line["assessable"] is True and line["reasons"] == []
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


def test_classify_gives_each_of_the_three_states_its_own_output(tmp_path: Path, real_scan: Path, capsys) -> None:
    """Assessable: a diagnosis. Not assessable: no class, the reasons, exit 0. Unreadable: an error, exit 1."""
    blank = write_image(tmp_path / "blank page.png", blank_page())
    letter = write_image(tmp_path / "typed letter.png", text_page())
    (tmp_path / "broken.jpg").write_text("not an image")
    assert main(["classify", str(real_scan), str(blank), str(letter), str(tmp_path / "broken.jpg"), "--json"]) == 1
    lines = {Path(x["file"]).name: x for x in map(json.loads, capsys.readouterr().out.splitlines())}

    scan = lines[real_scan.name]
    assert scan["assessable"] is True and scan["label"] == "mi" and scan["reasons"] == []
    assert scan["findings"] and scan["model_outputs_not_a_diagnosis"] is None and scan["error"] is None
    assert max(scan["probabilities"], key=scan["probabilities"].get) == "mi"
    for name, code in (("blank page.png", "not_an_ecg"), ("typed letter.png", "no_grid")):
        line = lines[name]
        assert line["assessable"] is False and line["label"] is None and line["error"] is None, name
        assert line["probabilities"] is None and line["findings"] == [] and line["low_confidence"] is False
        assert code in [r["code"] for r in line["reasons"]] and all(r["message"] for r in line["reasons"])
        assert abs(sum(line["model_outputs_not_a_diagnosis"].values()) - 1) < 1e-4  # kept for research
        assert line["out_of_distribution"] is True and len(line["crop"]) == 4
    broken = lines["broken.jpg"]
    assert broken["assessable"] is None and broken["label"] is None and broken["reasons"] == []
    assert broken["probabilities"] is None and broken["model_outputs_not_a_diagnosis"] is None
    assert "not a readable image" in broken["error"]

    assert main(["classify", str(blank), str(letter), str(real_scan)]) == 0  # not assessable is not an error
    text = capsys.readouterr().out
    assert text.count(f": {NOT_ASSESSABLE} — ") == 2
    assert f"{blank}: {NOT_ASSESSABLE} — The classified region has 0.0% dark trace ink" in text
    assert f"{letter}: {NOT_ASSESSABLE} — No ECG grid was found" in text
    assert f"{real_scan}: Myocardial infarction (normal " in text
    unassessed = [line for line in text.splitlines() if NOT_ASSESSABLE in line]
    names = ("Normal", "infarction", "Abnormal", "History", "normal 0")
    assert not any(name in line for line in unassessed for name in names)


def test_usage_error_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "ecg_desktop", "classify"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_version_prints_app_and_model(capsys) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert "ECG Desk" in out and "model 20" in out


def test_altered_model_makes_classify_fail_clearly(tmp_path: Path, synthetic_scan: Path, monkeypatch, capsys) -> None:
    models = tmp_path / "models"
    cnn = copy_models(models, damage="altered")  # one byte of the CNN flipped; the manifest is intact
    monkeypatch.setenv("ECG_DESK_MODELS", str(models))
    assert main(["classify", str(synthetic_scan), "--json"]) == 1
    captured = capsys.readouterr()
    assert f"The model file {cnn.name} has been altered" in captured.err and "will not classify" in captured.err
    assert captured.out == ""  # nothing was classified with it


def test_batch_counts_a_failed_scan_and_a_failed_report_as_the_core_does(model, tmp_path: Path, capsys) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    blocked, broken = write_batch_with_failures(folder, out)
    core_out = tmp_path / "core"
    (core_out / f"{output_stem(blocked)}.pdf").mkdir(parents=True)  # the same report fails for the core's own run
    expected = list(run_batch(model, plan_batch([folder], core_out), pdf=True))[-1].progress.tally()
    assert expected.endswith(" 1 failed; 1 PDF report not written")

    assert main(["batch", str(folder), "--out", str(out), "--pdf"]) == 1  # exit 1: a file and a report failed
    captured = capsys.readouterr()
    assert f"Finished: {expected} in " in captured.out
    assert f"failed: {broken}" in captured.err
    assert f"{blocked}: PDF report not written" in captured.err and f"failed: {blocked}" not in captured.err


def test_self_test_passes_and_fails_loudly(tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["--self-test"]) == 0
    assert "self-test passed" in capsys.readouterr().out
    monkeypatch.setenv("ECG_DESK_MODELS", str(tmp_path))
    assert main(["--self-test"]) == 1
    assert "self-test FAILED" in capsys.readouterr().err


def test_report_opens_a_pdf_at_the_page_the_window_opens(tmp_path: Path, capsys) -> None:
    from ecg_desktop.core.loading.page_choice import default_page
    from tests.bad_inputs import _ecg, _pdf

    pdf = tmp_path / "cart.pdf"
    pdf.write_bytes(_pdf([_ecg(30), _ecg(31)]))
    assert default_page(pdf).path.name == "cart.pdf#page=1"  # the window's choice (tests/gui: page 1 of a PDF)
    assert main(["report", str(pdf), "--out", str(tmp_path / "report.pdf")]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{pdf}#page=1: ") and "Page 1 of 2 of cart.pdf" in captured.err
    assert (tmp_path / "report.pdf").stat().st_size > 1000


def test_batch_reads_a_list_of_files_and_resumes_it(model, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    scans = [write_image(folder / f"scan {i}.png", render_printout(kind="normal", seed=i, width=1106, height=786))
             for i in range(3)]
    (folder / "sub").mkdir()
    write_image(folder / "sub" / "blank.png", blank_page())
    listing = tmp_path / "list.txt"
    lines = [str(scans[1]), "", str(folder / "sub"), str(scans[1]), str(tmp_path / "gone.jpg"), str(scans[0])]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    assert main(["batch", "--from-list", str(listing), "--out", str(out)]) == 1  # gone.jpg failed
    assert "1 not assessable by this model, 1 failed" in capsys.readouterr().out
    rows = [Path(row["file"]).name for row in _csv_rows(out / "results.csv")]
    assert rows == ["scan 1.png", "blank.png", "gone.jpg", "scan 0.png"]  # in the list's order, each once

    listing.write_text(listing.read_text(encoding="utf-8") + f"{scans[2]}\n", encoding="utf-8")
    assert main(["batch", "--from-list", str(listing), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("4 files already in")
    assert [Path(row["file"]).name for row in _csv_rows(out / "results.csv")][4:] == ["scan 2.png"]


def test_batch_takes_a_folder_or_a_list_not_both(tmp_path: Path) -> None:
    for args in (["--out", "o"], [str(tmp_path), "--from-list", "list.txt", "--out", "o"]):
        proc = subprocess.run([sys.executable, "-m", "ecg_desktop", "batch", *args], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 2 and "usage" in proc.stderr


def test_ctrl_c_stops_a_batch_with_a_valid_results_csv_that_resumes(tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    folder.mkdir()
    files = 12
    for i in range(files):
        write_image(folder / f"scan {i:02d}.png", render_printout(kind="normal", seed=i, width=1106, height=786))
    command = [sys.executable, "-m", "ecg_desktop", "batch", str(folder), "--out", str(out), "--workers", "1"]
    results = out / "results.csv"
    stopped = interrupt_batch(command, results)
    stdout, stderr = stopped.stdout, stopped.stderr
    assert stopped.returncode == 130, f"{stdout}\n{stderr}"
    done = _csv_rows(results)
    assert stdout.startswith("Cancelled after ") and f"Results: {results}" in stdout and "Traceback" not in stderr
    assert 2 <= len(done) < files

    assert main(["batch", str(folder), "--out", str(out)]) == 0
    assert sorted(Path(row["file"]).name for row in _csv_rows(results)) == [f"scan {i:02d}.png" for i in range(files)]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))
