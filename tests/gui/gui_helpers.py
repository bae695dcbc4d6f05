"""Scan files for the GUI tests: synthetic printouts and corrupt files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

KINDS = ("normal", "st_elevation", "irregular")


def render_scan(path: Path, *, kind: str = "normal", seed: int = 0, width: int = 1106) -> Path:
    """A synthetic printout saved at ``path`` (format from the suffix)."""
    from ecg_desktop.testing.synthetic import render_printout

    image = render_printout(kind=kind, seed=seed, width=width, height=round(width * 1572 / 2213))
    ok, data = cv2.imencode(path.suffix, image, [cv2.IMWRITE_JPEG_QUALITY, 90] if path.suffix == ".jpg" else [])
    assert ok
    path.write_bytes(data.tobytes())
    return path


def write_scans(folder: Path, count: int) -> list[Path]:
    """``count`` half-size synthetic JPEG scans in ``folder`` (the size of the real dataset copies)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [render_scan(folder / f"scan_{i:03d}.jpg", kind=KINDS[i % 3], seed=i) for i in range(count)]


def write_corrupt(path: Path) -> Path:
    """A .jpg of random bytes."""
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    return path
