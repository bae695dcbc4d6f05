"""A batch on a Dask cluster (an in-process LocalCluster): the same rows as the local batch, resumable, bounded."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from ecg_desktop.cli import main
from ecg_desktop.core.batch.run import plan_batch, run_batch
from ecg_desktop.core.errors import ModelError
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import blank_page
from tests.conftest import copy_models, interrupt_batch, write_image

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="dask[distributed] is not installed (pip install -e '.[dev]')")


def _local_cluster():
    from distributed import LocalCluster

    # Threads in this process (processes=False): no process spawning, and the same model threads as locally;
    # on TCP, so that a batch command started as another process reaches it too.
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0")


@pytest.fixture(scope="module")
def scheduler():
    with _local_cluster() as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six rendered printouts (one in a subfolder), a blank page (not assessable) and an unreadable file."""
    folder = tmp_path_factory.mktemp("scans")
    (folder / "sub").mkdir()
    for i in range(6):
        target = folder / ("sub" if i == 5 else "") / f"scan {i}.png"
        cv2.imwrite(str(target), render_printout(kind="normal", seed=i, width=1106, height=786))
    write_image(folder / "blank.png", blank_page())
    (folder / "broken.jpg").write_bytes(b"not an image")
    return folder


@pytest.fixture(scope="module")
def local_rows(model, scans: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("local")
    list(run_batch(model, plan_batch([scans], out), workers=2))
    return _rows(out / "results.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _by_file(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    by_file = {row["file"]: row for row in rows}
    assert len(by_file) == len(rows), "a file recorded twice"
    return by_file


@needs_dask
def test_a_cluster_batch_writes_the_same_rows_as_the_local_batch(
    model, scans: Path, local_rows: list[dict[str, str]], scheduler: str, tmp_path: Path
) -> None:
    steps = list(run_batch(model, plan_batch([scans], tmp_path), scheduler=scheduler))
    assert steps[-1].progress.tally() == "6 classified, 1 not assessable by this model, 1 failed"
    rows = _rows(tmp_path / "results.csv")
    assert len(rows) == len(local_rows) == 8
    assert _by_file(rows) == _by_file(local_rows)  # row for row, in the order the files finished


@needs_dask
def test_a_stopped_cluster_batch_resumes_with_every_file_once(
    model, scans: Path, local_rows: list[dict[str, str]], scheduler: str, tmp_path: Path
) -> None:
    stream = run_batch(model, plan_batch([scans], tmp_path), scheduler=scheduler)
    for _ in range(3):
        next(stream)
    stream.close()  # as if the run were killed after three rows: what was in flight is cancelled, not recorded
    assert len(_rows(tmp_path / "results.csv")) == 3

    resumed = plan_batch([scans], tmp_path)
    assert (resumed.skipped, resumed.total) == (3, 5)
    assert len(list(run_batch(model, resumed, scheduler=scheduler))) == 5
    assert _by_file(_rows(tmp_path / "results.csv")) == _by_file(local_rows)


@needs_dask
def test_ctrl_c_stops_a_cluster_batch_with_a_valid_results_csv_that_resumes(
    scans: Path, local_rows: list[dict[str, str]], scheduler: str, tmp_path: Path
) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    folder.mkdir()
    files = 40  # links to the six printouts: more than the cluster finishes while Ctrl-C is on its way
    for i in range(files):
        os.link(scans / f"scan {i % 5}.png", folder / f"scan {i:02d}.png")
    command = [sys.executable, "-m", "ecg_desktop", "batch", str(folder), "--out", str(out), "--scheduler", scheduler]
    results = out / "results.csv"
    stopped = interrupt_batch(command, results)
    stdout, stderr = stopped.stdout, stopped.stderr
    assert stopped.returncode == 130, f"{stdout}\n{stderr}"
    assert stdout.startswith("Cancelled after ") and "Traceback" not in stderr
    done = _rows(results)  # a valid CSV: every row whole
    assert 2 <= len(done) < files

    assert main(["batch", str(folder), "--out", str(out), "--scheduler", scheduler]) == 0
    rows = _by_file(_rows(results))
    assert sorted(Path(name).name for name in rows) == [f"scan {i:02d}.png" for i in range(files)]
    expected = _by_file(local_rows)
    for name, row in rows.items():
        same_scan = expected[str(scans / f"scan {int(Path(name).stem.split()[1]) % 5}.png")]
        assert {k: v for k, v in row.items() if k != "file"} == {k: v for k, v in same_scan.items() if k != "file"}


@needs_dask
def test_files_in_flight_on_the_cluster_are_bounded(model, scans: Path, scheduler: str) -> None:
    from ecg_desktop.core.batch.cluster import IN_FLIGHT_PER_THREAD, classify_on_cluster

    pulled = []

    def files():
        for i in range(12):
            pulled.append(i)
            yield scans / "scan 0.png"

    stream = classify_on_cluster(scheduler, model, files())
    first = next(stream)
    assert first.error is None and first.result.assessable
    assert len(pulled) <= IN_FLIGHT_PER_THREAD * 2  # two worker threads: the rest of the list is not read yet
    assert len(list(stream)) == 11 and len(pulled) == 12


@needs_dask
def test_the_command_line_runs_a_list_of_files_on_the_cluster(
    scans: Path, local_rows: list[dict[str, str]], scheduler: str, tmp_path: Path, capsys
) -> None:
    listing = tmp_path / "scans.txt"
    names = ["scan 0.png", "sub/scan 5.png", "broken.jpg", "scan 0.png", "gone.png"]
    listing.write_text("\n".join(str(scans / name) for name in names) + "\n\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", "--from-list", str(listing), "--out", str(out), "--scheduler", scheduler]) == 1
    assert "2 classified, 0 not assessable by this model, 2 failed" in capsys.readouterr().out
    rows = _by_file(_rows(out / "results.csv"))
    expected = _by_file(local_rows)
    assert set(rows) == {str(scans / name) for name in names}  # the duplicate line is recorded once
    for name in ("scan 0.png", "sub/scan 5.png", "broken.jpg"):
        assert rows[str(scans / name)] == expected[str(scans / name)]
    assert "no such file" in rows[str(scans / "gone.png")]["error"]


@needs_dask
def test_workers_with_altered_models_stop_the_batch(model, scans: Path, tmp_path: Path, monkeypatch) -> None:
    copy_models(tmp_path / "models", damage="altered")
    monkeypatch.setenv("ECG_DESK_MODELS", str(tmp_path / "models"))  # what the workers (in this process) load
    with _local_cluster() as cluster, pytest.raises(ModelError, match="Dask worker .* altered"):
        list(run_batch(model, plan_batch([scans], tmp_path / "out"), scheduler=cluster.scheduler_address))
    assert not (tmp_path / "out" / "results.csv").exists()


def _page_faults() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@needs_dask
def test_worker_processes_reuse_freed_memory(model, scans: Path, tmp_path: Path) -> None:
    """A Dask nanny starts its workers with MALLOC_TRIM_THRESHOLD_=65536: without core.batch.cluster.reuse_freed_memory
    every large array was mapped afresh, about 22,000 page faults a scan (twice the scan's CPU time); with it, ~14."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        list(run_batch(model, plan_batch([scans], tmp_path / "warm-up"), scheduler=cluster.scheduler_address))
        before = client.run(_page_faults)
        list(run_batch(model, plan_batch([scans], tmp_path / "out"), scheduler=cluster.scheduler_address))
        after = client.run(_page_faults)
    (worker,) = after
    assert (after[worker] - before[worker]) / 8 < 1000  # page faults a file


def test_the_app_never_imports_dask_unless_a_scheduler_is_given() -> None:
    code = ("import sys, ecg_desktop.cli, ecg_desktop.core.batch.run, ecg_desktop.gui.main_window, "
            "ecg_desktop.gui.batch_dialog; print(sorted({'dask', 'distributed'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "[]"


def test_pdf_reports_are_refused_on_a_cluster(scans: Path, tmp_path: Path, capsys) -> None:
    assert main(["batch", str(scans), "--out", str(tmp_path), "--pdf", "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert "PDF reports are not written on a Dask cluster" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_scheduler_without_dask_installed_says_what_to_install(scans: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.delitem(sys.modules, "ecg_desktop.core.batch.cluster", raising=False)
    assert main(["batch", str(scans), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert 'pip install "ecg-desktop[cluster]"' in capsys.readouterr().err
