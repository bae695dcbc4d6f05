"""PDF output: a one-page report per scan and a multi-page batch summary (reportlab only, no Qt)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import cv2
import numpy as np
from reportlab import rl_config
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepInFrame, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ecg_desktop.core import palette
from ecg_desktop.core.classify.heat_overlay import (
    LEGEND_NOTE,
    LEGEND_TICKS,
    LEGEND_TITLE,
    SCALE_MAX,
    blend_over_crop,
    legend_bar,
)
from ecg_desktop.core.classify.manifest import Manifest
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.classify.result_text import other_findings, other_findings_text, report_region_sentence
from ecg_desktop.core.classify.saliency import Saliency, saliency_line
from ecg_desktop.core.errors import ReportWriteError
from ecg_desktop.core.loading.pdf_pages import REPORT_CREATOR
from ecg_desktop.core.notices import ATTRIBUTION, DISCLAIMER
from ecg_desktop.core.outcome import NOT_ASSESSABLE, format_percent
from ecg_desktop.core.outputs import give_file_mode
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.signals.measurement_text import (
    MEASUREMENTS_NOTE,
    MEASUREMENTS_TITLE,
    measurement_lines,
    not_digitized,
)
from ecg_desktop.core.signals.signal_reading import SignalReading

if TYPE_CHECKING:  # only the type (see core.signals.signal_reading)
    from ecg_desktop.core.signals.digitize import Digitization

PAGE_SIZES = {"A4": A4, "LETTER": LETTER}
BatchRow = tuple[str, Classification | None, str | None]  # file name, result, error message

_MAX_SCAN_SIDE = 1400  # pixels of the embedded JPEG: about 190 dpi across an A4 page
_JPEG_QUALITY = 75
_LEADS_CAPTION = (
    "The 12 leads redrawn from the digitized signals: three rows of four leads (2.5 s each, at the same times) "
    "and the rhythm strip (10 s). Grid: 0.2 s by 0.5 mV per large square."
)
_GRID_MINOR, _GRID_MAJOR = colors.HexColor("#fbe4e4"), colors.HexColor("#f2b8b8")
_MARGIN = 15 * mm
_FOOTER = 18 * mm
_FONT, _BOLD = "EcgDeskSans", "EcgDeskSans-Bold"
_ACCENT = colors.HexColor(palette.ACCENT)
_MUTED = colors.HexColor(palette.MUTED)
_ALARM = colors.HexColor(palette.ALARM)

_BODY = ParagraphStyle("body", fontName=_FONT, fontSize=9, leading=11.5)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=7, leading=8.8)
_LABEL = ParagraphStyle("label", parent=_BODY, fontName=_BOLD, fontSize=7.5, textColor=_MUTED)
_HEADING = ParagraphStyle("heading", parent=_BODY, fontName=_BOLD, fontSize=10, spaceBefore=7, spaceAfter=3)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName=_BOLD, fontSize=15, leading=19, spaceAfter=6)
_RESULT = ParagraphStyle("result", parent=_BODY, fontName=_BOLD, fontSize=16, leading=20, textColor=_ACCENT)
_ALERT = ParagraphStyle(
    "alert", parent=_BODY, fontName=_BOLD, textColor=colors.white, backColor=_ALARM, borderPadding=3, spaceBefore=6
)
_NO_RESULT = ParagraphStyle("no result", parent=_RESULT, textColor=_ALARM)
_STRONG = ParagraphStyle("strong", parent=_BODY, fontName=_BOLD)
_FAILED = ParagraphStyle("failed", parent=_STRONG, textColor=_ALARM)
_CELL = ParagraphStyle("cell", parent=_BODY, splitLongWords=0)  # "(low confidence)" wraps at its space, never mid-word
_MONO = ParagraphStyle("mono", parent=_SMALL, fontName="Courier")


@dataclass(frozen=True)
class PatientInfo:
    """Patient details typed by the user (optional; never read from the image)."""

    patient_id: str = ""
    name: str = ""
    date_of_birth: str = ""


@dataclass(frozen=True)
class ReportOptions:
    """Report settings: facility name, page size ("A4" or "Letter") and acquisition date."""

    facility: str = ""
    page_size: str = "A4"
    acquisition_date: str = ""


def write_report(
    path: str | Path,
    *,
    image: np.ndarray,
    result: Classification,
    manifest: Manifest,
    source_name: str,
    patient: PatientInfo = PatientInfo(),
    options: ReportOptions = ReportOptions(),
    saliency: Saliency | None = None,
    signals: SignalReading | None = None,
) -> Path:
    """Write the one-page PDF report for one classified scan atomically; returns the path written.

    The scan is always shown clean (never tinted), so it prints legibly in black and white. With
    ``saliency`` (computed for ``result.crop``) the report also names the lead panels that drove the result
    and shows the map as a separate small figure of the classified region, with its colour legend. A scan that is not assessable gets
    "Not assessable by this model" and the reasons instead of a result: no class, no bars, no saliency.
    With ``signals`` (the digitizer's reading of the scan) it also gives the measurements and the 12 leads
    redrawn from the signals, or the sentence saying why the scan could not be digitized.
    """

    def story(doc: SimpleDocTemplate) -> list[Flowable]:
        width, height = doc.width - 12, doc.height - 12  # inside the frame's 6 pt padding
        content = _report_story(image, result, manifest, source_name, patient, options, width, height, saliency,
                                signals)
        return [KeepInFrame(width, height, content, mode="shrink")]  # shrinks rather than spill onto a second page

    return _write_pdf(path, options, f"ECG report: {source_name}", story)


def write_batch_summary(
    path: str | Path,
    *,
    rows: Sequence[BatchRow],
    manifest: Manifest,
    options: ReportOptions = ReportOptions(),
) -> Path:
    """Write a PDF table of (file name, result or None, error or None) rows atomically; returns the path written."""
    return _write_pdf(
        path, options, "ECG batch summary", lambda doc: _batch_story(rows, manifest, options, doc.width - 12)
    )


def _report_story(
    image: np.ndarray,
    result: Classification,
    manifest: Manifest,
    source_name: str,
    patient: PatientInfo,
    options: ReportOptions,
    width: float,
    height: float,
    saliency: Saliency | None = None,
    signals: SignalReading | None = None,
) -> list[Flowable]:
    saliency = saliency if result.assessable else None  # a heat map would explain a non-answer
    drawn = signals is not None and signals.digitization is not None
    scan_height = (0.4 - (0.06 if saliency is not None else 0.0) - (0.16 if drawn else 0.0)) * height
    image = result.upright(image)  # the page as classified: turned, deskewed or rectified like the crop
    crop = result.crop_in(image)  # the image may be the reduced copy that was classified
    story: list[Flowable] = [
        _p("ECG classification report", _TITLE),
        _form(
            [
                ("Facility", options.facility), ("Report created", _now()),
                ("Patient ID", patient.patient_id), ("Acquisition date", options.acquisition_date),
                ("Name", patient.name), ("Source file", source_name),
                ("Date of birth", patient.date_of_birth), ("Model version", manifest.model_version),
            ],
            width,
        ),
        Spacer(1, 8),
        _Scan(image, crop, width, scan_height),
        _p(report_region_sentence(result, (image.shape[1], image.shape[0])), _SMALL),
        Spacer(1, 6),
        *(_diagnosis(result, manifest, width, saliency) if result.assessable
          else _not_assessable(result, manifest, signals_shown=signals is not None)),
    ]
    if saliency is not None:
        story += _saliency_figure(image, crop, saliency, width, 0.2 * height)
    if signals is not None:
        story += _signals_block(signals, width, 0.3 * height)
    story += [_p("Warnings", _HEADING)]
    story += [_p(f"\u2022 {w}", _BODY) for w in result.warnings] or [_p("None.", _BODY)]
    story += [
        _p("Model", _HEADING),
        _p(f"{manifest.raw.get('model_name', 'ECG Desk model')}, version {manifest.model_version}", _SMALL),
    ]
    story += [_p(f"sha256 {role} ({manifest.files[role].name}): {sha}", _MONO) for role, sha in manifest.sha256.items()]
    return story


def _diagnosis(
    result: Classification, manifest: Manifest, width: float, saliency: Saliency | None
) -> list[Flowable]:
    """The result of an assessable scan: top class, other findings, saliency, low confidence, the bars."""
    story = [
        _p(f"Result: {result.headline(manifest)} ({format_percent(result.top_probability)})", _RESULT),
        _p(other_findings_text(result, manifest), _BODY),
    ]
    if saliency is not None:
        story.append(_p(saliency_line(saliency), _BODY))
    if result.low_confidence:
        story.append(
            _p("Low confidence: the model is unsure about this scan; treat the result with extra caution.", _ALERT)
        )
    return [*story, _p("Class probabilities", _HEADING), _bar_chart(result, manifest, width)]


def _saliency_figure(
    image: np.ndarray, crop: CropBox, saliency: Saliency, width: float, height: float
) -> list[Flowable]:
    """The map over the classified region only, small, beside its legend (fixed scale) and the leads' values."""
    box = crop.clamped(image.shape[1], image.shape[0])
    region = blend_over_crop(image, crop, saliency.heatmap)[box.y0 : box.y1, box.x0 : box.x1]
    figure = _Scan(region, CropBox(0, 0, box.width, box.height), 0.5 * width, height, outline=False)
    notes = [_p(LEGEND_TITLE, _LABEL), _Legend(0.42 * width), _p(LEGEND_NOTE, _SMALL)]
    table = Table([[figure, notes]], colWidths=[0.52 * width, 0.48 * width])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    return [_p("Where the model looked (saliency map of the classified region)", _HEADING), table]


def _signals_block(signals: SignalReading, width: float, height: float) -> list[Flowable]:
    """The measurements, the digitizer's warnings and the leads redrawn, or why the scan could not be digitized."""
    story = [_p(MEASUREMENTS_TITLE, _HEADING)]
    if signals.digitization is None:
        return [*story, _p(not_digitized(signals.error or ""), _BODY)]
    lines = measurement_lines(signals.measurements)
    table = Table([[_p(label, _LABEL) for label, _ in lines], [_p(value, _STRONG) for _, value in lines]],
                  colWidths=width / len(lines))
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (0, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [table, *(_p(f"\u2022 {w}", _SMALL) for w in signals.warnings), _p(MEASUREMENTS_NOTE, _SMALL),
              Spacer(1, 4), _Leads(signals.digitization, width, height), _p(_LEADS_CAPTION, _SMALL)]
    return story


def _not_assessable(result: Classification, manifest: Manifest, *, signals_shown: bool) -> list[Flowable]:
    """No result: the headline and each reason, and no class or probability at all."""
    return [
        _p(f"Result: {result.headline(manifest, signals_shown=signals_shown)}", _NO_RESULT),
        _p("No diagnosis is given for this scan, because:", _BODY),
        *(_p(f"\u2022 {reason.message}", _BODY) for reason in result.reasons),
    ]


def _batch_story(rows: Sequence[BatchRow], manifest: Manifest, options: ReportOptions, width: float) -> list[Flowable]:
    counts = Counter(result.label for _, result, _ in rows if result is not None)  # label None: not assessable
    failed = sum(result is None for _, result, _ in rows)
    heads = [c.name for c in manifest.classes] + [NOT_ASSESSABLE, "Failed", "Total"]
    values = [counts[c.id] for c in manifest.classes] + [counts[None], failed, len(rows)]
    counts_row = [_p(str(v), _HEADING) for v in values]
    tally = Table([[_p(h, _LABEL) for h in heads], counts_row], colWidths=width / len(heads))
    header = [_p(h, _LABEL) for h in ("File", "Result", "Probability", "Other findings", "Reasons / warnings / error")]
    widths = [width * f for f in (0.21, 0.17, 0.15, 0.15, 0.32)]
    name_width = widths[0] - 12  # inside the cell's 6 pt paddings
    table = LongTable(
        [header] + [_batch_row(name, result, error, manifest, name_width) for name, result, error in rows],
        colWidths=widths,
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.lightgrey),
            ]
        )
    )
    return [
        _p("ECG batch summary", _TITLE),
        _form(
            [
                ("Facility", options.facility), ("Report created", _now()),
                ("Acquisition date", options.acquisition_date), ("Model version", manifest.model_version),
            ],
            width,
        ),
        Spacer(1, 8),
        tally,
        Spacer(1, 8),
        table,
    ]


