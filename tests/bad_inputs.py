"""A corpus of what a clinic will feed ECG Desk, built at test time: broken, odd, hostile and not-ECG files.

``build_corpus(folder)`` writes it and returns what each scan must get, by the name it has in results
(a PDF's pages are ``name.pdf#page=N``). The tests run it through the core, the CLI and the GUI batch.
Each input is in one of three states: assessable (a diagnosis), not assessable (reasons, no diagnosis),
or an error (unreadable). ``blank_page``, ``text_page`` and ``noise_page`` are not-ECG pages for other tests.
"""

from __future__ import annotations

import errno
import io
import os
import pathlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ecg_desktop.testing.synthetic import render_printout

WIDTH, HEIGHT = 1106, 786  # half the size of the dataset's scans: fast, still a full printout
UNREADABLE = "no permission.png"  # chmod 000 (and refused by monkeypatch when running as root)
EXPLICIT_ONLY = "notes.txt"  # a folder search skips it (not a scan suffix); named explicitly it is an error


@dataclass(frozen=True)
class Expect:
    """What one scan must get: an error containing ``message``; or, readable (``message`` None), a diagnosis
    or, when ``reasons`` names reason codes, "not assessable" with at least those reasons."""

    message: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Readable: classified, with a diagnosis or not."""
        return self.message is None

    @property
    def assessable(self) -> bool:
        return self.ok and not self.reasons


def expected_tally(expect: dict[str, Expect]) -> str:
    """The end-of-batch count (core.batch.progress.BatchProgress.tally) the corpus must give."""
    states = [e.assessable for e in expect.values() if e.ok]
    failed = len(expect) - len(states)
    return f"{sum(states)} classified, {states.count(False)} not assessable by this model, {failed} failed"


def blank_page() -> np.ndarray:
    """An empty white page (a scanner run with nothing on the glass)."""
    return np.full((HEIGHT, WIDTH, 3), 255, np.uint8)


def text_page() -> np.ndarray:
    """A typed letter: black text lines on white, no grid, no traces."""
    page = blank_page()
    for y in range(70, HEIGHT - 40, 34):
        cv2.putText(page, "Referral letter: please see the attached ECG and notes.", (50, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    return page


def noise_page() -> np.ndarray:
    """Coloured noise, as from a faulty scanner."""
    return np.random.default_rng(2).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def _ecg(seed: int = 0, kind: str = "normal") -> np.ndarray:
    return render_printout(kind=kind, seed=seed, width=WIDTH, height=HEIGHT)


def _encode(image: np.ndarray, suffix: str) -> bytes:
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


def _pdf(pages: list[np.ndarray | str]) -> bytes:
    """A PDF whose pages are scans (images filling a landscape A4 page) or lines of text."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    size = landscape(A4)
    canvas = Canvas(buffer, pagesize=size)
    canvas.setCreator("ECG cart export")
    for page in pages:
        if isinstance(page, str):
            canvas.drawString(72, size[1] - 72, page)
        else:
            canvas.drawImage(ImageReader(io.BytesIO(_encode(page, ".png"))), 0, 0, width=size[0], height=size[1])
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def build_corpus(folder: Path) -> dict[str, Expect]:
    """Write the corpus into ``folder``; return the expected outcome by result name (folder searches)."""
    folder.mkdir(parents=True, exist_ok=True)
    sub = folder / "sub folder"
    sub.mkdir()
    expect: dict[str, Expect] = {}

    def put(name: str, data: bytes, outcome: Expect, *, where: Path = folder) -> Path:
        (where / name).write_bytes(data)
        expect[name] = outcome
        return where / name

    page = _ecg(1)
    jpeg = _encode(page, ".jpg")
    png = _encode(page, ".png")

    # Unreadable: each gets its own clear reason.
    put("empty.jpg", b"", Expect("the file is empty (0 bytes)"))
    put("half copied.jpg", jpeg[: len(jpeg) // 2], Expect("corrupt or truncated"))
    put("half copied.png", png[: len(png) // 2] + bytes(len(png) - len(png) // 2), Expect("corrupt or truncated"))
    put("random bytes.png", np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
        Expect("is not a readable image"))
    (folder / EXPLICIT_ONLY).write_text("Patient list for Monday\n" * 40, encoding="utf-8")
    put("web page.jpg", b"<!DOCTYPE html><html><body><h1>ECG</h1></body></html>\n", Expect("is not a readable image"))
    bomb = folder / "bomb.png"  # 30000 x 30000 (900 MP), a few hundred kB on disk
    Image.new("1", (30000, 30000)).save(bomb, optimize=True)
    expect[bomb.name] = Expect("megapixel limit")
    put("one pixel.png", _encode(np.zeros((1, 1, 3), np.uint8), ".png"), Expect("too small to hold a readable ECG"))
    put("phone photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(500), Expect("HEIC"))
    put("encrypted.pdf", _encrypted_pdf(_pdf([page])), Expect("password-protected"))
    put("no pages.pdf", _empty_pdf(), Expect("contains no pages"))
    put("corrupt.pdf", _pdf([page])[:400], Expect("is damaged or is not a PDF"))
    put(UNREADABLE, png, Expect("permission denied"))
    os.chmod(folder / UNREADABLE, 0)
    os.symlink(folder / "gone.png", folder / "dangling link.png")
    expect["dangling link.png"] = Expect("link to a file that does not exist")
    os.symlink("self loop.png", folder / "self loop.png")  # a link to itself
    expect["self loop.png"] = Expect("loop of links")

    # Readable but odd: all classified.
    gray16 = cv2.cvtColor(_ecg(2), cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    put("gray 16-bit.png", _encode(gray16, ".png"), Expect())
    rgb = Image.fromarray(_ecg(3, "st_elevation")[:, :, ::-1])
    buffer = io.BytesIO()
    rgb.convert("P", palette=Image.Palette.ADAPTIVE).save(buffer, "PNG")
    put("palette.png", buffer.getvalue(), Expect())
    buffer = io.BytesIO()
    rgb.convert("CMYK").save(buffer, "JPEG", quality=90)
    put("cmyk.jpg", buffer.getvalue(), Expect())
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated: displayed after a 90 degree turn, as phones save photos
    Image.fromarray(np.ascontiguousarray(np.rot90(_ecg(4), 1))[:, :, ::-1]).save(buffer, "JPEG", exif=exif)
    put("phone photo exif rotated.jpg", buffer.getvalue(), Expect())
    put("Jöhn Dœ — ÉCG 1 (copy).png", _encode(_ecg(5, "irregular"), ".png"), Expect(), where=sub)
    pdf = folder / "cart export.pdf"
    pdf.write_bytes(_pdf([_ecg(6), _ecg(7, "st_elevation"), "Interpretation notes: see page 1."]))
    expect.update({"cart export.pdf#page=1": Expect(), "cart export.pdf#page=2": Expect(),
                   "cart export.pdf#page=3": Expect(reasons=("no_grid",))})

    # Readable, not an ECG: each gets "not assessable" and why, never a class.
    blurred = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 20)
    put("holiday photo.jpg", _encode(blurred, ".jpg"), Expect(reasons=("not_an_ecg", "no_grid")))
    put("blank page.png", _encode(blank_page(), ".png"), Expect(reasons=("not_an_ecg", "no_grid")))
    put("black page.png", _encode(np.zeros((HEIGHT, WIDTH, 3), np.uint8), ".png"), Expect(reasons=("not_an_ecg",)))
    put("typed letter.png", _encode(text_page(), ".png"), Expect(reasons=("no_grid",)))
    put("scanner noise.png", _encode(noise_page(), ".png"), Expect(reasons=("not_an_ecg", "no_grid")))

    # A symlink loop back to the top: must not be followed forever nor give duplicates.
    os.symlink(folder, sub / "loop to top")
    return expect


def _encrypted_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _empty_pdf() -> bytes:
    from pypdf import PdfWriter

    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


@contextmanager
def unreadable_files(monkeypatch, *names: str):
    """Make reading files called ``names`` fail with EACCES, as chmod 000 does for anyone but root."""
    if os.geteuid() != 0:  # chmod 000 already refuses us
        yield
        return
    original, original_open = pathlib.Path.read_bytes, os.open

    def read_bytes(self: Path) -> bytes:
        if self.name in names:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return original(self)

    def os_open(path, *args, **kwargs) -> int:
        if Path(path).name in names:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return original_open(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "read_bytes", read_bytes)
        patch.setattr(os, "open", os_open)
        yield
