"""Privacy: nothing touches the network, logs hold events but no names or paths, files go only where asked."""

from __future__ import annotations

import csv
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecg_desktop.core import logs
from ecg_desktop.core.batch.scan import output_stem
from ecg_desktop.core.logs import file_id, setup_logging
from tests.conftest import HUNG_AFTER_SECONDS

REPO = Path(__file__).resolve().parents[1]
PATIENT = "Jane Testpatient"
PATIENT_ID = "PID-471108"


def _scan(path: Path, seed: int = 0, kind: str = "normal") -> Path:
    from ecg_desktop.testing.synthetic import render_printout
    from tests.bad_inputs import HEIGHT, WIDTH
    from tests.conftest import write_image

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_image(path, render_printout(kind=kind, seed=seed, width=WIDTH, height=HEIGHT))


def _cart_pdf(path: Path) -> Path:
    from tests.bad_inputs import _ecg, _pdf

    path.write_bytes(_pdf([_ecg(20), _ecg(21, "st_elevation")]))
    return path


def _socket_fds() -> set[str]:
    fds = Path("/proc/self/fd")
    found = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to open a socket, connect or resolve a name raises (and is recorded)."""
    attempts: list[str] = []

    def refuse(name: str):
        def blocked(*args, **kwargs):
            attempts.append(name)
            raise OSError(f"network use is forbidden in ECG Desk ({name})")
        return blocked

    class BlockedSocket(socket.socket):  # a class, so modules that subclass socket.socket still import
        def __init__(self, *args, **kwargs) -> None:
            attempts.append("socket")
            raise OSError("network use is forbidden in ECG Desk (socket)")

    monkeypatch.setattr(socket, "socket", BlockedSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair", "create_server"):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def test_the_whole_pipeline_works_with_the_network_blocked(tmp_path: Path, no_network, capsys) -> None:
    from ecg_desktop.cli import main
    from ecg_desktop.core import EcgModel
    from ecg_desktop.core.batch.run import plan_batch, run_batch
    from ecg_desktop.core.reports.report_pdf import PatientInfo, ReportOptions, write_report

    before = _socket_fds() if sys.platform.startswith("linux") else set()
    folder, out = tmp_path / "scans", tmp_path / "out"
    scan = _scan(folder / "scan.png")
    _scan(folder / "sub" / "other.jpg", seed=1, kind="st_elevation")
    _cart_pdf(folder / "cart.pdf")

    model = EcgModel.load()  # a fresh load: onnxruntime and LightGBM start here
    result = model.classify_file(scan)
    items = [step.item for step in run_batch(model, plan_batch([folder], out), workers=2, pdf=True)]
    assert len(items) == 4 and all(i.error is None for i in items)
    assert (out / "summary.pdf").exists() and (out / f"{output_stem(folder / 'cart.pdf#page=2')}.pdf").exists()
    write_report(tmp_path / "report.pdf", image=model_image(scan), result=result, manifest=model.manifest,
                 source_name=scan.name, patient=PatientInfo("1", "A", ""), options=ReportOptions())
    assert main(["classify", str(folder), "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["report", str(folder / "cart.pdf#page=1"), "--out", str(tmp_path / "cart.pdf.report.pdf")]) == 0

    assert no_network == []
    if sys.platform.startswith("linux"):
        assert _socket_fds() <= before, "a socket was opened (below Python's socket module)"


def model_image(path: Path):
    from ecg_desktop.core.loading.image_io import load_image

    return load_image(path)


# -- logs ---------------------------------------------------------------------------------------------------


def test_log_folder_defaults_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECG_DESK_LOG_DIR", str(tmp_path / "here"))
    assert logs.default_log_dir() == tmp_path / "here"
    monkeypatch.delenv("ECG_DESK_LOG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    if sys.platform.startswith("linux"):
        assert logs.default_log_dir() == tmp_path / ".local" / "share" / "ECG Desk" / "logs"


def test_the_log_rotates_at_1_mb_keeping_3_files(tmp_path: Path) -> None:
    path = setup_logging(tmp_path)
    try:
        handler = next(h for h in logging.getLogger("ecg_desktop").handlers if isinstance(h, logs._AppHandler))
        assert handler.maxBytes == 1_000_000 and handler.backupCount == 3
        log = logging.getLogger("ecg_desktop.test")
        for _ in range(4_500):
            log.info("x" * 1000)
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["ecg-desk.log", "ecg-desk.log.1", "ecg-desk.log.2", "ecg-desk.log.3"]
        assert all(p.stat().st_size <= 1_001_100 for p in tmp_path.iterdir())
        assert path == tmp_path / "ecg-desk.log"
    finally:
        setup_logging(tmp_path / "after")  # release the files


def test_an_unwritable_log_folder_never_stops_the_app(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert setup_logging(tmp_path / "file" / "logs") is None
    logging.getLogger("ecg_desktop.test").warning("still fine")


def test_file_id_is_short_and_stable() -> None:
    assert file_id("/scans/Jane Testpatient.png") == file_id(Path("/scans/Jane Testpatient.png"))
    assert len(file_id("x")) == 12 and "Jane" not in file_id("/scans/Jane Testpatient.png")


# -- a whole session in a clean HOME: what is logged, what is written where -----------------------------------


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run report, batch (with PDFs, a broken file, a PDF input) and classify as a user would, in a fresh HOME."""
    home = tmp_path_factory.mktemp("home")
    scans = home / "Patients" / PATIENT
    scan = _scan(scans / f"{PATIENT}.png", seed=3, kind="st_elevation")
    (scans / f"{PATIENT} broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    _cart_pdf(scans / f"{PATIENT} cart.pdf")
    (home / "tmp").mkdir()
    (home / "work").mkdir()
    out, report = home / "Results", home / "Reports" / f"{PATIENT}.pdf"
    report.parent.mkdir()
    log_dir = home / "logs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ECG_DESK_LOG"))}
    env.update(HOME=str(home), ECG_DESK_LOG_DIR=str(log_dir), TMPDIR=str(home / "tmp"), PYTHONPATH=str(REPO))
    before = _listing(home)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ecg_desktop", *args], check=False, env=env, cwd=home / "work",
                              capture_output=True, text=True, timeout=HUNG_AFTER_SECONDS)

    runs = [
        run("report", str(scan), "--out", str(report), "--patient-name", PATIENT, "--patient-id", PATIENT_ID,
            "--date-of-birth", "1970-01-01", "--facility", "Test Clinic"),
        run("batch", str(scans), "--out", str(out), "--pdf", "--facility", "Test Clinic"),
        run("classify", str(scans), "--json"),
        run("report", str(scans / "missing.png"), "--out", str(home / "Reports" / "none.pdf"),
            "--patient-name", PATIENT),
    ]
    return {"home": home, "before": before, "runs": runs, "out": out, "report": report, "log_dir": log_dir,
            "scans": scans}


