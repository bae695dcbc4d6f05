"""Everything a clinic may feed ECG Desk, through the core, the CLI and the batch; and faults while writing.

Every input gets a clear message, a diagnosis, or "not assessable" with its reasons (never a class for a
page that is not an ECG); a failure never stops the others, results.csv never holds half a row, and a
killed batch resumes with every file recorded exactly once.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ecg_desktop.cli import main
from ecg_desktop.core.batch import run as batch_module
from ecg_desktop.core.batch.run import ResultsCsv, find_scans, plan_batch, run_batch
from ecg_desktop.core.batch.scan import BatchItem, output_stem
from ecg_desktop.core.errors import EcgDeskError, ImageLoadError
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.reports import report_pdf
from tests.bad_inputs import EXPLICIT_ONLY, UNREADABLE, Expect, build_corpus, expected_tally, unreadable_files
from tests.conftest import HUNG_AFTER_SECONDS, copy_models, wait_for_rows

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expect]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, build_corpus(folder)


@pytest.fixture(autouse=True)
def _unreadable(monkeypatch: pytest.MonkeyPatch):
    """The chmod 000 file is unreadable for root too (root reads anything: emulated)."""
    with unreadable_files(monkeypatch, UNREADABLE):
        yield


def _check(name: str, expect: Expect, *, label: str | None, error: str | None, reasons: list[str]) -> None:
    """One outcome (label, error, reason codes) against what the corpus says it must be."""
    if expect.assessable:
        assert not error and not reasons, f"{name}: unexpected error {error!r} or reasons {reasons}"
        assert label, f"{name}: no label"
    elif expect.ok:
        assert not error, f"{name}: unexpected error {error!r}"
        assert not label, f"{name}: a class ({label}) for a scan that is not assessable"
        assert set(expect.reasons) <= set(reasons), f"{name}: reasons {reasons}, expected {expect.reasons}"
    else:
        assert not label and not reasons, f"{name}: a label ({label}) or reasons for an unreadable input"
        assert error and expect.message in error, f"{name}: {error!r} does not say {expect.message!r}"
        assert name.split("#")[0] in error, f"{name}: the message does not name the file: {error!r}"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _well_formed(path: Path) -> list[list[str]]:
    """Every line of results.csv is one complete row with as many fields as the header."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    rows = list(csv.reader(data.decode("utf-8").splitlines()))
    assert all(len(row) == len(rows[0]) for row in rows), "a broken row in results.csv"
    return rows


# -- the corpus, through every door -------------------------------------------------------------------------


def test_the_corpus_is_found_once_each_despite_the_symlink_loop(corpus) -> None:
    folder, expect = corpus
    files, missing = find_scans([folder])
    assert not missing
    assert sorted(f.name for f in files) == sorted(expect)  # no duplicate through "loop to top", no .txt


def test_core_gives_each_input_a_result_or_a_clear_error(model, corpus) -> None:
    folder, expect = corpus
    files, _ = find_scans([folder])
    for path in files:
        want = expect[path.name]
        if want.ok:
            assert load_image(path).ndim == 3
            result = model.classify_file(path)
            _check(path.name, want, label=result.label, error=None, reasons=[r.code for r in result.reasons])
            assert result.assessable == want.assessable and bool(result.findings) <= result.assessable
        else:
            for call in (load_image, model.classify_file):
                with pytest.raises(ImageLoadError) as caught:
                    call(path)
                _check(path.name, want, label=None, error=str(caught.value), reasons=[])
    with pytest.raises(ImageLoadError, match="not a readable image"):
        load_image(folder / EXPLICIT_ONLY)


def test_a_pdf_given_to_load_image_says_how_to_name_a_page(corpus) -> None:
    folder, _ = corpus
    with pytest.raises(ImageLoadError, match=re.escape("is a PDF document (3 pages)")) as caught:
        load_image(folder / "cart export.pdf")
    assert "cart export.pdf#page=1" in str(caught.value)
    with pytest.raises(ImageLoadError, match="there is no page 4; the document has 3 pages"):
        load_image(folder / "cart export.pdf#page=4")
    page = load_image(folder / "cart export.pdf#page=2")
    assert page.shape == (1654, 2339, 3)  # landscape A4 at 200 dpi


def test_cli_classify_json_gives_every_input_one_line(corpus, capsys) -> None:
    folder, expect = corpus
    code = main(["classify", str(folder), str(folder / EXPLICIT_ONLY), "--json", "--workers", "2"])
    assert code == 1  # some failed
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    names = [Path(line["file"]).name for line in lines]
    assert sorted(names) == sorted([*expect, EXPLICIT_ONLY])  # each exactly once
    for line, name in zip(lines, names):
        want = expect.get(name, Expect("not a readable image"))
        _check(name, want, label=line["label"], error=line["error"], reasons=[r["code"] for r in line["reasons"]])
        assert line["assessable"] == (want.assessable if want.ok else None), name
        if not want.assessable:
            assert line["probabilities"] is None and line["findings"] == [] and not line["low_confidence"]
        assert (line["model_outputs_not_a_diagnosis"] is not None) == (want.ok and not want.assessable), name


