"""Shared fixtures: real dataset scans (from ../shared/data) and scans rendered on demand."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO.parent / "shared" / "data" / "ecg-images"
# How long a child process may run before a test calls it hung: a guard against waiting forever, not a speed
# limit (speed is measured in benchmarks/), so it is far above any run on a slow, loaded machine.
HUNG_AFTER_SECONDS = 1800


def interrupt_batch(command: list[str], results: Path, rows: int = 2) -> subprocess.CompletedProcess:
    """Run the batch ``command``, press Ctrl-C once it has written ``rows`` rows to ``results``, and return how it
    ended.

    It gets Ctrl-C as from a terminal. Run from a background job (`make test &`), pytest inherits SIGINT ignored,
    and so would its children; a signal this process handles is reset to the default in a child, an ignored one
    stays ignored. (Resetting it in the child, with preexec_fn, is unsafe while this process runs threads, e.g. a
    Dask cluster.)
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    wait_for_rows(proc, results, rows)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HUNG_AFTER_SECONDS)
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def wait_for_rows(proc: subprocess.Popen, results: Path, rows: int) -> None:
    """Wait until the batch ``proc`` has written ``rows`` rows (plus the header) to ``results``; fail if it ends
    first or writes none before HUNG_AFTER_SECONDS."""
    hung_at = time.monotonic() + HUNG_AFTER_SECONDS
    while not (results.exists() and results.read_bytes().count(b"\n") >= rows + 1):
        assert proc.poll() is None, f"the batch ended (exit code {proc.returncode}) before writing {rows} rows"
        assert time.monotonic() < hung_at, "the batch wrote no rows: it is hung"
        time.sleep(0.01)


@pytest.fixture(scope="session", autouse=True)
def _logs_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI and GUI log to $ECG_DESK_LOG_DIR: never into the user's data folder from a test."""
    os.environ["ECG_DESK_LOG_DIR"] = str(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real dataset; CI has it beside the clone."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"real ECG scans not found at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def real_scan(data_dir: Path) -> Path:
    return data_dir / "mi" / "MI(1).jpg"


@pytest.fixture(scope="session")
def model():
    from ecg_desktop.core import EcgModel

    return EcgModel.load()


@pytest.fixture
def synthetic_scan(tmp_path: Path) -> Path:
    """A rendered 12-lead printout saved as PNG."""
    from ecg_desktop.testing.synthetic import render_printout

    path = tmp_path / "synthetic.png"
    cv2.imwrite(str(path), render_printout(kind="normal", seed=3))
    return path


def write_image(path: Path, image: np.ndarray, *params: int) -> Path:
    """Encode ``image`` to ``path`` with OpenCV (format from the suffix)."""
    ok, data = cv2.imencode(path.suffix, image, list(params))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def copy_models(target: Path, *, damage: str | None = None) -> Path:
    """A copy of the bundled models in ``target``; ``damage`` "altered" flips a byte of the CNN, "missing" deletes it.

    Returns the CNN file's path (the one damaged, if any).
    """
    from ecg_desktop.core.resources import models_dir

    shutil.copytree(models_dir(), target, ignore=shutil.ignore_patterns("*.png", "*.md", "*.csv"))
    cnn = target / "cnn.onnx"
    if damage == "altered":
        data = bytearray(cnn.read_bytes())
        data[len(data) // 2] ^= 0xFF
        cnn.write_bytes(bytes(data))
    elif damage == "missing":
        cnn.unlink()
    return cnn


def write_batch_with_failures(folder: Path, out_dir: Path) -> tuple[Path, Path]:
    """Two rendered scans and an unreadable file in ``folder``, and ``out_dir`` made so that the first scan's
    PDF report cannot be written there (a folder holds its name). Returns (that scan, the unreadable file)."""
    from ecg_desktop.core.batch.scan import output_stem
    from ecg_desktop.testing.synthetic import render_printout

    folder.mkdir(parents=True)
    scans = [write_image(folder / f"scan {i}.png", render_printout(kind="normal", seed=i, width=1106, height=786))
             for i in range(2)]
    broken = folder / "broken.jpg"
    broken.write_bytes(b"not an image")
    (out_dir / f"{output_stem(scans[0])}.pdf").mkdir(parents=True)
    return scans[0], broken