def _batch_row(
    name: str, result: Classification | None, error: str | None, manifest: Manifest, name_width: float
) -> list[Flowable]:
    """One file's row of the summary table; its name (a path below the scans folder) wraps at its separators."""
    shown = _path_paragraph(name, _BODY, name_width)
    if result is None:
        cells = [("Failed", _FAILED), ("-", _BODY), ("", _BODY), (error or "Not classified.", _BODY)]
        return [shown, *(_p(text, style) for text, style in cells)]
    notes = " ".join([*result.notes, *([error] if error else [])])  # sentences, each ending with a full stop
    if not result.assessable:
        cells = [(NOT_ASSESSABLE, _STRONG), ("-", _BODY), ("", _BODY), (notes, _BODY)]
        return [shown, *(_p(text, style) for text, style in cells)]
    others = ", ".join(other_findings(result, manifest))
    return [
        shown,
        _p(result.headline(manifest), _STRONG),
        _p(format_percent(result.top_probability) + (" (low confidence)" if result.low_confidence else ""), _CELL),
        _p(others, _BODY),
        _p(notes, _BODY),
    ]


class _Scan(Flowable):
    """The scan as a downscaled embedded JPEG with the classified region outlined (``outline``)."""

    def __init__(
        self, image: np.ndarray, crop: CropBox, max_width: float, max_height: float, *, outline: bool = True
    ) -> None:
        super().__init__()
        self.hAlign = "CENTER" if outline else "LEFT"
        self._outline = outline
        height, width = image.shape[:2]
        shrink = min(1.0, _MAX_SCAN_SIDE / max(height, width))
        if shrink < 1.0:
            size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        self._jpeg = ImageReader(io.BytesIO(jpeg.tobytes()))
        fit = min(max_width / width, max_height / height)
        self.width, self.height = width * fit, height * fit
        self._box = (crop.x0 * fit, self.height - crop.y1 * fit, crop.width * fit, crop.height * fit)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self._jpeg, 0, 0, self.width, self.height)
        if not self._outline:
            return
        self.canv.setStrokeColor(_ACCENT)
        self.canv.setLineWidth(1.5)
        self.canv.rect(*self._box, stroke=1, fill=0)


