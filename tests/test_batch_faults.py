"""Issue 24: the batch and its outputs under faults: one writer per folder, nothing written over that the run did
not create, resume from what is really done (results.csv rows and the outputs they need), and the small faults
(stale .part files, partial signal CSVs, file modes, empty folders, --workers, Ctrl-C during start-up)."""

from __future__ import annotations

import codecs
import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecg_desktop.cli import main
from ecg_desktop.core.batch.run import ResultsCsv, plan_batch, run_batch, summary_rows
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.outputs import LOCK_NAME, FolderBusyError, OverwriteRefused, one_writer
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import HEIGHT, WIDTH, blank_page
from tests.conftest import HUNG_AFTER_SECONDS, write_image

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ecg_desktop"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _scans(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_image(folder / f"scan {i:02d}.png", render_printout(kind="normal", seed=i, width=WIDTH, height=HEIGHT))
            for i in range(start, start + count)]


def _broken(folder: Path, count: int) -> list[Path]:
    """``count`` files that fail at once (a row each, no model time): many rows cheaply."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"{folder.name}-{i:04d}.jpg" for i in range(count)]
    for path in files:
        path.write_bytes(b"not an image")
    return files


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


# -- 1. one writer per output folder ------------------------------------------------------------------------


def test_three_batches_into_one_folder_never_lose_or_mix_rows(tmp_path: Path) -> None:
    """Three processes start at once into one --out (1,500 files each): one writes, the others are refused in
    one line; run again one by one, every file has exactly one row, and results.csv holds no NUL byte."""
    out, count = tmp_path / "out", 1500
    inputs = [_broken(tmp_path / f"in{i}", count) for i in range(3)]
    commands = [[*CLI, "batch", str(tmp_path / f"in{i}"), "--out", str(out)] for i in range(3)]
    procs = [subprocess.Popen(c, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    ended = [p.communicate(timeout=HUNG_AFTER_SECONDS) for p in procs]
    refused = [i for i, (_, err) in enumerate(ended) if "Another ECG Desk run is writing into" in err]
    finished = [i for i, (stdout, _) in enumerate(ended) if "Finished:" in stdout]
    assert sorted(refused + finished) == [0, 1, 2], ended  # each one either ran or was refused, never both
    print(f"3 concurrent batches: {len(finished)} ran, {len(refused)} refused")
    for i in refused:
        assert procs[i].returncode == 1 and "Traceback" not in ended[i][1] and len(ended[i][1].splitlines()) == 1
    data = (out / "results.csv").read_bytes()
    assert b"\x00" not in data
    keys = [row["file"] for row in _rows(out / "results.csv")]
    assert sorted(keys) == sorted(str(path) for i in finished for path in inputs[i])  # none lost, none twice

    for i in refused:  # the refused batches, run again: each now alone
        again = subprocess.run(commands[i], env=ENV, capture_output=True, text=True, timeout=HUNG_AFTER_SECONDS,
                               check=False)
        assert again.returncode == 1 and "Finished:" in again.stdout  # 1: its files are unreadable
    keys = [row["file"] for row in _rows(out / "results.csv")]
    assert len(keys) == 3 * count and sorted(keys) == sorted(str(path) for files in inputs for path in files)
    assert b"\x00" not in (out / "results.csv").read_bytes()
    assert not (out / LOCK_NAME).exists()  # removed with the lock


def test_a_held_folder_refuses_the_core_batch_and_digitize(model, tmp_path: Path) -> None:
    """The window's batch goes through run_batch: it gets the same refusal; the lock goes with its holder."""
    from ecg_desktop.core.signals.export import digitize_files

    folder, out = tmp_path / "scans", tmp_path / "out"
    _broken(folder, 2)
    out.mkdir()
    with one_writer(out):
        with pytest.raises(FolderBusyError, match="Another ECG Desk run is writing into"):
            list(run_batch(model, plan_batch([folder], out), workers=1))
        with pytest.raises(FolderBusyError):
            list(digitize_files([folder / "scans-0000.jpg"], out))
        assert not (out / "results.csv").exists()
    assert len(list(run_batch(model, plan_batch([folder], out), workers=1))) == 2  # released


