"""Issue 24: inputs a clinic PC or a shared archive meets: file names that are not UTF-8 or hold a newline,
pipes and devices named like scans, files whose size lies, multi-page TIFFs, folders that cannot be read, and
list files saved by other programs."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ecg_desktop.cli import main
from ecg_desktop.core.batch.listing import ListFile, list_scans
from ecg_desktop.core.batch.run import find_scans, plan_batch, run_batch
from ecg_desktop.core.errors import EcgDeskError, ImageLoadError
from ecg_desktop.core.loading.file_bytes import read_scan_bytes
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.loading.page_choice import default_page
from ecg_desktop.core.names import name_text
from ecg_desktop.testing.synthetic import render_printout
from tests.bad_inputs import HEIGHT, WIDTH
from tests.conftest import write_image

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ecg_desktop"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
NOT_UTF8 = os.fsdecode(b"bad\xffname.png")


def _scan(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_image(path, render_printout(kind="normal", seed=seed, width=WIDTH, height=HEIGHT))


# -- 2. every file name the OS can hold ------------------------------------------------------------------------


def test_name_text_escapes_only_what_utf8_text_cannot_carry() -> None:
    assert name_text("scan é 1.jpg") == "scan é 1.jpg"
    assert name_text(NOT_UTF8) == "bad\\xffname.png"
    assert name_text("two\nlines.jpg") == "two\\x0alines.jpg"


def test_names_that_are_not_utf8_or_hold_a_newline_keep_their_rows_and_resume(model, tmp_path: Path, capsys) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _scan(folder / NOT_UTF8, 1)
    _scan(folder / "two\nlines.png", 2)
    _scan(folder / "plain.png", 3)
    assert main(["batch", str(folder), "--out", str(out), "--pdf"]) == 0
    data = (out / "results.csv").read_bytes()
    rows = list(csv.DictReader(data.decode("utf-8").splitlines()))  # strict UTF-8, one line a row
    assert sorted(Path(r["file"]).name for r in rows) == ["bad\\xffname.png", "plain.png", "two\\x0alines.png"]
    assert all(r["label"] and not r["error"] for r in rows)
    assert len(list(out.glob("*.pdf"))) == 4  # three reports and the summary
    plan = plan_batch([folder], out, pdf=True)
    assert (plan.total, plan.skipped) == (0, 3)  # none classified again on resume
    capsys.readouterr()

    assert main(["classify", "--json", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    files = [json.loads(line)["file"] for line in lines]
    assert sorted(Path(f).name for f in files) == ["bad\\xffname.png", "plain.png", "two\\x0alines.png"]
    "\n".join(lines).encode("utf-8")  # valid UTF-8 (a lone surrogate would raise)


# -- 5. only regular files, never more than the cap --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_and_a_link_to_dev_zero_do_not_hang_classify_or_batch(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    _scan(folder / "scan.png")
    os.mkfifo(folder / "fifo.jpg")
    os.symlink("/dev/zero", folder / "zero.jpg")
    run = subprocess.run([*CLI, "classify", str(folder / "fifo.jpg"), str(folder / "zero.jpg")], env=ENV,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1
    assert "fifo.jpg: is a pipe (FIFO), not an image file" in run.stdout
    assert "zero.jpg: is a device, not an image file" in run.stdout
    run = subprocess.run([*CLI, "batch", str(folder), "--out", str(tmp_path / "out")], env=ENV,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1 and "1 classified, 0 not assessable by this model, 2 failed" in run.stdout


def test_the_byte_cap_holds_when_the_size_lies(tmp_path: Path) -> None:
    status = Path("/proc/self/maps")
    if not status.exists():
        pytest.skip("no /proc")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 64  # its size reads 0
    with pytest.raises(ImageLoadError, match="larger than"):
        read_scan_bytes(status, limit=64)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * 100)
    with pytest.raises(ImageLoadError, match="larger than"):
        read_scan_bytes(big, limit=64)
    assert read_scan_bytes(big, limit=100) == b"\xff" * 100


# -- 5. every page of a multi-page TIFF ------------------------------------------------------------------------


def _tiff(path: Path, images: list[np.ndarray]) -> Path:
    pages = [Image.fromarray(image[:, :, ::-1]) for image in images]
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    return path


def test_every_page_of_a_multi_page_tiff_is_a_scan(model, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    first = render_printout(kind="normal", seed=1, width=WIDTH, height=HEIGHT)
    second = render_printout(kind="st_elevation", seed=2, width=WIDTH, height=HEIGHT)
    fax = _tiff(folder / "fax.tif", [first, second])
    _tiff(folder / "single.tiff", [first])
    names = [listed.path.name for listed in list_scans([folder])]
    assert names == ["fax.tif#page=1", "fax.tif#page=2", "single.tiff"]
    assert np.array_equal(load_image(Path(f"{fax}#page=2")), second)  # page 2's own pixels (LZW is lossless)
    assert np.array_equal(load_image(Path(f"{fax}#page=1")), first)
    with pytest.raises(ImageLoadError, match="there is no page 3; the TIFF has 2 pages"):
        load_image(Path(f"{fax}#page=3"))
    assert default_page(fax).note() == "Page 1 of 2 of fax.tif"  # the window and report open page 1 and say so
    steps = list(run_batch(model, plan_batch([folder], tmp_path / "out"), workers=1))
    assert [s.item.path.name for s in steps] == names and all(s.item.result is not None for s in steps)


# -- 5. unreadable folders are failed rows -------------------------------------------------------------------------


def test_an_unreadable_subfolder_is_a_failed_row_with_the_reason(model, tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "scans"
    _scan(folder / "a.png")
    _scan(folder / "locked" / "b.png")
    locked = folder / "locked"
    if os.geteuid() == 0:  # root lists anything: refuse as chmod 000 does for anyone else
        real = os.scandir

        def scandir(path=".", *args):
            if Path(path) == locked:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real(path, *args)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        assert main(["batch", str(folder), "--out", str(tmp_path / "out")]) == 1
        captured = capsys.readouterr()
        assert "1 classified, 0 not assessable by this model, 1 failed" in captured.out
        assert "this folder cannot be read (Permission denied)" in captured.err
        rows = list(csv.DictReader((tmp_path / "out" / "results.csv").read_text().splitlines()))
        assert [Path(r["file"]).name for r in rows] == ["a.png", "locked"]
        assert "cannot be read" in rows[1]["error"]
    finally:
        if os.geteuid() != 0:
            locked.chmod(0o755)


# -- 10. list files as other programs save them ----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_list_files_with_a_bom_utf16_comments_blank_lines_and_tabs(tmp_path: Path, encoding: str) -> None:
    scans = [_scan(tmp_path / f"s{i}.png", i) for i in range(2)]
    text = f"# scans for Monday\r\n\r\n{scans[0]}\t\r\n   \r\n  {scans[1]}  \r\n# done\r\n"
    listing = tmp_path / "list.txt"
    listing.write_bytes(text.encode(encoding))
    assert list(ListFile(listing)) == scans
    files, missing = find_scans(ListFile(listing))
    assert files == scans and missing == []


def test_a_list_with_a_nul_byte_or_not_text_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"a.jpg\nb\x00.jpg\n")
    with pytest.raises(EcgDeskError, match=r"line 2: holds a NUL byte"):
        list(ListFile(listing))
    assert main(["batch", "--from-list", str(listing), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "line 2: holds a NUL byte" in err and "Traceback" not in err and len(err.splitlines()) == 1
    listing.write_bytes("a.jpg\n".encode("utf-16-le"))  # UTF-16 without its byte-order mark
    with pytest.raises(EcgDeskError, match="holds a NUL byte"):
        list(ListFile(listing))