class _Leads(Flowable):
    """The digitized panels (3 rows of 4 leads and the rhythm strip) drawn with lines on a light ECG grid, labelled.

    Time and voltage keep the paper's proportions (25 mm/s and 10 mm/mV): 0.4 s of width per mV of height.
    """

    _ROW_MV = 2.5  # height of each row in mV (tall waves may reach into the next row, as on paper)
    _ABOVE = 0.55  # share of a row above its baseline
    _MV_PER_S = 0.4

    def __init__(self, digitization: Digitization, max_width: float, max_height: float) -> None:
        super().__init__()
        self.hAlign = "CENTER"
        self._dig = digitization
        self._rows = 1 + max(panel.row for panel in digitization.panels)
        self._seconds = float(digitization.time_s[-1] + 1 / digitization.fs)
        height_s = self._rows * self._ROW_MV * self._MV_PER_S  # the figure's height in seconds of width
        self._per_s = min(max_width / self._seconds, max_height / height_s)
        self.width, self.height = self._seconds * self._per_s, height_s * self._per_s

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas, per_mv = self.canv, self._per_s * self._MV_PER_S
        self._grid(canvas)
        canvas.saveState()
        frame = canvas.beginPath()
        frame.rect(0, 0, self.width, self.height)
        canvas.clipPath(frame, stroke=0, fill=0)  # a spike taller than its row stops at the plot's edge
        labels = []
        for panel in self._dig.panels:
            baseline = self.height - (panel.row + self._ABOVE) * self._ROW_MV * per_mv
            x0 = panel.start_s * self._per_s
            labels.append((x0 + 2, baseline + 0.35 * self._ROW_MV * per_mv, panel.lead))
            if panel.column:  # where one lead ends and the next begins
                canvas.setStrokeColor(colors.black)
                canvas.setLineWidth(0.6)
                canvas.line(x0, baseline - 0.25 * per_mv, x0, baseline + 0.25 * per_mv)
            xs = x0 + np.arange(panel.values_mv.size) / panel.fs * self._per_s
            ys = baseline + panel.values_mv.astype(np.float64) * per_mv
            self._trace(canvas, xs, ys)
        canvas.restoreState()
        for x, y, lead in labels:
            self._label(canvas, x, y, lead)

    @staticmethod
    def _label(canvas: Canvas, x: float, y: float, text: str) -> None:
        """A lead's name on a white tag above the traces, so a trace running through it never hides it."""
        size = 7
        width = pdfmetrics.stringWidth(text, _BOLD, size)
        canvas.setFillColor(colors.white)
        canvas.setStrokeColor(colors.white)
        canvas.rect(x - 1.5, y - 1.8, width + 3, size + 1.6, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        canvas.setFont(_BOLD, size)
        canvas.drawString(x, y, text)

    def _grid(self, canvas: Canvas) -> None:
        """Minor lines every 0.04 s / 0.1 mV, major every 0.2 s / 0.5 mV, from the top left corner."""
        step = 0.04 * self._per_s
        canvas.setLineWidth(0.25)
        for major in (False, True):
            canvas.setStrokeColor(_GRID_MAJOR if major else _GRID_MINOR)
            every = 5 if major else 1
            for i in range(0, int(self.width / step + 1e-6) + 1, every):
                canvas.line(i * step, 0, i * step, self.height)
            for i in range(0, int(self.height / step + 1e-6) + 1, every):
                canvas.line(0, self.height - i * step, self.width, self.height - i * step)

    @staticmethod
    def _trace(canvas: Canvas, xs: np.ndarray, ys: np.ndarray) -> None:
        """One panel's samples as lines, broken where no trace was found (NaN)."""
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.5)
        canvas.setLineJoin(1)
        path, drawing = canvas.beginPath(), False
        for x, y in zip(xs.tolist(), ys.tolist()):
            if math.isnan(y):
                drawing = False
            elif drawing:
                path.lineTo(x, y)
            else:
                path.moveTo(x, y)
                drawing = True
        canvas.drawPath(path, stroke=1, fill=0)