def test_cli_batch_records_every_input_with_reports_and_resumes(corpus, tmp_path: Path, capsys) -> None:
    folder, expect = corpus
    out = tmp_path / "out"
    assert main(["batch", str(folder), "--out", str(out), "--pdf"]) == 1
    assert expected_tally(expect) in capsys.readouterr().out
    rows = _rows(out / "results.csv")
    _well_formed(out / "results.csv")
    assert sorted(Path(r["file"]).name for r in rows) == sorted(expect)
    for row in rows:
        name = Path(row["file"]).name
        _check(name, expect[name], label=row["label"], error=row["error"] or None,
               reasons=row["reasons"].split(";") if row["reasons"] else [])
        assert row["assessable"] == ({True: "true", False: "false"}[expect[name].assessable] if expect[name].ok else "")
        if expect[name].ok and not expect[name].assessable:
            assert row["p_normal"] == row["findings"] == "" and row["low_confidence"] == "false", name
        assert (out / f"{output_stem(Path(row['file']))}.pdf").exists() == expect[name].ok
    assert (out / "summary.pdf").exists() and not list(out.glob(".*.part"))

    assert main(["batch", str(folder), "--out", str(out), "--pdf"]) == 0  # resumed: nothing left to do
    assert f"{len(expect)} files already in" in capsys.readouterr().out
    assert len(_rows(out / "results.csv")) == len(expect)


# -- PDFs ---------------------------------------------------------------------------------------------------


def _scans(folder: Path, count: int) -> list[Path]:
    from ecg_desktop.testing.synthetic import render_printout
    from tests.bad_inputs import HEIGHT, WIDTH
    from tests.conftest import write_image

    folder.mkdir(parents=True, exist_ok=True)
    kinds = ("normal", "st_elevation", "irregular")
    return [write_image(folder / f"scan {i:02d}.jpg",
                        render_printout(kind=kinds[i % 3], seed=i, width=WIDTH, height=HEIGHT)) for i in range(count)]


def _cart_pdf(path: Path, pages: int) -> Path:
    from tests.bad_inputs import _ecg, _pdf

    path.write_bytes(_pdf([_ecg(10 + i) for i in range(pages)]))
    return path


def test_output_inside_the_input_folder_is_not_read_back(model, tmp_path: Path) -> None:
    """The GUI's default output is a subfolder of the input: its report PDFs must never become scans."""
    folder = tmp_path / "scans"
    _scans(folder, 2)
    _cart_pdf(folder / "cart.pdf", 2)
    out = folder / "ECG Desk results"
    first = [step.item for step in run_batch(model, plan_batch([folder], out), workers=2, pdf=True)]
    assert sorted(i.path.name for i in first) == ["cart.pdf#page=1", "cart.pdf#page=2", "scan 00.jpg", "scan 01.jpg"]
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted(
        [f"{output_stem(item.path)}.pdf" for item in first] + ["summary.pdf"])
    assert sorted(name.rsplit("-", 1)[0] for name in os.listdir(out) if name != "summary.pdf" and name.endswith(".pdf")) \
        == ["cart-page1", "cart-page2", "scan 00", "scan 01"]
    again = plan_batch([folder], out)
    assert again.total == 0 and again.skipped == 4


def test_a_page_is_capped_at_the_pixel_limit(tmp_path: Path) -> None:
    """A huge page (200 x 200 inches) is rendered below the 100 MP limit, never refused or exploded."""
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "poster.pdf"
    canvas = Canvas(str(path), pagesize=(14400, 14400))
    canvas.drawString(100, 100, "huge")
    canvas.showPage()
    canvas.save()
    from ecg_desktop.core.loading import pdf_pages

    image = pdf_pages.render_page(path.read_bytes(), 1, path.name, max_pixels=4_000_000)  # small cap: fast
    assert image.shape[0] * image.shape[1] <= 4_000_000 and image.shape[0] > 1900


# -- faults while writing -----------------------------------------------------------------------------------


