"""View ▸ Show Saliency: the heat overlay over the crop box, the leads line, and the report's saliency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import render_scan, write_corrupt
from PySide6.QtCore import QRectF
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox, QToolBar

from ecg_desktop.core.classify.heat_overlay import ALPHA, LEGEND_TICKS, LEGEND_TITLE
from ecg_desktop.core.classify.saliency import MIN_NAMED_DROP, lead_boxes
from ecg_desktop.core.page.crop import CropBox

WAIT_MS = 20_000


@pytest.fixture
def shown(qtbot, main_window, scan_file: Path):
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.open_path(scan_file)
    return main_window


def _rect(box: CropBox) -> QRectF:
    return QRectF(box.x0, box.y0, box.width, box.height)


def _same_rect(a: QRectF | None, b: QRectF) -> bool:
    return a is not None and all(abs(x - y) < 0.5 for x, y in zip(a.getCoords(), b.getCoords()))


def _lead_names(text: str) -> list[str]:
    """The leads named ('V5 0.12, V3 0.08.' -> ['V5', 'V3']); none when no lead panel stood out."""
    prefix = "Leads that drove the result (mean drop in its probability when the panel is hidden): "
    assert text.startswith(prefix), text
    named = text.removeprefix(prefix).removesuffix(".")
    if named.startswith("no lead panel stood out"):
        return []
    return [part.strip().rsplit(" ", 1)[0] for part in named.split(",")]


def _show_saliency(qtbot, window):
    with qtbot.waitSignal(window.saliencyShown, timeout=WAIT_MS) as shown:
        window.acts.saliency.trigger()
    return shown.args[0]


def test_action_in_view_menu_and_toolbar(main_window) -> None:
    act = main_window.acts.saliency
    assert act.isCheckable() and not act.isChecked()
    assert act.shortcut().matches(QKeySequence("Ctrl+H")) == QKeySequence.SequenceMatch.ExactMatch
    toolbar = main_window.findChild(QToolBar, "mainToolbar")
    assert act in toolbar.actions()
    view_menu = next(a.menu() for a in main_window.menuBar().actions() if a.text() == "&View")
    assert act in view_menu.actions()
    assert not main_window.viewer.heat_item.isVisible()


def test_overlay_appears_over_the_crop_and_names_the_leads(qtbot, shown) -> None:
    outcome = _show_saliency(qtbot, shown)
    viewer = shown.viewer
    assert outcome.scan is shown.scan and outcome.crop == shown.result.crop
    assert viewer.heat_item.isVisible()
    assert _same_rect(viewer.heatmap_rect(), _rect(shown.result.crop))
    overlay = viewer.heat_item.pixmap().toImage()  # each colour as opaque as its drop: none where nothing mattered
    assert overlay.hasAlphaChannel() and viewer.heat_item.opacity() == 1.0
    alphas = [overlay.pixelColor(x, y).alpha()
              for x in range(0, overlay.width(), 8) for y in range(0, overlay.height(), 8)]
    assert max(alphas) <= round(255 * ALPHA) and len(set(alphas)) > 1
    assert 0 < viewer.heat_item.zValue() < shown.viewer.crop_item.zValue()  # above the scan, below the crop box
    assert shown.panel.saliency_label.isVisible()
    names = _lead_names(shown.panel.saliency_label.text())
    assert len(names) <= 3 and set(names) <= set(lead_boxes(227))
    assert all(outcome.saliency.lead_scores[name] >= MIN_NAMED_DROP for name in names)  # material drops only
    ranked = sorted(outcome.saliency.lead_scores, key=outcome.saliency.lead_scores.get, reverse=True)
    assert names == ranked[: len(names)]
    assert "Saliency computed in" in shown.statusBar().currentMessage()
    legend = shown.panel.saliency_legend  # the colour legend, on the core's fixed scale
    assert legend.isVisible() and legend.title_label.text() == LEGEND_TITLE
    assert [label.text() for label in legend.tick_labels] == [text for _, text in LEGEND_TICKS]
    assert "0.5" in legend.tick_labels[-1].text()


def test_overlay_follows_the_crop_box(qtbot, shown) -> None:
    _show_saliency(qtbot, shown)
    old = shown.result.crop
    new = CropBox(old.x0 + 10, old.y0 + 8, old.x1 - 12, old.y1 - 6)  # trims margin: still assessable
    with qtbot.waitSignal(shown.saliencyShown, timeout=WAIT_MS, check_params_cb=lambda o: o.crop == new) as moved:
        shown.viewer.crop_item.apply_user_edit(new)
        assert not shown.viewer.heat_item.isVisible()  # the old map no longer matches the box: hidden at once
    assert moved.args[0].crop == shown.result.crop == new
    assert _same_rect(shown.viewer.heatmap_rect(), _rect(new))
    assert shown.viewer.heat_item.isVisible()


def test_toggle_off_hides_and_a_pending_map_never_shows(qtbot, shown) -> None:
    _show_saliency(qtbot, shown)
    shown.acts.saliency.trigger()  # off
    assert not shown.viewer.heat_item.isVisible() and not shown.panel.saliency_label.isVisible()

    shown.acts.saliency.trigger()  # on again: the map of this crop is already known, shown at once
    assert shown.viewer.heat_item.isVisible()

    late: list[object] = []
    shown.saliencyShown.connect(late.append)
    old = shown.result.crop
    with qtbot.waitSignal(shown.resultShown, timeout=WAIT_MS):
        shown.viewer.crop_item.apply_user_edit(CropBox(old.x0 + 10, old.y0 + 10, old.x1 - 10, old.y1 - 10))
    assert shown.saliency_controller.busy  # a new classification, then a new map is requested...
    shown.set_saliency_shown(False)  # ...and the toggle goes off before it arrives
    qtbot.waitUntil(lambda: not shown.saliency_controller.busy, timeout=WAIT_MS)
    qtbot.wait(50)
    assert late == [] and not shown.viewer.heat_item.isVisible()
    assert not shown.panel.saliency_label.isVisible() and not shown.panel.saliency_legend.isVisible()


def test_toggle_and_overlay_agree_after_a_failed_open(qtbot, shown, tmp_path: Path) -> None:
    """Opening a corrupt file while the map is shown: the old scan stays, and so does its map."""
    first = _show_saliency(qtbot, shown)
    scan = shown.scan
    bad = write_corrupt(tmp_path / "corrupt.jpg")
    with qtbot.waitSignal(shown.controller.failed, timeout=WAIT_MS):
        shown.open_path(bad)
    qtbot.waitUntil(lambda: shown.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    shown.findChild(QMessageBox, "errorDialog").close()
    assert shown.scan is scan
    assert shown.acts.saliency.isChecked()
    qtbot.waitUntil(shown.viewer.heat_item.isVisible, timeout=WAIT_MS)
    assert _same_rect(shown.viewer.heatmap_rect(), _rect(shown.result.crop))
    assert shown.panel.saliency_label.text().startswith("Leads that drove the result (")
    assert shown.panel.saliency_legend.isVisible()
    assert shown.current_saliency() is first.saliency

    shown.acts.saliency.trigger()  # off, then another failed open: both stay off
    with qtbot.waitSignal(shown.controller.failed, timeout=WAIT_MS):
        shown.open_path(bad)
    qtbot.waitUntil(lambda: shown.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    shown.findChild(QMessageBox, "errorDialog").close()
    qtbot.wait(50)
    assert not shown.acts.saliency.isChecked() and not shown.viewer.heat_item.isVisible()
    assert not shown.panel.saliency_label.isVisible()


def test_recomputed_for_a_new_scan(qtbot, shown, tmp_path: Path) -> None:
    first = _show_saliency(qtbot, shown)
    other = render_scan(tmp_path / "other.png", kind="normal", seed=11, width=1600)
    with qtbot.waitSignal(shown.saliencyShown, timeout=WAIT_MS) as second:
        shown.open_path(other)
        assert not shown.viewer.heat_item.isVisible()
    assert second.args[0].scan is shown.scan is not first.scan
    assert second.args[0].scan.path == other
    assert _same_rect(shown.viewer.heatmap_rect(), _rect(shown.result.crop))


def test_report_includes_the_saliency_only_when_shown(qtbot, shown, tmp_path: Path) -> None:
    from pypdf import PdfReader

    def text_of(target: Path) -> str:
        with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS):
            shown.save_report(target)
        reader = PdfReader(target)
        assert len(reader.pages) == 1
        return " ".join(reader.pages[0].extract_text().split())

    assert "drove the result" not in text_of(tmp_path / "plain.pdf")  # toggle off: no map
    _show_saliency(qtbot, shown)
    text = text_of(tmp_path / "saliency.pdf")
    assert "Leads that drove the result (mean drop" in text and LEGEND_TITLE in text


def test_a_report_computes_the_map_the_viewer_shows(qtbot, shown, tmp_path: Path, monkeypatch) -> None:
    """Saved before the viewer's map has arrived, the report computes it itself: the same map, from the same copy."""
    from ecg_desktop.gui import main_window

    viewer_map = _show_saliency(qtbot, shown).saliency
    shown.saliency = None  # as if Save Report came before the viewer's map
    written = []
    monkeypatch.setattr(main_window, "write_report", lambda path, **kwargs: written.append(kwargs["saliency"]) or path)
    with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS):
        shown.save_report(tmp_path / "report.pdf")
    assert written[0] is not None and written[0] is not viewer_map
    assert written[0].class_id == viewer_map.class_id and np.array_equal(written[0].heatmap, viewer_map.heatmap)


def test_a_failed_saliency_is_reported_not_raised(qtbot, shown, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecg_desktop.gui import saliency_worker

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("onnxruntime fell over")

    monkeypatch.setattr(saliency_worker, "saliency_of", broken)
    with qtbot.waitSignal(shown.saliency_controller.failed, timeout=WAIT_MS):
        shown.acts.saliency.trigger()
    assert not shown.viewer.heat_item.isVisible()
    assert "saliency could not be computed" in shown.panel.saliency_label.text()
    assert "saliency could not be computed" in shown.statusBar().currentMessage()
    assert shown.result is not None and shown.panel.shown is shown.result  # the result itself stays shown