class _Legend(Flowable):
    """The heat map's colour bar from 0 to SCALE_MAX, with the tick labels of heat_overlay.LEGEND_TICKS."""

    _BAR = 9

    def __init__(self, width: float) -> None:
        super().__init__()
        self.width, self.height = width, self._BAR + 12
        _, png = cv2.imencode(".png", legend_bar(256, 8))
        self._image = ImageReader(io.BytesIO(png.tobytes()))

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas, bar_width = self.canv, self.width - 30  # room for the last label
        canvas.drawImage(self._image, 0, 12, bar_width, self._BAR)
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.5)
        canvas.rect(0, 12, bar_width, self._BAR, stroke=1, fill=0)
        canvas.setFont(_FONT, 7)
        canvas.setFillColor(colors.black)
        for value, label in LEGEND_TICKS:
            x = bar_width * value / SCALE_MAX
            canvas.line(x, 10, x, 12)
            anchor = canvas.drawString if value == 0 else canvas.drawCentredString
            anchor(x, 3, label)


def _bar_chart(result: Classification, manifest: Manifest, width: float) -> Drawing:
    """Horizontal bars of the class probabilities in manifest order, the top class highlighted."""
    row, value_width = 15, 40
    label_width = max(pdfmetrics.stringWidth(c.name, _BOLD, 9) for c in manifest.classes) + 10
    bar_width = width - label_width - value_width
    drawing = Drawing(width, row * len(manifest.classes))
    for index, info in enumerate(manifest.classes):
        probability = result.probabilities.get(info.id, 0.0)
        is_top = info.id == result.label
        font, y = (_BOLD if is_top else _FONT), drawing.height - (index + 1) * row + 3
        drawing.add(String(0, y + 1, info.name, fontName=font, fontSize=9))
        drawing.add(Rect(label_width, y, bar_width, row - 5, fillColor=colors.HexColor("#e8ecf2"), strokeColor=None))
        filled = bar_width * min(max(probability, 0.0), 1.0)
        drawing.add(Rect(label_width, y, filled, row - 5, fillColor=_ACCENT if is_top else _MUTED, strokeColor=None))
        drawing.add(String(width, y + 1, format_percent(probability), fontName=font, fontSize=9, textAnchor="end"))
    return drawing


