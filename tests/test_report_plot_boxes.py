"""The report's redrawn leads stay in their plot box, their labels stay legible, and the summary wraps file names
at path separators."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pypdfium2
import pytest
from reportlab.pdfgen.canvas import Canvas

from ecg_desktop.core.reports import report_pdf

FS, SCALE = 500, 4  # samples per second; pixels per point of the rendered page
LEADS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))


def digitization(values: dict[str, np.ndarray]) -> SimpleNamespace:
    """Three rows of four 2.5 s panels and a 10 s rhythm strip, with the samples ``values`` gives (else flat)."""
    panels = [SimpleNamespace(row=row, column=column, start_s=2.5 * column, lead=lead, fs=FS,
                              values_mv=values.get(lead, np.zeros(FS * 5 // 2)))
              for row, leads in enumerate(LEADS) for column, lead in enumerate(leads)]
    panels.append(SimpleNamespace(row=3, column=0, start_s=0.0, lead="II", fs=FS, values_mv=np.zeros(FS * 10)))
    return SimpleNamespace(panels=panels, time_s=np.arange(FS * 10) / FS, fs=FS)


def render(leads: report_pdf._Leads, tmp_path: Path, at: tuple[float, float]) -> np.ndarray:
    """The figure drawn at ``at`` (points) on an otherwise white page, as a grey image, SCALE pixels per point."""
    report_pdf._setup_reportlab()
    path = tmp_path / "leads.pdf"
    canvas = Canvas(str(path), pagesize=(600, 500))
    leads.wrap(0, 0)
    leads.drawOn(canvas, *at)
    canvas.save()
    page = pypdfium2.PdfDocument(str(path))[0]
    return np.asarray(page.render(scale=SCALE, grayscale=True).to_pil(), dtype=np.int16)


def inside(image: np.ndarray, at: tuple[float, float], leads: report_pdf._Leads, margin: float = 1.0) -> np.ndarray:
    """A mask of the figure's box on the page image (y from the top), ``margin`` points wider."""
    height = image.shape[0] / SCALE
    x0, x1 = (at[0] - margin) * SCALE, (at[0] + leads.width + margin) * SCALE
    y0, y1 = (height - at[1] - leads.height - margin) * SCALE, (height - at[1] + margin) * SCALE
    rows, columns = np.indices(image.shape)
    return (columns >= x0) & (columns <= x1) & (rows >= y0) & (rows <= y1)


def test_spikes_taller_than_the_page_stay_inside_the_plot_box(tmp_path: Path) -> None:
    spikes = np.zeros(FS * 5 // 2)
    spikes[100::400] = 40.0  # 40 mV R waves in the top row's V4, far above its row and the figure
    negative = -spikes  # and as deep in the bottom row's V6
    leads = report_pdf._Leads(digitization({"V4": spikes, "V6": negative}), 500, 200)
    at = (50, 150)
    image = render(leads, tmp_path, at)
    box = inside(image, at, leads)
    assert (image[box] < 128).any()  # the traces are drawn
    assert not (image[~box] < 250).any(), "ink outside the plot box"


def test_lead_labels_are_not_covered_by_a_trace(tmp_path: Path) -> None:
    """A trace running right through the V2 and V3 labels leaves them as they are over a flat trace."""
    leads = report_pdf._Leads(digitization({}), 500, 200)
    per_mv = leads._per_s * leads._MV_PER_S
    through = np.full(FS * 5 // 2, 0.35 * leads._ROW_MV + 1.5 / per_mv)  # at the label's mid-height, in mV
    crossed = report_pdf._Leads(digitization({"V2": through, "V3": through}), 500, 200)
    at = (50, 150)
    flat, over = render(leads, tmp_path, at), render(crossed, tmp_path, at)
    assert (np.abs(flat - over) > 60).sum() > 1000  # the traces do differ
    height = flat.shape[0] / SCALE
    for row, lead in ((1, "V2"), (2, "V3")):
        x = at[0] + 2.5 * 2 * leads._per_s + 2
        baseline = leads.height - (row + leads._ABOVE) * leads._ROW_MV * per_mv
        y = at[1] + baseline + 0.35 * leads._ROW_MV * per_mv  # the label's text baseline, in points from the bottom
        width = report_pdf.pdfmetrics.stringWidth(lead, report_pdf._BOLD, 7)
        top, bottom = round((height - y - 5) * SCALE), round((height - y) * SCALE)
        left, right = round(x * SCALE), round((x + width) * SCALE)
        assert np.abs(flat[top:bottom, left:right] - over[top:bottom, left:right]).max() < 40, lead


@pytest.mark.parametrize("name", ["ward 3/sub/Normal(103).jpg", "clinic/2026/december/patient-scans/MI(12).jpg"])
def test_summary_names_wrap_at_path_separators(name: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from ecg_desktop.core.classify.manifest import load_manifest
    from ecg_desktop.core.resources import models_dir

    out = report_pdf.write_batch_summary(tmp_path / "summary.pdf", rows=[(name, None, "Could not be read.")],
                                         manifest=load_manifest(models_dir()))
    lines = PdfReader(out).pages[0].extract_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(name.split("/")[0]))
    cell = [lines[start]]
    while len("".join(cell)) < len(name) and start + len(cell) < len(lines):
        cell.append(lines[start + len(cell)])
    assert "".join(cell) == name, cell  # the whole name, in order, no folder or file name cut
    assert len(cell) >= 2 and all(line.endswith("/") for line in cell[:-1]), cell  # broken after separators only
