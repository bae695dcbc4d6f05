"""Tests for the PDF report and batch summary (text parsed back with pypdf, and pypdfium2 for "not assessable")."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from pypdf import PdfReader

from ecg_desktop.core.classify.heat_overlay import LEGEND_TICKS, LEGEND_TITLE
from ecg_desktop.core.classify.manifest import ClassInfo, Manifest
from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.classify.saliency import RHYTHM, Saliency, lead_boxes
from ecg_desktop.core.errors import EcgDeskError, ReportWriteError
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.outcome import NOT_ASSESSABLE, Reason, format_percent
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.reports import report_pdf
from ecg_desktop.core.reports.report_pdf import PatientInfo, ReportOptions, write_batch_summary, write_report
from tests.bad_inputs import blank_page, text_page
from tests.conftest import write_image

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecg-images"
PROBABILITIES = {"normal": 0.07, "abnormal_heartbeat": 0.12, "mi": 0.64, "history_of_mi": 0.17}
WARNING = "The crop is very small; the result may not reflect the whole ECG."


@pytest.fixture
def manifest(tmp_path: Path) -> Manifest:
    classes = (
        ClassInfo("normal", "Normal"),
        ClassInfo("abnormal_heartbeat", "Abnormal heartbeat"),
        ClassInfo("mi", "Myocardial infarction"),
        ClassInfo("history_of_mi", "History of MI"),
    )
    return Manifest(
        directory=tmp_path,
        model_version="2026-01-02-test1234",
        classes=classes,
        input_size=227,
        thresholds={},
        low_confidence=0.9,
        temperature=1.0,
        ink_range=None,
        files={"cnn": tmp_path / "cnn.onnx", "classifier": tmp_path / "lightgbm.txt"},
        sha256={"cnn": "a" * 64, "classifier": "b" * 64},
        raw={"model_name": "Test CNN + LightGBM"},
    )


def _result(*, low: bool = False, warnings: tuple[str, ...] = ()) -> Classification:
    return Classification("mi", dict(PROBABILITIES), ("mi", "history_of_mi"), CropBox(50, 40, 550, 360), warnings, low)


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(400, 600, 3), dtype=np.uint8)


def _text(path: Path) -> str:
    """All text of the PDF with runs of whitespace (line breaks in wrapped cells) collapsed."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def _report(path: Path, manifest: Manifest, result: Classification | None = None, **kwargs: object) -> Path:
    return write_report(
        path, image=_image(), result=result or _result(), manifest=manifest, source_name="scan 1.jpg", **kwargs
    )


def test_report_contents(tmp_path: Path, manifest: Manifest) -> None:
    out = _report(
        tmp_path / "report.pdf",
        manifest,
        patient=PatientInfo(patient_id="P-00123", name="Ada Lovelace", date_of_birth="1815-12-10"),
        options=ReportOptions(facility="St Mary's & Partners <Cardiology>", acquisition_date="2026-03-04"),
    )
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = _text(out)
    expected = ["P-00123", "Ada Lovelace", "1815-12-10", "2026-03-04", "St Mary's & Partners <Cardiology>"]
    expected += ["scan 1.jpg"]
    expected += ["Result: Myocardial infarction (64.0 %)", "Other findings: History of MI", "2026-01-02-test1234"]
    expected += ["Test CNN + LightGBM", "a" * 64, "b" * 64, "Decision support", "physician", "It is not a diagnosis."]
    expected += ["Khan & Hussain", "CC BY 4.0", "Warnings None."]
    for text_part in expected:
        assert text_part in text, text_part
    for info in manifest.classes:
        assert re.search(rf"{re.escape(info.name)}\s+{re.escape(format_percent(PROBABILITIES[info.id]))}", text), info.name
    assert "Low confidence" not in text
    assert out.stat().st_size < 1_000_000


def test_a_report_gets_the_mode_a_new_file_gets(tmp_path: Path, manifest: Manifest) -> None:
    """Written through a private temporary file (0600), a report ends with the mode of any new file (0666 less the
    umask), as results.csv does: the window's Save Report, ``report`` and a batch's PDFs alike."""
    umask = os.umask(0o022)
    os.umask(umask)
    out = _report(tmp_path / "report.pdf", manifest)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    summary = write_batch_summary(tmp_path / "summary.pdf", rows=[], manifest=manifest)
    assert summary.stat().st_mode & 0o777 == 0o666 & ~umask


def test_report_low_confidence_and_warnings(tmp_path: Path, manifest: Manifest) -> None:
    out = _report(tmp_path / "r.pdf", manifest, _result(low=True, warnings=(WARNING,)))
    text = _text(out)
    assert "Low confidence" in text
    assert WARNING in text