def _form(fields: Sequence[tuple[str, str]], width: float) -> Table:
    """Label/value pairs, two per row, each value on a ruled line that stays blank when empty."""
    cells = [[_p(label, _LABEL), _p(value, _BODY)] for label, value in fields]
    table = Table(
        [[*cells[i], *cells[i + 1]] for i in range(0, len(cells), 2)],
        colWidths=[width * f for f in (0.17, 0.33, 0.17, 0.33)],
    )
    table.setStyle(
        TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, -1), 0)]
            + [("LINEBELOW", (c, r), (c, r), 0.5, colors.grey) for r in range(len(cells) // 2) for c in (1, 3)]
        )
    )
    return table


def _path_paragraph(name: str, style: ParagraphStyle, width: float) -> Paragraph:
    """``name`` (e.g. ``ward 3/sub/Normal(103).jpg``) in lines of at most ``width`` points, broken after a path
    separator or at a space, never inside a folder's or a file's name unless that name alone is wider."""
    lines: list[str] = []
    for part in re.split(r"(?<=[/\\ ])", name):
        if lines and pdfmetrics.stringWidth(lines[-1] + part, style.fontName, style.fontSize) <= width:
            lines[-1] += part
        else:
            lines.append(part)
    return Paragraph("<br/>".join(escape(line.rstrip(" ")) for line in lines if line), style)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (XML special characters escaped)."""
    return Paragraph(escape(text), style)


def _now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M (UTC%z)")


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    """The disclaimer, data attribution and page number at the bottom of every page."""
    text = Paragraph(
        f"<b>{escape(DISCLAIMER)}</b><br/>Model trained on the {escape(ATTRIBUTION)}.<br/>Page {doc.page}",
        _SMALL.clone("footer", leading=9),
    )
    text.wrap(doc.width - 12, _FOOTER)
    canvas.saveState()
    canvas.setStrokeColor(colors.grey)
    left, top = doc.leftMargin + 6, _MARGIN + _FOOTER - 4  # aligned with the frame's 6 pt padding
    canvas.line(left, top, left + doc.width - 12, top)
    text.drawOn(canvas, left, top - 4 - text.height)
    canvas.restoreState()


@cache
def _setup_reportlab() -> None:
    """Register Bitstream Vera (ships with reportlab, covers Latin-1) and store streams in binary, not ASCII85."""
    rl_config.useA85 = 0  # ASCII85 would make the embedded JPEG 25% larger
    pdfmetrics.registerFont(TTFont(_FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_BOLD, italic=_FONT, boldItalic=_BOLD)


def _write_pdf(
    path: str | Path, options: ReportOptions, title: str, story: Callable[[SimpleDocTemplate], list[Flowable]]
) -> Path:
    """Build the PDF into a ``.part`` file beside ``path``, fsync it, then atomically replace ``path``."""
    page_size = PAGE_SIZES.get(options.page_size.upper())
    if page_size is None:
        raise ValueError(f"Unknown page size {options.page_size!r}; use one of: A4, Letter.")
    _setup_reportlab()
    target, part = Path(path), None
    try:
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.stem}.", suffix=".part", delete=False
        ) as stream:
            part = Path(stream.name)
            doc = SimpleDocTemplate(
                stream, pagesize=page_size, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                bottomMargin=_MARGIN + _FOOTER, title=title, author=options.facility or "ECG Desk", creator=REPORT_CREATOR,
            )
            doc.build(story(doc), onFirstPage=_footer, onLaterPages=_footer)
            stream.flush()
            os.fsync(stream.fileno())
        give_file_mode(part)  # the mode a new file gets, as results.csv (the temporary file's is 0600)
        os.replace(part, target)
    except BaseException as exc:
        if part is not None:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ReportWriteError(
                f"The report cannot be saved as {target}: {exc.strerror or exc}. Check that the folder exists and is "
                "writable, that the disk is not full and that the file is not open in another program."
            ) from exc
        raise
    return target
