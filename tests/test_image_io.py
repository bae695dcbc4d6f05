"""Loading scans: formats, conversions and clear errors for everything unreadable."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ecg_desktop.core.classify.preprocess import analysis_reduction
from ecg_desktop.core.errors import ImageLoadError, ImageSizeError
from ecg_desktop.core.loading.image_io import load_for_analysis, load_for_viewing, load_image
from tests.conftest import write_image


def _page(width: int = 400, height: int = 300) -> np.ndarray:
    image = np.full((height, width, 3), 255, np.uint8)
    cv2.line(image, (10, 10), (width - 10, height - 10), (0, 0, 0), 3)
    return image


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".bmp"])
def test_supported_formats_load_as_bgr8(tmp_path: Path, suffix: str) -> None:
    image = load_image(write_image(tmp_path / f"scan{suffix}", _page()))
    assert image.shape == (300, 400, 3) and image.dtype == np.uint8
    assert image[150, 200].max() < 80  # the diagonal line survived


def test_real_scan_loads_at_full_size(real_scan: Path) -> None:
    assert load_image(real_scan).shape == (1572, 2213, 3)


def test_real_scan_is_analysed_at_half_size(real_scan: Path) -> None:
    scan = load_for_analysis(real_scan)
    assert scan.pixels.shape == (786, 1107, 3) and scan.file_size == (2213, 1572)
    full = cv2.resize(load_image(real_scan), (1107, 786), interpolation=cv2.INTER_AREA)
    assert np.abs(scan.pixels.astype(int) - full).mean() < 6  # the decoder reduces by averaging too


@pytest.mark.parametrize(("size", "reduction"), [((400, 300), 1), ((1400, 1399), 1), ((2213, 1572), 2),
                                                 ((4032, 3024), 4), ((30000, 6000), 8)])
def test_analysis_reduction_keeps_the_shorter_side_above_700(size: tuple[int, int], reduction: int) -> None:
    assert analysis_reduction(*size) == reduction


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_large_images_of_any_format_are_reduced_for_analysis(tmp_path: Path, suffix: str) -> None:
    scan = load_for_analysis(write_image(tmp_path / f"big{suffix}", _page(2001, 1500)))
    assert scan.pixels.shape == (750, 1001, 3) and scan.file_size == (2001, 1500)
    small = load_for_analysis(write_image(tmp_path / f"small{suffix}", _page()))
    assert small.pixels.shape == (300, 400, 3) and small.file_size == (400, 300)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_viewing_reads_the_same_copies_as_the_single_loaders(tmp_path: Path, suffix: str) -> None:
    path = write_image(tmp_path / f"big{suffix}", _page(2001, 1500))
    full, analysis = load_for_viewing(path)
    assert np.array_equal(full, load_image(path))
    assert np.array_equal(analysis.pixels, load_for_analysis(path).pixels) and analysis.file_size == (2001, 1500)


def test_grayscale_16bit_and_rgba_are_converted(tmp_path: Path) -> None:
    gray16 = (cv2.cvtColor(_page(), cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257)
    assert load_image(write_image(tmp_path / "g16.png", gray16)).shape == (300, 400, 3)
    rgba = np.zeros((300, 400, 4), np.uint8)  # fully transparent -> white page
    assert load_image(write_image(tmp_path / "rgba.png", rgba)).min() == 255


def test_palette_png_and_cmyk_jpeg(tmp_path: Path) -> None:
    rgb = Image.fromarray(_page()[:, :, ::-1])
    rgb.convert("P").save(tmp_path / "palette.png")
    rgb.convert("CMYK").save(tmp_path / "cmyk.jpg")
    for name in ("palette.png", "cmyk.jpg"):
        image = load_image(tmp_path / name)
        assert image.shape == (300, 400, 3) and image[0, 0].min() > 200


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    Image.fromarray(_page(400, 300)[:, :, ::-1]).save(buffer, "JPEG", exif=exif)
    (tmp_path / "rotated.jpg").write_bytes(buffer.getvalue())
    assert load_image(tmp_path / "rotated.jpg").shape == (400, 300, 3)
    buffer = io.BytesIO()
    Image.fromarray(_page(2000, 1500)[:, :, ::-1]).save(buffer, "JPEG", exif=exif)
    (tmp_path / "rotated_big.jpg").write_bytes(buffer.getvalue())
    scan = load_for_analysis(tmp_path / "rotated_big.jpg")  # reduced while decoding, still upright
    assert scan.pixels.shape == (1000, 750, 3) and scan.file_size == (1500, 2000)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty"),
        ("text.jpg", b"this is not an image\n" * 20, "not a readable image"),
        ("page.html.jpg", b"<html><body>hello</body></html>", "not a readable image"),
        ("random.png", bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "not a readable image"),
        ("scan.pdf", b"%PDF-1.4\n%....\n", "PDF"),
    ],
)
def test_unreadable_files_raise_clear_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImageLoadError, match=message):
        load_image(tmp_path / name)


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = write_image(tmp_path / "full.jpg", _page(800, 600)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.jpg")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)


def test_tiny_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageSizeError, match="too small"):
        load_image(write_image(tmp_path / "tiny.png", np.zeros((1, 1, 3), np.uint8)))


def test_huge_image_is_refused_before_decoding(tmp_path: Path) -> None:
    """A 30000x30000 PNG (900 MP) compresses to a few hundred kB; it must be refused from its header."""
    path = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(path, optimize=True)
    assert path.stat().st_size < 2_000_000
    with pytest.raises(ImageSizeError, match="megapixel limit"):
        load_image(path)


def test_a_refusal_is_logged_by_error_type_without_the_file_name(tmp_path: Path, caplog) -> None:
    """The log says why a decoder refused a file (type and message) but never names it: a name is often a patient's."""
    data = write_image(tmp_path / "full.png", _page(800, 600)).read_bytes()
    (tmp_path / "Jane Doe.png").write_bytes(data[: len(data) // 2])  # OpenCV refuses it, then Pillow
    (tmp_path / "John Roe.jpg").write_bytes(b"this is a letter, not a scan\n" * 20)
    with caplog.at_level("WARNING", logger="ecg_desktop.core.loading.image_io"):
        with pytest.raises(ImageLoadError, match="corrupt or truncated"):
            load_image(tmp_path / "Jane Doe.png")
        with pytest.raises(ImageLoadError, match="not a readable image"):
            load_image(tmp_path / "John Roe.jpg")
    logged = [r.getMessage() for r in caplog.records if r.name == "ecg_desktop.core.loading.image_io"]
    assert len(logged) == 2, logged
    assert logged[0].startswith("PNG data not decoded: OSError: ")
    assert logged[1].startswith("image header not read: UnidentifiedImageError: ")
    assert not any(secret in line for line in logged for secret in ("Jane", "John", str(tmp_path)))


@pytest.mark.parametrize("decoder", ["header", "pixels"])
def test_a_bug_in_decoding_surfaces_instead_of_calling_the_file_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decoder: str
) -> None:
    path = write_image(tmp_path / "scan.png", _page())

    def broken(*args, **kwargs):
        raise TypeError("a programming error")

    if decoder == "header":
        monkeypatch.setattr(Image, "open", broken)
    else:
        monkeypatch.setattr(cv2, "imdecode", broken)
    with pytest.raises(TypeError, match="a programming error"):
        load_image(path)


def test_a_pillow_only_variant_still_decodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When OpenCV declines a file (returns nothing), Pillow decodes it."""
    path = write_image(tmp_path / "scan.png", _page())
    monkeypatch.setattr(cv2, "imdecode", lambda *args: None)
    image = load_image(path)
    assert image.shape == (300, 400, 3) and image[150, 200].max() < 80