def test_a_killed_batch_leaves_no_lock(tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _broken(folder, 3000)
    proc = subprocess.Popen([*CLI, "batch", str(folder), "--out", str(out)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from tests.conftest import wait_for_rows

    wait_for_rows(proc, out / "results.csv", 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with one_writer(out):  # the operating system released it with the process
        pass


def test_a_folder_without_locks_is_written_unguarded_not_refused(tmp_path: Path, monkeypatch, caplog) -> None:
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with one_writer(tmp_path):
        pass
    assert "output folder not locked" in caplog.text


# -- 3. never write over anything the run did not create ------------------------------------------------------


def test_report_never_writes_over_its_scan_or_a_file_of_another_kind(tmp_path: Path, capsys) -> None:
    scan = _scans(tmp_path, 1)[0]
    before = scan.read_bytes()
    assert main(["report", str(scan), "--out", str(scan)]) == 1
    err = capsys.readouterr().err
    assert "is the scan being read" in err and len(err.splitlines()) == 1
    assert scan.read_bytes() == before

    other = tmp_path / "notes.pdf"
    other.write_bytes(b"%PDF-1.4 a letter, not ours")
    assert main(["report", str(scan), "--out", str(other)]) == 1
    assert "was not written by ECG Desk" in capsys.readouterr().err
    assert other.read_bytes() == b"%PDF-1.4 a letter, not ours"

    ours = tmp_path / "report.pdf"
    assert main(["report", str(scan), "--out", str(ours)]) == 0
    assert main(["report", str(scan), "--out", str(ours)]) == 0  # a report of ours is replaced


def test_batch_into_its_input_folder_keeps_a_cart_summary_pdf(tmp_path: Path, capsys) -> None:
    from tests.bad_inputs import _ecg, _pdf

    folder = tmp_path / "scans"
    _scans(folder, 1)
    cart = folder / "summary.pdf"
    cart.write_bytes(_pdf([_ecg(3)]))
    before = cart.read_bytes()
    assert main(["batch", str(folder), "--out", str(folder), "--pdf"]) == 1
    err = capsys.readouterr().err
    assert "summary.pdf: already exists and was not written by ECG Desk" in err and len(err.splitlines()) == 1
    assert cart.read_bytes() == before and not (folder / "results.csv").exists()


def test_a_report_name_held_by_another_pdf_is_not_written_over(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 2)
    out.mkdir()
    taken = out / f"{output_stem(scans[0])}.pdf"
    taken.write_bytes(b"%PDF-1.4 someone else's document")
    items = {step.item.path: step.item for step in run_batch(model, plan_batch([folder], out), workers=1, pdf=True)}
    assert items[scans[0]].result is not None and "PDF report not written" in items[scans[0]].error
    assert "was not written by ECG Desk" in items[scans[0]].error and items[scans[1]].error is None
    assert taken.read_bytes() == b"%PDF-1.4 someone else's document"


@pytest.mark.parametrize("content", [
    b"name,age\rjane,40\rjohn,50\r",  # CR line endings
    b"name,age",  # one line, no final newline
    codecs.BOM_UTF8 + b"name,age\r\njane,40\r\n",  # a spreadsheet's BOM, other columns
    b"file,label\njane.jpg,mi\n",  # an earlier version's columns
], ids=["cr", "one-line", "bom", "earlier"])
def test_a_results_csv_that_is_not_ours_is_never_written_over(tmp_path: Path, capsys, content: bytes) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _broken(folder, 2)
    out.mkdir()
    (out / "results.csv").write_bytes(content)
    assert main(["batch", str(folder), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "it is never written over or appended to" in err and len(err.splitlines()) == 1
    assert (out / "results.csv").read_bytes() == content


def test_our_results_csv_saved_with_a_bom_resumes(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _broken(folder, 3)
    list(run_batch(model, plan_batch([folder], out), workers=1))
    results = out / "results.csv"
    results.write_bytes(codecs.BOM_UTF8 + results.read_bytes())  # as a spreadsheet program saves it
    _broken(folder, 4)  # one more file
    plan = plan_batch([folder], out)
    assert (plan.total, plan.skipped) == (1, 3)
    assert len(list(run_batch(model, plan, workers=1))) == 1
    assert len(_rows(results)) == 4


def test_a_results_csv_of_the_version_before_reason_messages_is_appended_in_its_columns(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    files = _broken(folder, 2)
    out.mkdir()
    earlier = ResultsCsv(out / "results.csv", model.manifest.class_ids, model.version).columns[:-1]
    (out / "results.csv").write_text(",".join(earlier) + "\r\n" + f"{files[0]}" + "," * (len(earlier) - 1) + "\r\n")
    assert len(list(run_batch(model, plan_batch([folder], out), workers=1))) == 1
    lines = list(csv.reader((out / "results.csv").read_text().splitlines()))
    assert [len(line) for line in lines] == [len(earlier)] * 3


# -- 4. resume from what is really done -----------------------------------------------------------------------


def test_a_stray_line_with_an_open_quote_does_not_hide_the_rows_after_it(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _broken(folder, 98)
    list(run_batch(model, plan_batch([folder], out), workers=2))
    lines = (out / "results.csv").read_bytes().splitlines(keepends=True)
    lines.insert(10, b'"oops, a note by the nurse\r\n')
    (out / "results.csv").write_bytes(b"".join(lines))
    plan = plan_batch([folder], out)
    assert (plan.total, plan.skipped) == (0, 98)
    list(run_batch(model, plan, workers=2))
    assert len((out / "results.csv").read_bytes().splitlines()) == 1 + 98 + 1  # no row appended again


def test_a_scan_whose_report_is_missing_is_not_done_and_the_summary_follows(model, tmp_path: Path) -> None:
    """After a full disk (a report not written) or a kill after the last row (no summary), the next run writes
    what is missing: the scan is done again and the summary is written even when nothing else is left."""
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 2)
    (folder / "broken.jpg").write_bytes(b"not an image")
    list(run_batch(model, plan_batch([folder], out), workers=2, pdf=True))
    (out / f"{output_stem(scans[0])}.pdf").unlink()
    (out / "summary.pdf").unlink()
    plan = plan_batch([folder], out, pdf=True)
    assert (plan.total, plan.skipped) == (1, 2)  # the broken file needs no report
    assert [step.item.path for step in run_batch(model, plan, workers=1, pdf=True)] == [scans[0]]
    assert (out / f"{output_stem(scans[0])}.pdf").exists() and (out / "summary.pdf").exists()

    (out / "summary.pdf").unlink()  # killed after the last row, before the summary
    assert list(run_batch(model, plan_batch([folder], out, pdf=True), workers=1, pdf=True)) == []
    assert (out / "summary.pdf").exists()
    # A plan made without --pdf (the window's) is made again by run_batch when it writes PDFs.
    (out / f"{output_stem(scans[1])}.pdf").unlink()
    steps = list(run_batch(model, plan_batch([folder], out), workers=1, pdf=True))
    assert [step.item.path for step in steps] == [scans[1]] and steps[-1].progress.total == 1


def test_a_scan_without_its_measurement_line_is_digitized_again(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 2)
    list(run_batch(model, plan_batch([folder], out), workers=1, digitize=True))
    lines = (out / "measurements.jsonl").read_text().splitlines()
    (out / "measurements.jsonl").write_text(lines[0] + "\n")  # the second line lost
    plan = plan_batch([folder], out, digitize=True)
    assert (plan.total, plan.skipped) == (1, 1)
    assert [step.item.path for step in run_batch(model, plan, workers=1, digitize=True)] == [scans[1]]
    assert len((out / "measurements.jsonl").read_text().splitlines()) == 2


def test_digitize_appends_to_measurements_jsonl_and_keeps_earlier_files(tmp_path: Path, capsys) -> None:
    scan, out = _scans(tmp_path / "scans", 1)[0], tmp_path / "out"
    out.mkdir()
    earlier = [json.dumps({"file": f"old{i}.jpg", "error": None}) for i in range(10)]
    (out / "measurements.jsonl").write_text("\n".join(earlier) + "\n")
    (out / "scan_00.csv").write_text("a file of the user's\n")
    assert main(["digitize", str(scan), "--out", str(out), "--format", "csv"]) == 0
    lines = (out / "measurements.jsonl").read_text().splitlines()
    assert lines[:10] == earlier and len(lines) == 11
    assert (out / "scan_00.csv").read_text() == "a file of the user's\n"  # another name was chosen
    assert json.loads(lines[10])["outputs"] == [str(out / "scan_00-2.csv")]
    (out / "measurements.jsonl").write_text("my notes\n")
    assert main(["digitize", str(scan), "--out", str(out), "--format", "csv"]) == 1
    assert "was not written by ECG Desk" in capsys.readouterr().err
    assert (out / "measurements.jsonl").read_text() == "my notes\n"


# -- 7 (issue 26, item 9). a resumed row keeps its own reason ---------------------------------------------------


def test_a_resumed_row_keeps_its_specific_reason_in_the_summary(model, tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    folder.mkdir()
    blank = write_image(folder / "blank.png", blank_page())
    live = model.classify_file(blank).reasons
    assert live and live[0].code == "not_an_ecg"
    list(run_batch(model, plan_batch([folder], out), workers=1))  # an earlier run, or one cancelled
    results = ResultsCsv(out / "results.csv", model.manifest.class_ids, model.version)
    plan = plan_batch([folder], out)
    [(_, recorded, _)] = summary_rows(results, model.manifest, [], plan.shown_name)
    assert recorded.reasons == live  # the sentence the window showed, numbers included


# -- 11. smaller faults ------------------------------------------------------------------------------------------


def test_stale_part_files_are_removed_and_reports_get_the_mode_of_results_csv(model, tmp_path: Path) -> None:
    from ecg_desktop.core import outputs

    folder, out = tmp_path / "scans", tmp_path / "out"
    _scans(folder, 1)
    out.mkdir()
    (out / ".scan 00-1a2b3c4d.k2j4h5g6.part").touch()  # left by a kill while a report was written
    (out / ".summary.x_83ekmd.part").write_bytes(b"%PDF-1.4 half a summary")
    (out / ".my.notes123.part").write_text("a user's file that only looks like ours")
    previous = os.umask(0o027)
    outputs._umask.cache_clear()
    try:
        list(run_batch(model, plan_batch([folder], out), workers=1, pdf=True))
    finally:
        os.umask(previous)
        outputs._umask.cache_clear()
    assert [part.name for part in out.glob(".*.part")] == [".my.notes123.part"]
    (out / ".my.notes123.part").unlink()
    modes = {path.name: path.stat().st_mode & 0o777 for path in out.iterdir()}
    assert set(modes.values()) == {0o640}, modes  # results.csv, the report and the summary alike


def test_a_signal_csv_cut_short_by_a_full_disk_is_removed(model, tmp_path: Path, monkeypatch) -> None:
    from ecg_desktop.core.signals import export
    from ecg_desktop.core.signals.signal_reading import read_signals

    scan = _scans(tmp_path, 1)[0]
    reading = read_signals(__import__("cv2").imread(str(scan)))
    real_writer = csv.writer

    class FullDisk:
        def __init__(self, stream) -> None:
            self.writer, self.rows = real_writer(stream), 0

        def writerow(self, row) -> None:
            self.rows += 1
            if self.rows > 100:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.writer.writerow(row)

    monkeypatch.setattr(export.csv, "writer", FullDisk)
    target = tmp_path / "signals.csv"
    with pytest.raises(OSError, match="No space left"):
        export.write_csv(target, reading.digitization)
    assert not target.exists()


def test_an_empty_folder_says_so(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a scan")
    assert main(["batch", str(empty), "--out", str(tmp_path / "out")]) == 1
    assert "No scans found in" in capsys.readouterr().err
    assert main(["classify", str(empty)]) == 1
    assert "No scans found in" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "-1", "65", "1000", "two"])
def test_workers_out_of_range_is_a_usage_error(tmp_path: Path, capsys, workers: str) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["batch", str(tmp_path), "--out", str(tmp_path / "out"), "--workers", workers])
    assert ended.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_the_core_accepts_64_workers_and_refuses_0(model, tmp_path: Path) -> None:
    from ecg_desktop.cli import build_parser

    assert build_parser().parse_args(["batch", "x", "--out", "y", "--workers", "64"]).workers == 64
    with pytest.raises(EcgDeskError, match="from 1 to 64"):
        next(run_batch(model, plan_batch([tmp_path], tmp_path / "out"), workers=0))


def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path: Path) -> None:
    """Ctrl-C at several moments of start-up (imports, loading the model, planning): one line, never a traceback."""
    _broken(tmp_path / "scans", 3000)  # long enough that every Ctrl-C below comes before the end
    stopped = 0
    started = time.monotonic()  # how long Python takes to start and import the command line, on this machine now
    subprocess.run([sys.executable, "-c", "import ecg_desktop.cli"], env=ENV, check=True, timeout=HUNG_AFTER_SECONDS)
    ready = 1.5 * (time.monotonic() - started)  # before that, Ctrl-C stops Python's own start-up, not ours
    for delay in (ready + extra for extra in (0.0, 0.15, 0.3, 0.5, 0.8, 1.2)):
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # see conftest.interrupt_batch
        try:
            proc = subprocess.Popen([*CLI, "batch", str(tmp_path / "scans"), "--out", str(tmp_path / f"out{delay}")],
                                    env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        finally:
            signal.signal(signal.SIGINT, previous)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=HUNG_AFTER_SECONDS)
        assert "Traceback" not in stderr, (delay, stderr)
        # A shell sees 130 either way: Python exits by SIGINT itself when the Ctrl-C came during an import that
        # runs code through PyRun (pybind11 modules), even though main() caught it and said so.
        assert proc.returncode in (130, -signal.SIGINT), (delay, proc.returncode, stderr)
        said = "ecg-desktop: stopped (Ctrl-C)." in stderr or "Cancelled after" in stdout
        assert said or (not stderr and proc.returncode == -signal.SIGINT), (delay, stderr)  # or before Python ran
        stopped += 1
    assert stopped == 6  # most were stopped in start-up, and said so


def test_overwrite_refused_is_a_one_line_ecg_desk_error(tmp_path: Path) -> None:
    from ecg_desktop.core.outputs import refuse_overwrite, starts_with

    target = tmp_path / "x.csv"
    target.write_text("time_s,I,II,III,aVR\n")
    refuse_overwrite(target, ours=starts_with(b"time_s,"))  # ours: may be replaced
    target.write_text("patient list\n")
    with pytest.raises(OverwriteRefused) as refused:
        refuse_overwrite(target, ours=starts_with(b"time_s,"))
    assert isinstance(refused.value, EcgDeskError) and "\n" not in str(refused.value)