def test_report_blank_patient_fields(tmp_path: Path, manifest: Manifest) -> None:
    text = _text(_report(tmp_path / "r.pdf", manifest))
    assert "Patient ID" in text and "Date of birth" in text


@pytest.mark.parametrize("name", ["Zoë Müller", "محمد", "O'Brien <script>&amp;"])
def test_report_non_ascii_and_markup_names(tmp_path: Path, manifest: Manifest, name: str) -> None:
    out = _report(tmp_path / "r.pdf", manifest, patient=PatientInfo(name=name))
    assert len(PdfReader(out).pages) == 1
    if all(ord(ch) < 256 for ch in name):  # the bundled font covers Latin-1; other scripts only must not crash
        assert name in _text(out)


@pytest.mark.parametrize(("page_size", "width", "height"), [("A4", 595.3, 841.9), ("Letter", 612, 792)])
def test_page_size(tmp_path: Path, manifest: Manifest, page_size: str, width: float, height: float) -> None:
    box = PdfReader(_report(tmp_path / "r.pdf", manifest, options=ReportOptions(page_size=page_size))).pages[0].mediabox
    assert float(box.width) == pytest.approx(width, abs=0.5)
    assert float(box.height) == pytest.approx(height, abs=0.5)


def test_unknown_page_size(tmp_path: Path, manifest: Manifest) -> None:
    with pytest.raises(ValueError, match="page size"):
        _report(tmp_path / "r.pdf", manifest, options=ReportOptions(page_size="A5"))
    assert not list(tmp_path.iterdir())


def test_batch_summary(tmp_path: Path, manifest: Manifest) -> None:
    rows = [(f"scan_{i:03d}.jpg", _result(low=i % 5 == 0, warnings=(WARNING,) if i % 3 == 0 else ()), None)
            for i in range(120)]
    rows[17] = ("broken_017.png", None, "broken_017.png: the image data is corrupt or truncated.")
    out = write_batch_summary(tmp_path / "summary.pdf", rows=rows, manifest=manifest,
                              options=ReportOptions(page_size="Letter"))
    reader = PdfReader(out)
    assert len(reader.pages) >= 3
    text = _text(out)
    for name, _, _ in rows:
        assert name in text, name
    assert "broken_017.png: the image data is corrupt or truncated." in text
    assert "Failed" in text and "Myocardial infarction" in text and "low confidence" in text
    assert "Decision support" in text and "physician" in text
    first = reader.pages[0].extract_text().split()
    assert "119" in first and "120" in first  # 119 MI, 120 total in the counts at the top


def _no_part_files(folder: Path) -> bool:
    return not [n for n in os.listdir(folder) if n.endswith(".part")]


def test_read_only_folder(tmp_path: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores folder permissions: refuse the way the OS would

            def refuse(*args: object, dir: str, **kwargs: object) -> None:
                raise PermissionError(errno.EACCES, "Permission denied", dir)

            monkeypatch.setattr(report_pdf.tempfile, "NamedTemporaryFile", refuse)
        with pytest.raises(ReportWriteError, match="locked"):
            _report(folder / "r.pdf", manifest)
        assert _no_part_files(folder) and not (folder / "r.pdf").exists()
    finally:
        folder.chmod(0o755)


def test_missing_folder(tmp_path: Path, manifest: Manifest) -> None:
    with pytest.raises(ReportWriteError, match="missing"):
        _report(tmp_path / "missing" / "r.pdf", manifest)


def _raise_disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "target",
    [
        (report_pdf, "_bar_chart"),  # fails while the story is being built
        (report_pdf.os, "fsync"),  # fails after the PDF was written to the .part file
        (report_pdf.os, "replace"),  # e.g. the target is open in a viewer on Windows
    ],
)
def test_failed_write_keeps_existing_report(
    tmp_path: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch, target: tuple[object, str]
) -> None:
    existing = tmp_path / "r.pdf"
    existing.write_bytes(b"%PDF-1.4 previous report")
    monkeypatch.setattr(*target, _raise_disk_full)
    with pytest.raises(ReportWriteError, match=r"r\.pdf.*No space left") as info:
        _report(existing, manifest)
    assert isinstance(info.value, EcgDeskError)
    assert existing.read_bytes() == b"%PDF-1.4 previous report"
    assert _no_part_files(tmp_path)


def test_overwrites_existing_report(tmp_path: Path, manifest: Manifest) -> None:
    existing = tmp_path / "r.pdf"
    existing.write_bytes(b"old")
    _report(existing, manifest)
    assert existing.read_bytes().startswith(b"%PDF") and _no_part_files(tmp_path)


