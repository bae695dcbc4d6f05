"""Batch runs: folder discovery, results.csv written per file, broken files never stop a batch, resume."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import cv2
import pytest

from ecg_desktop.cli import main
from ecg_desktop.core.batch.listing import ListFile, list_scans
from ecg_desktop.core.batch.progress import BatchProgress, table_note
from ecg_desktop.core.batch.run import ResultsCsv, classify_files, find_scans, plan_batch, run_batch
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import blank_page
from tests.conftest import write_batch_with_failures, write_image


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scans")
    (folder / "sub").mkdir()
    for i in range(4):
        target = folder / ("sub" if i % 2 else "") / f"scan {i} é.png"
        cv2.imwrite(str(target), render_printout(kind="normal", seed=i, width=1106, height=786))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_find_scans_recurses_sorts_and_reports_missing(scan_folder: Path, tmp_path: Path) -> None:
    files, missing = find_scans([scan_folder, tmp_path / "gone.jpg"])
    assert [f.name for f in files] == ["broken.jpg", "scan 0 é.png", "scan 2 é.png", "scan 1 é.png", "scan 3 é.png"]
    assert len(missing) == 1 and "no such file" in missing[0].error


def test_symlink_loop_is_not_followed_forever(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    cv2.imwrite(str(tmp_path / "a" / "x.png"), render_printout(seed=1, width=1106, height=786))
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    files, _ = find_scans([tmp_path])
    assert [f.name for f in files] == ["x.png"]


def test_broken_file_is_an_error_row_and_the_rest_goes_on(model, scan_folder: Path) -> None:
    files, _ = find_scans([scan_folder])
    items = list(classify_files(model, files, workers=2))
    assert [i.path for i in items] == files  # input order kept
    errors = {i.path.name: i.error for i in items if i.error}
    assert list(errors) == ["broken.jpg"] and "not a readable image" in errors["broken.jpg"]


def test_results_csv_is_written_per_file_and_resumes(model, scan_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan = plan_batch([scan_folder], out)
    stream = run_batch(model, plan, workers=2)
    next(stream)
    next(stream)
    stream.close()  # as if the user cancelled (or the app died) after two files
    assert len(_rows(out / "results.csv")) == 2
    resumed = plan_batch([scan_folder], out)
    assert resumed.skipped == 2 and resumed.total == 3
    list(run_batch(model, resumed, workers=2))
    rows = _rows(out / "results.csv")
    assert len(rows) == 5 and len({r["file"] for r in rows}) == 5
    broken = next(r for r in rows if r["file"].endswith("broken.jpg"))
    assert broken["label"] == "" and "not a readable image" in broken["error"]
    good = [r for r in rows if not r["error"]]
    assert all(abs(sum(float(r[f"p_{c}"]) for c in model.manifest.class_ids) - 1) < 1e-3 for r in good)
    assert list(plan_batch([scan_folder], out, rerun=True).files()) == list(plan.files())


def test_cancel_stops_submitting_new_files(model, scan_folder: Path) -> None:
    files, _ = find_scans([scan_folder])
    seen = []
    for item in classify_files(model, files * 4, workers=1, should_stop=lambda: len(seen) >= 2):
        seen.append(item)  # noqa: PERF402 -- should_stop reads seen while the loop runs
    assert len(seen) == 2


def test_unwritable_output_folder_is_a_clear_error(model, scan_folder: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/ecg-desk-cannot-write-here")
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        target = tmp_path / "ro" / "out"

    with pytest.raises(EcgDeskError, match="Cannot create the output folder"):
        list(run_batch(model, plan_batch([scan_folder], target), workers=1))


def test_results_csv_row_for_an_error_has_empty_probabilities(tmp_path: Path) -> None:
    from ecg_desktop.core.batch.scan import BatchItem

    results = ResultsCsv(tmp_path / "results.csv", ["a", "b"], "v1")
    results.append(BatchItem(tmp_path / "x.jpg", None, "x.jpg: broken"))
    (row,) = _rows(tmp_path / "results.csv")
    assert row["error"] == "x.jpg: broken" and row["p_a"] == "" and row["model_version"] == "v1"


def test_results_csv_records_each_of_the_three_states(model, real_scan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(real_scan, folder / "a real scan.jpg")
    write_image(folder / "b blank page.png", blank_page())
    (folder / "c broken.jpg").write_bytes(b"not an image")
    steps = list(run_batch(model, plan_batch([folder], tmp_path / "out"), workers=2))
    assert steps[-1].progress.tally() == "1 classified, 1 not assessable by this model, 1 failed"
    scan, blank, broken = _rows(tmp_path / "out" / "results.csv")
    assert list(scan) == ResultsCsv(Path(), model.manifest.class_ids, "").columns
    assert scan["assessable"] == "true" and scan["label"] == "mi" and scan["reasons"] == "" and scan["p_mi"]
    assert scan["low_confidence"] == scan["out_of_distribution"] == "false" and "mi" in scan["findings"]
    assert blank["assessable"] == "false" and blank["label"] == blank["findings"] == blank["error"] == ""
    assert blank["reasons"] == "not_an_ecg;no_grid" and blank["out_of_distribution"] == "true"
    assert all(blank[f"p_{c}"] == "" for c in model.manifest.class_ids)  # no class probability as an answer
    assert broken["assessable"] == broken["reasons"] == broken["label"] == "" and "not a readable" in broken["error"]


def test_a_results_csv_of_the_previous_version_is_refused_clearly(
    model, scan_folder: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    old = ("file,label,p_normal,p_abnormal_heartbeat,p_mi,p_history_of_mi,findings,crop,warnings,error,model_version\n"
           f"{scan_folder / 'scan 0 é.png'},mi,0.0100,0.0200,0.9513,0.0187,mi,1 2 3 4,,,old\n")
    (out / "results.csv").write_text(old, encoding="utf-8")
    plan = plan_batch([scan_folder], out)
    assert plan.skipped == 1  # its file column is still read
    with pytest.raises(EcgDeskError, match="earlier version of ECG Desk.*Move or rename it"):
        list(run_batch(model, plan, workers=1))
    with pytest.raises(EcgDeskError, match="earlier version"):
        list(run_batch(model, plan_batch([scan_folder], out, rerun=True), workers=1))
    assert main(["batch", str(scan_folder), "--out", str(out)]) == 1
    assert "an earlier version of ECG Desk" in capsys.readouterr().err
    assert (out / "results.csv").read_text(encoding="utf-8") == old  # left exactly as it was


def test_run_batch_streams_and_stops_on_request(model, scan_folder: Path, tmp_path: Path, monkeypatch) -> None:
    """The first result arrives before the whole folder is classified, and a stop request ends the batch."""
    calls = []
    original = model.classify
    monkeypatch.setattr(model, "classify", lambda image, **kw: calls.append(1) or original(image, **kw))
    copies = tmp_path / "copies"
    copies.mkdir()
    for i, scan in enumerate([f for f in find_scans([scan_folder])[0] if f.suffix == ".png"] * 5):
        os.link(scan, copies / f"{i:02d}.png")  # 20 files (hard links are files of their own)
    plan = plan_batch([copies], tmp_path / "out")
    files = list(plan.files())
    assert len(files) == plan.total == 20
    stop = []
    stream = run_batch(model, plan, workers=1, should_stop=lambda: bool(stop))
    next(stream)
    assert len(calls) <= 3  # one worker keeps at most two files in flight
    stop.append(True)
    rest = list(stream)
    assert len(rest) <= 2 and len(calls) < len(files)
    assert len(_rows(tmp_path / "out" / "results.csv")) == 1 + len(rest)


def test_pdf_reports_are_written_by_the_workers(model, scan_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    items = [step.item for step in run_batch(model, plan_batch([scan_folder], out), workers=2, pdf=True)]
    good = [i for i in items if i.result is not None]
    assert all((out / f"{output_stem(i.path)}.pdf").stat().st_size > 1000 for i in good)
    assert (out / "summary.pdf").exists() and not list(out.glob("*.part"))


def test_scans_with_one_name_get_their_own_reports_and_keep_them_on_a_rerun(model, tmp_path: Path) -> None:
    """a/scan.jpg, b/scan.jpg and b/scan.png: three reports, none written over another, each and the summary
    naming the scan by its path below the batch folder; a rerun writes each report under the same name again."""
    from pypdf import PdfReader

    def text(pdf: Path) -> str:
        return " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())

    folder, out = tmp_path / "scans", tmp_path / "out"
    kinds = {"a/scan.jpg": "normal", "b/scan.jpg": "st_elevation", "b/scan.png": "normal"}
    for name, kind in kinds.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        write_image(folder / name, render_printout(kind=kind, seed=len(name), width=1106, height=786))
    items = [step.item for step in run_batch(model, plan_batch([folder], out), workers=2, pdf=True)]
    reports = {item.path.relative_to(folder).as_posix(): out / f"{output_stem(item.path)}.pdf" for item in items}
    assert len(set(reports.values())) == 3 and all(pdf.is_file() for pdf in reports.values())
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted([p.name for p in reports.values()] + ["summary.pdf"])
    for name, pdf in reports.items():
        assert f"Source file {name}" in text(pdf) and all(other not in text(pdf) for other in set(kinds) - {name})
    assert all(name in text(out / "summary.pdf") for name in kinds)
    list(run_batch(model, plan_batch([folder], out, rerun=True), workers=2, pdf=True))
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted([p.name for p in reports.values()] + ["summary.pdf"])
    assert set(reports) == set(kinds)


def test_progress_counts_a_failed_scan_and_a_failed_report_apart(model, tmp_path: Path) -> None:
    """A scan whose PDF was not written is classified and a failed report; only an unreadable file is failed."""
    out = tmp_path / "out"
    blocked, broken = write_batch_with_failures(tmp_path / "scans", out)
    plan = plan_batch([tmp_path / "scans"], out)
    steps = list(run_batch(model, plan, workers=2, pdf=True))

    assert [step.progress.done for step in steps] == [1, 2, 3]
    by_name = {step.item.path.name: step.item for step in steps}
    assert by_name[broken.name].failed and not by_name[broken.name].report_failed
    assert by_name[blocked.name].report_failed and not by_name[blocked.name].failed
    progress = steps[-1].progress
    assert (progress.total, progress.done, progress.failed, progress.report_failed) == (3, 3, 1, 1)
    assert progress.classified + progress.not_assessable == 2 and progress.has_problems
    assert progress.tally().endswith(" 1 failed; 1 PDF report not written")
    assert plan.progress_at_start() == BatchProgress(total=3)


def test_progress_status_gives_the_time_left_once_there_is_a_pace() -> None:
    assert BatchProgress(total=10).status() == "0 / 10"
    assert BatchProgress(total=10, classified=5, seconds=10.0).status() == "5 / 10  ·  about 10 s left"
    assert BatchProgress(total=100, failed=1, seconds=10.0).status() == "1 / 100  ·  about 16 min left"
    assert BatchProgress(total=10, classified=2, seconds=0.2).status() == "2 / 10"  # too early to tell
    assert BatchProgress(total=10, classified=10, seconds=10.0).status() == "10 / 10"
    assert BatchProgress(total=4, skipped=2).status() == "0 / 4  ·  2 already done (skipped)"


def test_progress_summary_says_how_the_batch_ended() -> None:
    done = BatchProgress(total=4, skipped=1, classified=2, not_assessable=1, failed=1, seconds=2.0)
    assert done.summary() == (
        "Finished: 2 classified, 1 not assessable by this model, 1 failed in 2.0 s (2.0 scans/s). "
        "1 already in results.csv were skipped."
    )
    assert done.summary(cancelled=True).startswith("Cancelled after 2 classified")
    assert not BatchProgress(total=1, classified=1).has_problems
    assert BatchProgress(total=1, classified=1, report_failed=1).has_problems


def test_the_table_note_appears_only_once_rows_were_dropped() -> None:
    assert table_note(2000, 2000) == ""
    assert table_note(2000, 12345) == (
        "The table shows the last 2,000 of the 12,345 files of this run; results.csv has every one."
    )


def test_the_listing_reads_its_inputs_only_as_far_as_it_is_asked(tmp_path: Path) -> None:
    pulled = []

    def inputs():
        for i in range(1000):
            pulled.append(i)
            yield tmp_path / f"gone {i}.jpg"

    first = next(list_scans(inputs()))
    assert first.missing and first.path.name == "gone 0.jpg" and len(pulled) == 1


def test_files_already_done_are_read_as_a_stream_and_kept_as_hashes(tmp_path: Path) -> None:
    from ecg_desktop.core.batch.scan import BatchItem

    results = ResultsCsv(tmp_path / "results.csv", ["a"], "v1")
    for name in ("a.jpg", "b.jpg"):
        results.append(BatchItem(tmp_path / name, None, f"{name}: broken"))
    with results.path.open("ab") as stream:  # a row cut short by a crash: that file is not done
        stream.write(f"{tmp_path / 'c.jpg'},".encode())
    done = results.done_files()
    assert len(done) == 2 and str(tmp_path / "a.jpg") in done and str(tmp_path / "b.jpg") in done
    assert str(tmp_path / "c.jpg") not in done and str(tmp_path / "a.jp") not in done


def test_an_unreadable_list_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EcgDeskError, match="Cannot read the list of scans .*nope.txt"):
        plan_batch(ListFile(tmp_path / "nope.txt"), tmp_path / "out")


def test_results_csv_is_synced_at_the_first_row_then_not_at_every_row(tmp_path: Path, monkeypatch) -> None:
    """Every row is written at once (another reader sees it); fsync, the slow part, waits for SYNC_SECONDS."""
    from ecg_desktop.core.batch import run as batch_module
    from ecg_desktop.core.batch.scan import BatchItem

    synced, real_fsync = [], os.fsync
    monkeypatch.setattr(batch_module.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    monkeypatch.setattr(batch_module, "SYNC_SECONDS", 3600.0)
    results = ResultsCsv(tmp_path / "results.csv", ["a"], "v1")
    for i in range(5):
        results.append(BatchItem(tmp_path / f"x{i}.jpg", None, "broken"))
        assert len(_rows(results.path)) == i + 1
    assert len(synced) == 1  # the first row
    results.sync()  # as run_batch does at its end
    assert len(synced) == 2
