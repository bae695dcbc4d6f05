"""PDF input: why PDFium refused a document, and ECG Desk's own reports never read back as scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecg_desktop.core.errors import ImageLoadError
from ecg_desktop.core.loading import pdf_pages
from tests.bad_inputs import _empty_pdf, _encrypted_pdf, _pdf


def _pdf_with_info(info: bytes) -> bytes:
    """A one-page PDF (blank) whose document information dictionary is ``info``, written byte by byte."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>", info]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize("before", ["nothing", "encrypted", "corrupt", "empty"])
def test_each_refusal_names_its_own_reason_whatever_was_read_before(before: str) -> None:
    """PDFium's last error is process-wide and kept by a later load that succeeds: each reason must still be right."""
    page = _pdf(["a page of text"])
    documents = {
        "encrypted": (_encrypted_pdf(page), "is password-protected"),
        "corrupt": (page[:400], "is damaged or is not a PDF document"),
        "empty": (_empty_pdf(), "contains no pages"),
    }
    if before != "nothing":
        with pytest.raises(ImageLoadError):
            pdf_pages.count_pages(documents[before][0], "before.pdf")
    for name, (data, reason) in documents.items():
        with pytest.raises(ImageLoadError, match=f"^{name}.pdf: this PDF {reason}"):
            pdf_pages.count_pages(data, f"{name}.pdf")
    assert pdf_pages.count_pages(page, "page.pdf") == 1


def test_a_report_is_recognised_even_when_another_metadata_entry_cannot_be_decoded(tmp_path: Path) -> None:
    """A title that is not valid UTF-16 (a lone surrogate) made the whole metadata unreadable, and the report
    was then read back into a batch as a scan."""
    creator = pdf_pages.REPORT_CREATOR.encode("ascii")
    report = tmp_path / "report.pdf"
    report.write_bytes(_pdf_with_info(b"<< /Creator (%s) /Title <FEFFD800> /Author (Clinic) >>" % creator))
    cart = tmp_path / "cart.pdf"
    cart.write_bytes(_pdf_with_info(b"<< /Creator (ECG cart) /Title <FEFFD800> >>"))
    assert pdf_pages.pages_of(report, skip_reports=True) == []
    assert pdf_pages.pages_of(report) == [pdf_pages.page_ref(report, 1)]  # named on its own, it is read
    assert pdf_pages.pages_of(cart, skip_reports=True) == [pdf_pages.page_ref(cart, 1)]
    undecodable_creator = tmp_path / "odd creator.pdf"
    undecodable_creator.write_bytes(_pdf_with_info(b"<< /Creator <FEFFD800> >>"))
    assert pdf_pages.pages_of(undecodable_creator, skip_reports=True) == [pdf_pages.page_ref(undecodable_creator, 1)]


def test_the_reports_ecg_desk_writes_carry_the_creator_it_skips(model, tmp_path: Path) -> None:
    from ecg_desktop.core.reports.report_pdf import write_batch_summary

    summary = write_batch_summary(tmp_path / "summary.pdf", rows=[], manifest=model.manifest)
    assert pdf_pages.pages_of(summary, skip_reports=True) == []


def test_an_unreadable_pdf_is_listed_as_itself(tmp_path: Path) -> None:
    """So that loading it says why (the batch gives it an error row rather than dropping it)."""
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing else")
    assert pdf_pages.pages_of(broken, skip_reports=True) == [broken]
    assert pdf_pages.pages_of(tmp_path / "gone.pdf") == [tmp_path / "gone.pdf"]


def test_a_page_that_does_not_exist() -> None:
    data = _pdf(["one", "two"])
    with pytest.raises(ImageLoadError, match="there is no page 3; the document has 2 pages"):
        pdf_pages.render_page(data, 3, "two.pdf")
    assert pdf_pages.render_page(data, 2, "two.pdf", max_pixels=500_000).shape[2] == 3
