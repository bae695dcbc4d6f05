"""The result panel: top class and probability, one bar per manifest class, findings, the digitized traces'
measurements, warnings, model version.

A scan that is not assessable shows the core's headline ("Not assessable by this model") and its reasons
instead: no class, no probability, no bars.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ecg_desktop.core.classify.heat_overlay import LEGEND_TICKS, LEGEND_TITLE, legend_bar
from ecg_desktop.core.classify.manifest import Manifest
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.classify.result_text import crop_text, findings_text, region_name
from ecg_desktop.core.notices import DISCLAIMER, DISCLAIMER_SHORT
from ecg_desktop.core.outcome import format_percent
from ecg_desktop.core.signals.measurement_text import (
    MEASUREMENT_LABELS,
    MEASUREMENTS_NOTE,
    measurement_lines,
    not_digitized,
)
from ecg_desktop.core.signals.signal_reading import SignalReading
from ecg_desktop.gui.qimage import bgr_to_qimage

BAR_STEPS = 1000


class ResultPanel(QWidget):
    """Shows one Classification, or why there is none (no scan, working, error).

    The result scrolls; the "Decision support only" notice sits below the scroll area, always in view.
    """

    def __init__(self, manifest: Manifest | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manifest = manifest
        self.shown: Classification | None = None
        self.setObjectName("resultPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        body = QWidget(objectName="resultBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(6)
        self._add_head(layout)
        layout.addSpacing(8)
        self._add_bars(layout)
        layout.addSpacing(8)
        self._add_details(layout)
        layout.addStretch(1)
        self.version_label = _label(_version_text(manifest), "detail", wrap=True)
        layout.addWidget(self.version_label)

        self.scroll_area = QScrollArea(objectName="resultScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(body)
        self.disclaimer_label = _label(DISCLAIMER_SHORT, "disclaimer", wrap=True)
        self.disclaimer_label.setToolTip(DISCLAIMER)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll_area, 1)
        notice = QVBoxLayout()
        notice.setContentsMargins(20, 8, 20, 12)
        notice.addWidget(self.disclaimer_label)
        outer.addLayout(notice)
        self._set_warnings(())

    def _add_head(self, layout: QVBoxLayout) -> None:
        """The file shown, then the answer: headline, reasons, probability, low confidence, what is happening."""
        self.source_label = _label("", "source", wrap=True)
        self.source_label.hide()
        layout.addWidget(self.source_label)
        self.caption = _label("RESULT", "caption")
        self.top_label = _label("No scan open", "topLabel", wrap=True)
        self.top_label.setProperty("muted", True)
        self.probability_label = _label("", "probability")
        self.probability_label.hide()
        self.low_confidence_label = _label("Low confidence", "lowConfidence")
        self.low_confidence_label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.low_confidence_label.hide()
        self.status_label = _label(
            "Open an ECG scan with File ▸ Open (Ctrl+O) or drop a file on the window.", "status", wrap=True
        )
        self.reasons_label = _label("", "reasons", wrap=True)
        self.reasons_label.hide()
        for widget in (
            self.caption, self.top_label, self.reasons_label, self.probability_label, self.low_confidence_label,
            self.status_label,
        ):
            layout.addWidget(widget)

    def _add_bars(self, layout: QVBoxLayout) -> None:
        """One labelled bar per class of the manifest (none without a model)."""
        self.bars_caption = _label("CLASS PROBABILITIES", "caption")
        self.bars_caption.setVisible(self.manifest is not None)
        layout.addWidget(self.bars_caption)
        self.bars: dict[str, QProgressBar] = {}
        self.bar_names: dict[str, QLabel] = {}
        self.percent_labels: dict[str, QLabel] = {}
        for info in self.manifest.classes if self.manifest else ():
            name, percent = _label(info.name, "className"), _label("–", "classPercent")
            percent.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row = QHBoxLayout()
            row.setContentsMargins(0, 4, 0, 0)
            row.addWidget(name, 1)
            row.addWidget(percent)
            bar = QProgressBar(objectName="classBar", minimum=0, maximum=BAR_STEPS, value=0, textVisible=False)
            bar.setFormat("–")
            bar.setFixedHeight(8)
            layout.addLayout(row)
            layout.addWidget(bar)
            self.bars[info.id], self.bar_names[info.id], self.percent_labels[info.id] = bar, name, percent

    def _add_details(self, layout: QVBoxLayout) -> None:
        """Findings, saliency (with its legend), warnings and the classified region."""
        layout.addWidget(_label("FINDINGS", "caption"))
        self.findings_label = _label("–", "findings", wrap=True)
        layout.addWidget(self.findings_label)
        layout.addSpacing(4)
        self.saliency_caption = _label("SALIENCY", "caption")
        self.saliency_label = _label("", "saliency", wrap=True)
        self.saliency_legend = SaliencyLegend()
        layout.addWidget(self.saliency_caption)
        layout.addWidget(self.saliency_label)
        layout.addWidget(self.saliency_legend)
        self.show_saliency(None)
        self._add_measurements(layout)
        self.warnings_caption = _label("WARNINGS", "caption")
        self.warnings_label = _label("", "warnings", wrap=True)
        layout.addWidget(self.warnings_caption)
        layout.addWidget(self.warnings_label)
        layout.addSpacing(4)
        self.region_caption = _label(region_name(None).upper(), "caption")
        layout.addWidget(self.region_caption)
        self.crop_label = _label("–", "detail", wrap=True)
        layout.addWidget(self.crop_label)

    def _add_measurements(self, layout: QVBoxLayout) -> None:
        """The digitized traces' measurements, two per row, the digitizer's warnings and what they are worth."""
        self.measurements_caption = _label("MEASUREMENTS", "caption")
        self.measurements_status = _label("", "measurementsStatus", wrap=True)
        self.measurements_grid = QWidget(objectName="measurementsGrid")
        grid = QGridLayout(self.measurements_grid)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.measurement_values: dict[str, QLabel] = {}
        for index, name in enumerate(MEASUREMENT_LABELS):
            row, column = divmod(index, 2)
            value = _label("–", "measurementValue")
            grid.addWidget(_label(name, "className"), row, 2 * column)
            grid.addWidget(value, row, 2 * column + 1)
            self.measurement_values[name] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.measurements_warnings = _label("", "warnings", wrap=True)
        self.measurements_note = _label(MEASUREMENTS_NOTE, "detail", wrap=True)
        for widget in (self.measurements_caption, self.measurements_status, self.measurements_grid,
                       self.measurements_warnings, self.measurements_note):
            layout.addWidget(widget)
        self.show_signals(None)

    # -- states ------------------------------------------------------------------------------------
    def set_source(self, text: str) -> None:
        """The scan the panel is about (file name and size), shown above the result."""
        self.source_label.setText(text)
        self.source_label.setVisible(bool(text))

    def show_message(self, title: str, text: str, *, error: bool = False) -> None:
        """No result to show: a title (e.g. 'No scan open') and an explanation."""
        self.shown = None
        self._set_headline(title, "error" if error else "muted")
        self.probability_label.setText("")
        self.probability_label.hide()
        self.low_confidence_label.hide()
        self.status_label.setText(text)
        self.status_label.show()
        self._set_bars(None, None)
        self.findings_label.setText("–")
        self.crop_label.setText("–")
        self._set_warnings(())

    def show_busy(self, text: str) -> None:
        """A request is running: keep the last result visible, say what is happening."""
        self.status_label.setText(text)
        self.status_label.show()

    def show_result(self, result: Classification, *, edited_crop: bool = False) -> None:
        """Show ``result``: the answer (or why there is none), findings, warnings and the crop it used."""
        assert self.manifest is not None
        self.shown = result
        self._set_headline(result.headline(self.manifest, signals_shown=result.signals_follow),
                           "" if result.assessable else "unassessable")
        self.reasons_label.setText("\n".join(f"• {reason.message}" for reason in result.reasons))
        self.reasons_label.setVisible(not result.assessable)
        if result.assessable:
            self.probability_label.setText(f"{format_percent(result.top_probability)} probability")
        self.probability_label.setVisible(result.assessable)
        self.low_confidence_label.setVisible(result.low_confidence)
        self.status_label.hide()
        self._set_bars(result.diagnostic_probabilities, result.label, visible=result.assessable)
        self.findings_label.setText(findings_text(result, self.manifest))
        self.region_caption.setText(region_name(result).upper())
        self.crop_label.setText(crop_text(result, edited_crop=edited_crop))
        self._set_warnings(result.warnings)

    def show_saliency(self, text: str | None, *, legend: bool = False) -> None:
        """The saliency line (e.g. 'Leads that drove the result: V5, V3, rhythm strip'); None hides it.

        ``legend``: a map is shown over the scan, so its colour legend (fixed scale) is shown too.
        """
        self.saliency_label.setText(text or "")
        self.saliency_caption.setVisible(text is not None)
        self.saliency_label.setVisible(text is not None)
        self.saliency_legend.setVisible(text is not None and legend)

    def show_signals(self, reading: SignalReading | None, *, status: str | None = None) -> None:
        """The MEASUREMENTS section: ``reading``'s values ("—" where not measurable) and the digitizer's warnings,
        why it has none (its error), or ``status`` (e.g. working on it); hidden with neither."""
        if reading is not None and reading.error is not None:
            status, reading = not_digitized(reading.error), None
        self.measurements_caption.setVisible(reading is not None or status is not None)
        self.measurements_status.setText(status or "")
        self.measurements_status.setVisible(reading is None and status is not None)
        for widget in (self.measurements_grid, self.measurements_note):
            widget.setVisible(reading is not None)
        warnings = reading.warnings if reading is not None else ()
        self.measurements_warnings.setText("\n".join(f"• {w}" for w in warnings))
        self.measurements_warnings.setVisible(bool(warnings))
        if reading is not None:
            for name, value in measurement_lines(reading.measurements):
                self.measurement_values[name].setText(value)

    def _set_headline(self, text: str, state: str) -> None:
        """The big line: a class name (state ''), or 'muted', 'error' or 'unassessable' text."""
        self.top_label.setText(text)
        for name in ("muted", "error", "unassessable"):
            self.top_label.setProperty(name, state == name)
        _restyle(self.top_label)

    def _set_bars(self, probabilities: dict[str, float] | None, top: str | None, *, visible: bool = True) -> None:
        """One bar per class with ``top`` highlighted ('–' without ``probabilities``), or no bars at all."""
        self.bars_caption.setVisible(visible and bool(self.bars))
        for class_id, bar in self.bars.items():
            probability = None if probabilities is None else probabilities.get(class_id, 0.0)
            bar.setValue(0 if probability is None else round(probability * BAR_STEPS))
            bar.setFormat("–" if probability is None else format_percent(probability))
            self.percent_labels[class_id].setText(bar.format())
            for widget in (bar, self.bar_names[class_id], self.percent_labels[class_id]):
                _set_top(widget, class_id == top)
                widget.setVisible(visible)

    def _set_warnings(self, warnings: tuple[str, ...]) -> None:
        self.warnings_label.setText("\n".join(f"• {w}" for w in warnings))
        self.warnings_caption.setVisible(bool(warnings))
        self.warnings_label.setVisible(bool(warnings))


class SaliencyLegend(QWidget):
    """The heat map's colour bar on its fixed scale, with the core's title and tick labels."""

    BAR_WIDTH, BAR_HEIGHT = 240, 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saliencyLegend")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        self.title_label = _label(LEGEND_TITLE, "detail", wrap=True)
        self.bar_label = QLabel(objectName="legendBar")
        self.bar_label.setPixmap(QPixmap.fromImage(bgr_to_qimage(legend_bar(self.BAR_WIDTH, self.BAR_HEIGHT))))
        self.bar_label.setScaledContents(True)
        self.bar_label.setFixedHeight(self.BAR_HEIGHT)
        ticks = QHBoxLayout()
        ticks.setContentsMargins(0, 0, 0, 0)
        self.tick_labels = [_label(text, "detail") for _, text in LEGEND_TICKS]
        for index, label in enumerate(self.tick_labels):  # the ticks are evenly spaced on the scale
            if index:
                ticks.addStretch(1)
            ticks.addWidget(label)
        layout.addWidget(self.title_label)
        layout.addWidget(self.bar_label)
        layout.addLayout(ticks)


def _label(text: str, name: str, *, wrap: bool = False) -> QLabel:
    label = QLabel(text, objectName=name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _version_text(manifest: Manifest | None) -> str:
    if manifest is None:
        return "No model loaded."
    return f"Model {manifest.raw.get('model_name', 'ECG Desk')}, version {manifest.model_version}"


def _set_top(widget: QWidget, top: bool) -> None:
    if widget.property("top") != top:
        widget.setProperty("top", top)
        _restyle(widget)


def _restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
