"""A headless end-to-end check of an installation: models verified, samples classified, a PDF written."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ecg_desktop.core import resources
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.reports.report_pdf import write_report


def run_self_test(log=print) -> None:
    """Raise EcgDeskError with the reason on the first failure; log one line per passed step."""
    started = time.perf_counter()
    model = EcgModel.load()
    log(f"models verified: {model.manifest.directory} (version {model.version}, "
        f"{len(model.manifest.classes)} classes)")
    samples = resources.sample_scans()
    if not samples:
        raise EcgDeskError(f"no sample scans found in {resources.resources_dir() / 'samples'}")
    for sample in samples:
        result = model.classify_file(sample)
        total = sum(result.probabilities.values())
        if abs(total - 1.0) > 1e-3:
            raise EcgDeskError(f"{sample.name}: probabilities sum to {total:.4f}, not 1")
        log(f"classified {sample.name}: {model.manifest.display_name(result.label)} "
            f"({result.probabilities[result.label]:.2f})")
    with tempfile.TemporaryDirectory(prefix="ecg-desk-self-test-") as folder:
        pdf = Path(folder) / "report.pdf"
        write_report(pdf, image=load_image(samples[0]), result=model.classify_file(samples[0]),
                     manifest=model.manifest, source_name=samples[0].name)
        if pdf.stat().st_size < 1000:
            raise EcgDeskError(f"the PDF report is only {pdf.stat().st_size} bytes")
        log(f"PDF report written ({pdf.stat().st_size // 1024} KB)")
    log(f"self-test passed in {time.perf_counter() - started:.2f} s")