def test_real_model_on_real_scan(tmp_path: Path) -> None:
    scan = DATA / "mi" / "MI(1).jpg"
    if not scan.is_file():
        pytest.skip(f"{scan} is not available")
    model = EcgModel.load()
    image = load_image(scan)
    result = model.classify(image)
    out = write_report(
        tmp_path / "mi.pdf", image=image, result=result, manifest=model.manifest, source_name=scan.name,
        patient=PatientInfo(patient_id="ID-42", name="Zoë Müller"), options=ReportOptions(facility="Test clinic"),
    )
    text = _text(out)
    assert len(PdfReader(out).pages) == 1
    assert out.stat().st_size < 1_000_000
    assert "ID-42" in text and "Zoë Müller" in text and scan.name in text
    assert f"Result: {model.manifest.display_name(result.label)}" in text
    assert model.version in text
    for info in model.manifest.classes:
        shown = re.escape(format_percent(result.probabilities[info.id]))
        assert re.search(rf"{re.escape(info.name)}\s+{shown}", text), info.name
    assert ("Low confidence" in text) == result.low_confidence


def _pdfium_text(path: Path) -> str:
    """All text of the PDF as pdfium reads it, whitespace runs collapsed."""
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range() for page in document).split())
    finally:
        document.close()


@pytest.mark.parametrize("page", [blank_page, text_page], ids=["blank page", "typed letter"])
def test_report_of_a_page_that_is_not_assessable_names_no_class(
    tmp_path: Path, model: EcgModel, page: Callable[[], np.ndarray]
) -> None:
    image = page()
    result = model.classify(image)
    assert not result.assessable
    out = write_report(tmp_path / "r.pdf", image=image, result=result, manifest=model.manifest,
                       source_name="letter.png", saliency=_saliency())
    text = _pdfium_text(out)
    assert f"Result: {NOT_ASSESSABLE}" in text and "No diagnosis is given for this scan, because:" in text
    for reason in result.reasons:
        assert " ".join(reason.message.split()) in text, reason.code
    assert not [info.name for info in model.manifest.classes if info.name in text]  # no class, no bar labels
    assert "Class probabilities" not in text and "Regions that drove" not in text and "Low confidence" not in text
    assert "Decision support only" in text


def test_report_of_a_real_scan_gives_its_class(tmp_path: Path, model: EcgModel, real_scan: Path) -> None:
    image = load_image(real_scan)
    result = model.classify(image)
    out = write_report(tmp_path / "r.pdf", image=image, result=result, manifest=model.manifest, source_name="x.jpg")
    text = _pdfium_text(out)
    assert f"Result: {model.manifest.display_name(result.label)} (" in text and NOT_ASSESSABLE not in text


def test_cli_report_says_not_assessable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ecg_desktop.cli import main

    scan = write_image(tmp_path / "blank.png", blank_page())
    assert main(["report", str(scan), "--out", str(tmp_path / "r.pdf"), "--saliency"]) == 0
    assert f"{scan}: {NOT_ASSESSABLE} — The classified region has" in capsys.readouterr().out
    assert f"Result: {NOT_ASSESSABLE}" in _pdfium_text(tmp_path / "r.pdf")


def test_batch_summary_counts_scans_that_are_not_assessable(tmp_path: Path, manifest: Manifest) -> None:
    reason = Reason("no_grid", "No ECG grid was found in the classified region.")
    unassessed = Classification(None, dict(PROBABILITIES), (), CropBox(0, 0, 10, 10), (WARNING,), False, True,
                                reasons=(reason,))
    rows = [("ecg.jpg", _result(), None), ("letter.png", unassessed, None),
            ("broken.png", None, "broken.png: corrupt.")]
    text = _pdfium_text(write_batch_summary(tmp_path / "s.pdf", rows=rows, manifest=manifest))
    assert re.search(rf"{NOT_ASSESSABLE} Failed Total 0 0 1 0 1 1 3", text), text
    row = re.search(r"letter\.png (.+?) broken\.png", text).group(1)
    assert row.startswith(f"{NOT_ASSESSABLE} - ") and reason.message in row and WARNING in row
    assert not [info.name for info in manifest.classes if info.name in row] and "64.0 %" not in row


def _saliency(class_id: str = "mi") -> Saliency:
    heat = np.zeros((8, 8), np.float32)
    heat[0, 0] = 1.0  # only the top-left cell of the crop mattered
    scores = dict.fromkeys(lead_boxes(227), 0.0) | {"V5": 0.42, "V3": 0.3, RHYTHM: 0.35, "I": 0.01}
    return Saliency(class_id, heat, scores)