def _fail_writes(monkeypatch: pytest.MonkeyPatch, *, after: int = 0, code: int = errno.ENOSPC) -> list[int]:
    """Make results.csv writes fail (``after`` successful ones first), writing half the row before failing."""
    real_write, calls = os.write, []

    def write(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) <= after:
            return real_write(fd, data)
        real_write(fd, data[: len(data) // 2])  # the disk fills up in the middle of the row
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(batch_module.os, "write", write)
    return calls


def test_a_failed_append_leaves_results_csv_exactly_as_it_was(tmp_path: Path, monkeypatch) -> None:
    results = ResultsCsv(tmp_path / "results.csv", ["a", "b"], "v1")
    for i in range(3):
        results.append(BatchItem(tmp_path / f"x{i}.jpg", None, f"x{i}.jpg: broken"))
    before = results.path.read_bytes()
    with monkeypatch.context() as patch:
        _fail_writes(patch)
        with pytest.raises(OSError, match="No space left on device"):
            results.append(BatchItem(tmp_path / "x3.jpg", None, "x3.jpg: broken\nsecond line"))
    assert results.path.read_bytes() == before
    results.append(BatchItem(tmp_path / "x3.jpg", None, "x3.jpg: broken\nsecond line"))  # room again
    rows = _rows(results.path)
    assert [Path(r["file"]).name for r in rows] == ["x0.jpg", "x1.jpg", "x2.jpg", "x3.jpg"]
    assert rows[-1]["error"] == "x3.jpg: broken second line"  # one line per row, always
    assert len(_well_formed(results.path)) == 5


def test_ctrl_c_while_a_written_row_is_synced_keeps_the_row(tmp_path: Path, monkeypatch) -> None:
    """A row another program may already have read stays: Ctrl+C after its write only skips the sync."""
    results = ResultsCsv(tmp_path / "results.csv", ["a"], "v1")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.append(BatchItem(tmp_path / "a.jpg", None, "a.jpg: broken"))
    assert [Path(r["file"]).name for r in _rows(results.path)] == ["a.jpg"]
    monkeypatch.undo()

    real_write = os.write

    def write_then_interrupted(fd: int, data: bytes) -> int:
        real_write(fd, data)
        raise KeyboardInterrupt  # after the row is written, before its length is counted

    monkeypatch.setattr(batch_module.os, "write", write_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.append(BatchItem(tmp_path / "b.jpg", None, "b.jpg: broken"))
    assert [Path(r["file"]).name for r in _rows(results.path)] == ["a.jpg", "b.jpg"]


def test_a_half_row_left_by_a_crash_is_redone_not_kept(tmp_path: Path) -> None:
    results = ResultsCsv(tmp_path / "results.csv", ["a"], "v1")
    results.append(BatchItem(tmp_path / "a.jpg", None, "a.jpg: broken"))
    with results.path.open("ab") as stream:  # power lost in the middle of writing b's row
        stream.write(f"{tmp_path / 'b.jpg'},mi,0.9".encode())
    done = results.done_files()
    assert len(done) == 1 and str(tmp_path / "a.jpg") in done
    results.append(BatchItem(tmp_path / "b.jpg", None, "b.jpg: broken"))
    assert [Path(r["file"]).name for r in _rows(results.path)] == ["a.jpg", "b.jpg"]
    _well_formed(results.path)


def test_disk_full_during_a_batch_stops_it_clearly_and_it_resumes(model, tmp_path: Path, monkeypatch) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 5)
    with monkeypatch.context() as patch:
        _fail_writes(patch, after=2)
        seen = []
        with pytest.raises(EcgDeskError, match="No space left on device.*results up to the previous file are saved"):
            for step in run_batch(model, plan_batch([folder], out), workers=2):
                seen.append(step.item)
    assert len(seen) == 2 and len(_rows(out / "results.csv")) == 2
    _well_formed(out / "results.csv")
    list(run_batch(model, plan_batch([folder], out), workers=2))
    assert sorted(Path(r["file"]).name for r in _rows(out / "results.csv")) == [s.name for s in scans]


def test_disk_full_through_the_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _scans(folder, 3)
    _fail_writes(monkeypatch, after=1)
    assert main(["batch", str(folder), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Cannot write" in err and "No space left on device" in err and "Traceback" not in err
    assert len(_rows(out / "results.csv")) == 1


def test_disk_full_while_writing_pdfs_keeps_results_and_leaves_no_partial_pdf(
    model, tmp_path: Path, monkeypatch
) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 3)

    class FullDisk(report_pdf.SimpleDocTemplate):
        def build(self, *args, **kwargs) -> None:
            self.filename.write(b"%PDF-1.4 half a report")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(report_pdf, "SimpleDocTemplate", FullDisk)
    items = []
    with pytest.raises(EcgDeskError, match="summary.pdf.*No space left on device"):
        for step in run_batch(model, plan_batch([folder], out), workers=2, pdf=True):
            items.append(step.item)
    assert len(items) == 3
    for item in items:  # classified, and told that its PDF is missing
        assert item.result is not None and "PDF report not written" in item.error and "No space left" in item.error
    rows = _rows(out / "results.csv")
    assert [Path(r["file"]).name for r in rows] == [s.name for s in scans]
    assert all(r["label"] and "PDF report not written" in r["error"] for r in rows)
    assert sorted(p.name for p in out.iterdir()) == ["results.csv"]  # no PDF, no .part left behind


def test_unwritable_results_csv_is_a_clear_error(model, tmp_path: Path, monkeypatch) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    _scans(folder, 1)
    out.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: refuse the open as a read-only folder would
        real_open = os.open

        def refuse(path, *args, **kwargs):
            if str(path).endswith("results.csv"):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(batch_module.os, "open", refuse)
    else:
        out.chmod(0o500)
    with pytest.raises(EcgDeskError, match=r"Cannot write .*results.csv \(Permission denied\)"):
        list(run_batch(model, plan_batch([folder], out), workers=1))


def test_a_killed_batch_resumes_with_every_file_exactly_once(tmp_path: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    scans = _scans(folder, 14)
    _cart_pdf(folder / "cart.pdf", 3)
    expected = sorted([s.name for s in scans] + [f"cart.pdf#page={i}" for i in (1, 2, 3)])
    command = [sys.executable, "-m", "ecg_desktop", "batch", str(folder), "--out", str(out), "--pdf", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = out / "results.csv"
    wait_for_rows(proc, results, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    done_at_kill = len(_rows(results))
    assert 3 <= done_at_kill < len(expected)
    _well_formed(results)

    rerun = subprocess.run(command, check=False, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=HUNG_AFTER_SECONDS)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_at_kill} files already in" in rerun.stdout
    rows = _rows(results)
    assert sorted(Path(r["file"]).name for r in rows) == expected  # every file exactly once
    assert all(r["label"] and not r["error"] for r in rows)
    _well_formed(results)
    from pypdf import PdfReader

    for pdf in out.glob("*.pdf"):  # every report on disk is whole (written to a temp file, then renamed)
        assert len(PdfReader(pdf).pages) >= 1


# -- model files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_damaged_model_files_stop_classification_with_the_reason(
    tmp_path: Path, synthetic_scan: Path, monkeypatch, capsys, damage: str
) -> None:
    models = tmp_path / "models"
    cnn = copy_models(models, damage=damage)
    monkeypatch.setenv("ECG_DESK_MODELS", str(models))
    assert main(["classify", str(synthetic_scan), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing classified
    assert f"The model file {cnn.name}" in captured.err and ("has been altered" if damage == "altered" else
                                                            "is missing") in captured.err


def test_cli_classify_takes_a_single_page_by_name(corpus, capsys) -> None:
    folder, _ = corpus
    page, gone = folder / "cart export.pdf#page=2", folder / "gone.pdf#page=1"
    assert main(["classify", str(page), str(gone), "--json"]) == 1
    lines = {Path(x["file"]).name: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["cart export.pdf#page=2"]["error"] is None and lines["cart export.pdf#page=2"]["label"]
    assert "no such file" in lines["gone.pdf#page=1"]["error"]


# -- damaged copies of good files: a clear error or a proper image, never anything else ------------------------


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")  # Pillow, reading a damaged TIFF header
def test_damaged_files_never_escape_as_other_errors(tmp_path: Path) -> None:
    import io
    import random

    import cv2
    import numpy as np
    from PIL import Image

    from tests.bad_inputs import _ecg, _pdf

    small = cv2.resize(_ecg(1), (400, 300))
    seeds = {suffix: cv2.imencode(suffix, small)[1].tobytes() for suffix in (".jpg", ".png", ".bmp", ".tif")}
    buffer = io.BytesIO()
    Image.fromarray(small[:, :, ::-1]).convert("P").save(buffer, "PNG")
    seeds["palette.png"] = buffer.getvalue()
    seeds[".pdf"] = _pdf([small])
    rng = random.Random(0)
    outcomes = {"ok": 0, "error": 0}
    for key, data in seeds.items():
        for i in range(25):
            damaged = bytearray(data)
            how = i % 4
            if how == 0:  # bytes flipped
                for _ in range(rng.randint(1, 20)):
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            elif how == 1:  # cut short
                damaged = damaged[: rng.randrange(1, len(damaged))]
            elif how == 2:  # a hole of zeros
                start = rng.randrange(len(damaged))
                damaged[start:start + 3000] = bytes(len(damaged[start:start + 3000]))
            else:  # a damaged header
                for _ in range(3):
                    damaged[rng.randrange(64)] = rng.randrange(256)
            path = tmp_path / f"damaged {i}{Path(key).suffix}"
            path.write_bytes(bytes(damaged))
            for target in find_scans([path])[0]:
                try:
                    image = load_image(target)
                except ImageLoadError:
                    outcomes["error"] += 1
                else:
                    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
                    outcomes["ok"] += 1
    assert outcomes["error"] > 50  # (the rest decode: a few flipped pixel bytes still make an image)