def test_the_session_worked(session) -> None:
    report, batch, classify, failed_report = session["runs"]
    assert report.returncode == 0, report.stderr
    assert batch.returncode == 1 and "3 classified, 0 not assessable by this model, 1 failed" in batch.stdout  # the broken file
    assert classify.returncode == 1 and len(classify.stdout.splitlines()) == 4
    assert failed_report.returncode == 1 and "no such file" in failed_report.stderr
    with (session["out"] / "results.csv").open(newline="", encoding="utf-8") as stream:
        assert len(list(csv.DictReader(stream))) == 4


def test_the_log_has_events_but_no_patient_data_nor_paths(session) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in session["log_dir"].iterdir())
    tally = "3 classified, 0 not assessable by this model, 1 failed"  # the count the command line printed
    for event in ("model loaded: version", "batch started: 4 to record", f"batch finished: {tally}",
                  "report written for scan", "not classified: ImageLoadError", "classify finished", "command failed"):
        assert event in text, f"{event!r} is not in the log"
    for secret in ("Jane", "Testpatient", PATIENT_ID, "1970-01-01", "Test Clinic", str(session["home"]), "Patients"):
        assert secret not in text, f"{secret!r} is in the log"
    assert file_id(session["scans"] / f"{PATIENT}.png") in text  # the stand-in for the path


def test_files_are_written_only_where_the_user_said(session) -> None:
    home = session["home"]
    new = _listing(home) - session["before"]
    allowed = ("Results", "Reports", "logs")
    assert all(path.split(os.sep)[0] in allowed for path in new), sorted(
        p for p in new if p.split(os.sep)[0] not in allowed)
    assert sorted(p.name for p in session["report"].parent.iterdir()) == [f"{PATIENT}.pdf"]  # not the failed one
    assert not list((home / "tmp").iterdir()) and not list((home / "work").iterdir())
    scans = session["scans"]
    assert {p.name for p in session["out"].iterdir()} == {"results.csv", "summary.pdf", *(
        f"{output_stem(scans / name)}.pdf" for name in (f"{PATIENT}.png", f"{PATIENT} cart.pdf#page=1",
                                                        f"{PATIENT} cart.pdf#page=2"))}


def test_onnxruntime_telemetry_is_switched_off(tmp_path: Path) -> None:
    """onnxruntime wheels record usage telemetry under ~/.cache/Microsoft and upload it unless told not to."""
    code = ("import os, ecg_desktop\n"
            "from ecg_desktop.core import EcgModel\n"
            "EcgModel.load()\n"
            "print(os.environ['ORT_DISABLE_TELEMETRY'])\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], check=False, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
    assert not (tmp_path / ".cache").exists(), sorted(str(p) for p in tmp_path.rglob("*"))