def _embedded_images(path: Path) -> list[np.ndarray]:
    return [cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR) for image in PdfReader(path).pages[0].images]


def _main_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The embedded scan: the one image of the scan's size (the saliency figure holds only the crop)."""
    (main,) = [image for image in _embedded_images(path) if image.shape == shape]
    return main.astype(int)


SALIENCY_PREFIX = "Leads that drove the result (mean drop in its probability when the panel is hidden): "


def test_report_with_saliency(tmp_path: Path, manifest: Manifest) -> None:
    grey = np.full((400, 600, 3), 160, np.uint8)
    result = _result(low=True, warnings=(WARNING, "A second warning that takes up a line of its own."))
    out = write_report(
        tmp_path / "r.pdf", image=grey, result=result, manifest=manifest, source_name="scan 1.jpg",
        saliency=_saliency(), patient=PatientInfo("P-1", "A very long patient name " * 3, "1950-01-01"),
        options=ReportOptions(facility="Ward 3", acquisition_date="2026-01-01"),
    )
    assert len(PdfReader(out).pages) == 1
    text = _text(out)
    assert f"{SALIENCY_PREFIX}V5 0.42, rhythm strip 0.35, V3 0.30." in text
    assert "Result: Myocardial infarction (64.0 %)" in text and "Low confidence" in text and WARNING in text
    assert LEGEND_TITLE in text and all(label in text for _, label in LEGEND_TICKS)  # the legend, fixed scale
    assert "V5 0.42, rhythm strip 0.35, V3 0.30" in text
    assert np.abs(_main_image(out, grey.shape) - 160).max() < 12  # the scan itself is never tinted
    (figure,) = [image for image in _embedded_images(out) if image.shape == (320, 500, 3)]  # the crop, apart
    b, g, r = figure[5, 5].astype(int)  # the hot top-left cell: dark red
    assert r > b + 40 and r > g + 40
    assert np.abs(figure[310, 490].astype(int) - 160).max() < 12  # a cell that did not matter: left as scanned


def test_report_main_image_is_the_clean_scan(tmp_path: Path, manifest: Manifest) -> None:
    """With or without saliency, the main image is the scan as read, pixel for pixel (up to JPEG loss)."""
    from ecg_desktop.testing.synthetic import render_printout

    scan = render_printout(kind="st_elevation", seed=2, width=1106, height=786)
    result = Classification("mi", dict(PROBABILITIES), ("mi",), CropBox(30, 140, 1090, 760), (), False)
    for saliency in (None, _saliency()):
        out = write_report(tmp_path / "r.pdf", image=scan, result=result, manifest=manifest, source_name="s.png",
                           saliency=saliency)
        main = _main_image(out, scan.shape)
        assert np.abs(main - scan.astype(int)).mean() < 4  # JPEG loss only; a heat tint moves every pixel
        assert np.abs(main - scan.astype(int))[140:760, 30:1090].mean() < 4
        assert len(_embedded_images(out)) == (1 if saliency is None else 3)  # + the figure and its colour bar


def test_report_without_saliency_has_no_heat_map(tmp_path: Path, manifest: Manifest) -> None:
    grey = np.full((400, 600, 3), 160, np.uint8)
    out = write_report(tmp_path / "r.pdf", image=grey, result=_result(), manifest=manifest, source_name="s.jpg")
    text = _text(out)
    assert "drove the result" not in text and LEGEND_TITLE not in text and "Where the model" not in text
    (image,) = _embedded_images(out)
    assert np.abs(image.astype(int) - 160).max() < 12


def test_cli_report_with_saliency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ecg_desktop.cli import main
    from ecg_desktop.testing.synthetic import render_printout

    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), render_printout(kind="st_elevation", seed=2))
    assert main(["report", str(scan), "--out", str(tmp_path / "r.pdf"), "--saliency"]) == 0
    text = _text(tmp_path / "r.pdf")
    assert len(PdfReader(tmp_path / "r.pdf").pages) == 1
    leads = re.search(r"when the panel is hidden\): (.+?)\. (?:Low confidence|Class probabilities)", text)
    assert leads, text
    if not leads.group(1).startswith("no lead panel stood out"):
        names = [n.strip().rsplit(" ", 1)[0] for n in leads.group(1).split(",")]
        assert 1 <= len(names) <= 3 and set(names) <= set(lead_boxes(227))
    assert main(["report", str(scan), "--out", str(tmp_path / "plain.pdf")]) == 0
    assert "drove the result" not in _text(tmp_path / "plain.pdf")
