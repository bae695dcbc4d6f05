"""Write the bundled synthetic sample scans to ``resources/samples/*.png``.

Run from the repository root: ``.venv/bin/python resources/make_samples.py``.
The images are illustrative only (see ``ecg_desktop.testing.synthetic``), not real patients.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_desktop.testing.synthetic import render_printout

# name: (kind, heart rate, seed, patient id, date)
SAMPLES = {
    "sample_normal": ("normal", 72, 1, "100001", "2026-01-01  09:12:40 AM"),
    "sample_st_elevation": ("st_elevation", 88, 2, "100002", "2026-01-01  10:31:05 AM"),
    "sample_irregular": ("irregular", 96, 3, "100003", "2026-01-01  11:47:22 AM"),
}


def main() -> None:
    out_dir = ROOT / "resources" / "samples"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (kind, heart_rate, seed, patient_id, date_text) in SAMPLES.items():
        start = time.perf_counter()
        image = render_printout(kind=kind, heart_rate=heart_rate, seed=seed, patient_id=patient_id, date_text=date_text)
        elapsed = time.perf_counter() - start
        path = out_dir / f"{name}.png"
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"could not write {path}")
        print(f"{path.relative_to(ROOT)}: {image.shape[1]}x{image.shape[0]}, "
              f"{path.stat().st_size / 1e6:.2f} MB, rendered in {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
