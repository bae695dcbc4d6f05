"""The main window: open, classify off the GUI thread, show exactly the model's answer, edit the crop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from gui_helpers import render_scan, write_corrupt
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.notices import DISCLAIMER_SHORT
from ecg_desktop.core.outcome import NOT_ASSESSABLE, format_percent
from ecg_desktop.core.page.crop import CropBox
from tests.bad_inputs import blank_page, text_page
from tests.conftest import write_image

WAIT_MS = 15_000


def open_and_wait(qtbot, window, path: Path):
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS) as blocker:
        window.open_path(path)
    return blocker.args[0]


def assert_panel_shows(window, expected) -> None:
    """The panel shows exactly ``expected``: top class name, its probability, one bar per manifest class."""
    manifest = window.model.manifest
    panel = window.panel
    assert panel.top_label.text() == manifest.display_name(expected.label)
    assert panel.probability_label.text().startswith(format_percent(expected.probabilities[expected.label]))
    assert set(panel.bars) == set(manifest.class_ids)
    for class_id, bar in panel.bars.items():
        assert bar.text() == format_percent(expected.probabilities[class_id])
        assert panel.percent_labels[class_id].text() == format_percent(expected.probabilities[class_id])
        assert bar.value() == round(expected.probabilities[class_id] * bar.maximum())
    assert panel.shown is not None
    assert panel.shown.label == expected.label
    assert panel.shown.probabilities == pytest.approx(expected.probabilities, abs=1e-9)
    assert panel.low_confidence_label.isVisibleTo(panel) == expected.low_confidence
    assert panel.disclaimer_label.text() == DISCLAIMER_SHORT
    assert window.model.version in panel.version_label.text()


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_open_scan_shows_what_the_model_says(qtbot, main_window, gui_model, scan_file: Path, suffix: str) -> None:
    if suffix == ".jpg":  # JPEGs are decoded at the analysis size: the GUI must read them as the CLI does
        scan_file = write_image(scan_file.with_suffix(".jpg"), load_image(scan_file), cv2.IMWRITE_JPEG_QUALITY, 90)
    outcome = open_and_wait(qtbot, main_window, scan_file)

    expected = gui_model.classify_file(scan_file)  # what `ecg-desktop classify` and the batch report
    assert outcome.result.label == expected.label
    assert_panel_shows(main_window, expected)
    assert main_window.viewer.crop_item.box() == expected.crop
    assert main_window.viewer.has_image()
    assert scan_file.name in main_window.windowTitle()
    assert main_window.acts.save_report.isEnabled() and main_window.acts.print.isEnabled()
    assert main_window.settings.recent_files[0] == str(scan_file.resolve())


def test_edited_crop_is_classified_with_exactly_that_box(qtbot, main_window, gui_model, scan_file: Path) -> None:
    auto = open_and_wait(qtbot, main_window, scan_file).result.crop
    crop_item = main_window.viewer.crop_item
    box = CropBox(auto.x0 + 8, auto.y0 + 6, auto.x1 - 10, auto.y1 - 4)  # trims blank margin only

    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as blocker:
        crop_item.apply_user_edit(box)  # what a mouse release after a drag does

    result = blocker.args[0].result
    assert result.crop == box == crop_item.box()
    assert result.assessable
    assert_panel_shows(main_window, gui_model.classify_file(scan_file, crop=box))
    assert "set by you" in main_window.panel.crop_label.text()


def test_a_crop_that_cuts_off_leads_gets_no_diagnosis(qtbot, main_window, scan_file: Path) -> None:
    auto = open_and_wait(qtbot, main_window, scan_file).result.crop
    without_top_row = CropBox(auto.x0, auto.y0 + auto.height // 4, auto.x1, auto.y1)

    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as blocker:
        main_window.viewer.crop_item.apply_user_edit(without_top_row)

    result = blocker.args[0].result
    assert not result.assessable and [r.code for r in result.reasons] == ["crop_cuts_leads"]
    assert main_window.panel.top_label.text() == NOT_ASSESSABLE
    assert "cuts off" in main_window.statusBar().currentMessage()

    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS) as blocker:
        main_window.acts.reset_crop.trigger()
    assert blocker.args[0].result.crop == auto == main_window.viewer.crop_item.box()
    assert "automatically" in main_window.panel.crop_label.text()


def test_dragging_a_handle_with_the_mouse_reclassifies(qtbot, main_window, scan_file: Path) -> None:
    auto = open_and_wait(qtbot, main_window, scan_file).result.crop
    viewer = main_window.viewer
    viewport = viewer.viewport()
    start = viewer.mapFromScene(QPointF(auto.x1, auto.y1))  # bottom-right handle
    end = start - QPoint(120, 80)

    with qtbot.waitSignal(viewer.crop_item.edited, timeout=WAIT_MS) as edited, qtbot.waitSignal(
        main_window.resultShown, timeout=WAIT_MS
    ) as shown:
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for step in range(1, 6):
            QTest.mouseMove(viewport, start + (end - start) * (step / 5))
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)

    box = edited.args[0]
    assert (box.x0, box.y0) == (auto.x0, auto.y0)  # only the dragged corner moved
    assert box.x1 < auto.x1 - 100 and box.y1 < auto.y1 - 60
    assert shown.args[0].result.crop == box == viewer.crop_item.box()


class SlowModel:
    """The real model, but classifying a page read with a chosen crop can be made slow, to race two requests."""

    def __init__(self, model) -> None:
        self._model = model
        self.manifest, self.version = model.manifest, model.version
        self.slow_crop: CropBox | None = None
        self.slow_started = threading.Event()

    def classify_page(self, page):
        if page.crop == self.slow_crop:
            self.slow_started.set()
            time.sleep(0.8)
        return self._model.classify_page(page)


def test_a_stale_result_never_overwrites_a_newer_one(qtbot, make_window, gui_model, scan_file: Path) -> None:
    slow = SlowModel(gui_model)
    window = make_window(slow)
    auto = open_and_wait(qtbot, window, scan_file).result.crop
    old_box = CropBox(auto.x0 + 200, auto.y0, auto.x1, auto.y1)
    new_box = CropBox(auto.x0, auto.y0 + 200, auto.x1 - 200, auto.y1)
    slow.slow_crop = old_box

    window.viewer.crop_item.apply_user_edit(old_box)
    old_generation = window.controller.generation
    qtbot.waitUntil(slow.slow_started.is_set, timeout=WAIT_MS)  # the old request is computing
    events = []
    window.resultShown.connect(lambda outcome: events.append(("shown", outcome.result.crop)))
    window.controller.dropped.connect(lambda generation: events.append(("dropped", generation)))
    with qtbot.waitSignals([window.resultShown, window.controller.dropped], order="strict", timeout=WAIT_MS):
        window.viewer.crop_item.apply_user_edit(new_box)

    assert events == [("shown", new_box), ("dropped", old_generation)]  # the newer answer came first
    assert window.panel.shown.crop == new_box == window.viewer.crop_item.box()


def test_an_unreadable_file_is_reported_and_the_window_keeps_working(qtbot, main_window, tmp_path: Path) -> None:
    bad = write_corrupt(tmp_path / "broken.jpg")
    with qtbot.waitSignal(main_window.controller.failed, timeout=WAIT_MS):
        main_window.open_path(bad)

    dialog = main_window.findChild(QMessageBox, "errorDialog")
    assert dialog is not None and dialog.isVisible()
    assert "broken.jpg" in dialog.text() and "Traceback" not in dialog.text()
    assert "broken.jpg" in main_window.panel.status_label.text()
    dialog.close()
    render = render_scan(tmp_path / "good.png")
    open_and_wait(qtbot, main_window, render)
    assert main_window.panel.shown is not None


def test_window_opens_without_a_model_and_says_why(qtbot, tmp_path: Path, monkeypatch, settings_store, scan_file):
    from ecg_desktop.gui.app import build_window, show_window

    monkeypatch.setenv("ECG_DESK_MODELS", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    window = build_window(store=settings_store)
    qtbot.addWidget(window)
    show_window(window)

    assert window.model is None and "manifest" in window.model_error
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None, timeout=WAIT_MS)
    assert window.model_error in window.findChild(QMessageBox, "errorDialog").text()
    assert window.panel.top_label.text() == "No model loaded"
    assert window.model_error in window.panel.status_label.text()
    for action in (window.acts.save_report, window.acts.print, window.acts.reset_crop, window.acts.batch):
        assert not action.isEnabled()
    assert not window.viewer.crop_item.isEnabled()

    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS) as blocker:
        window.open_path(scan_file)  # the scan can still be looked at
    assert blocker.args[0].result is None and window.viewer.has_image()
    assert window.panel.shown is None and not window.acts.save_report.isEnabled()


def test_dropping_a_file_opens_it(qtbot, main_window, scan_file: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(scan_file))])
    event = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    main_window.dragEnterEvent(enter)  # offscreen Qt delivers no synthetic drag events: call the handlers
    assert enter.isAccepted()
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.dropEvent(event)
    assert main_window.scan.path == scan_file


def test_zoom_fit_and_actual_size(qtbot, main_window, scan_file: Path) -> None:
    open_and_wait(qtbot, main_window, scan_file)
    viewer = main_window.viewer
    fitted = viewer.zoom()
    assert 0 < fitted < 1  # a 2213 px scan in a ~900 px view
    QTest.keyClick(main_window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() == pytest.approx(1.0)
    main_window.acts.zoom_in.trigger()
    assert viewer.zoom() == pytest.approx(1.25)
    main_window.acts.zoom_out.trigger()
    main_window.acts.zoom_out.trigger()
    assert viewer.zoom() == pytest.approx(0.8)
    wheel = QWheelEvent(QPointF(200, 200), QPointF(viewer.viewport().mapToGlobal(QPoint(200, 200))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    viewer.wheelEvent(wheel)  # one notch up
    assert viewer.zoom() == pytest.approx(1.0)
    QTest.keyClick(main_window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() == pytest.approx(fitted)
    assert main_window.zoom_label.text() == f"{fitted:.0%}"



def _names_a_class(window, text: str) -> bool:
    return any(info.name in text for info in window.model.manifest.classes)


def test_each_state_has_its_own_headline_and_status(qtbot, main_window, real_scan: Path, tmp_path: Path) -> None:
    """Unreadable: an error. Not assessable: the core's headline and reasons, no class, no bars, no saliency.
    Assessable: the class and its bars. The status bar says what the panel says."""
    panel, status = main_window.panel, main_window.statusBar()
    bad = write_corrupt(tmp_path / "broken.jpg")
    with qtbot.waitSignal(main_window.controller.failed, timeout=WAIT_MS):
        main_window.open_path(bad)
    main_window.findChild(QMessageBox, "errorDialog").close()
    assert panel.shown is None and panel.top_label.property("error") and "broken.jpg" in status.currentMessage()
    assert not _names_a_class(main_window, panel.top_label.text() + status.currentMessage())

    main_window.set_saliency_shown(True)
    for page in (blank_page(), text_page()):
        scan = write_image(tmp_path / "page.png", page)
        result = open_and_wait(qtbot, main_window, scan).result
        assert not result.assessable
        assert panel.top_label.text() == NOT_ASSESSABLE and panel.top_label.property("unassessable")
        assert panel.reasons_label.isVisibleTo(panel)
        assert panel.reasons_label.text() == "\n".join(f"• {r.message}" for r in result.reasons)
        assert not panel.probability_label.isVisibleTo(panel) and not panel.low_confidence_label.isVisibleTo(panel)
        assert not panel.bars_caption.isVisibleTo(panel)
        assert not any(bar.isVisibleTo(panel) or panel.bar_names[c].isVisibleTo(panel) for c, bar in panel.bars.items())
        assert panel.findings_label.text() == "–" and not panel.saliency_label.isVisibleTo(panel)
        assert status.currentMessage() == f"page.png: {result.verdict(main_window.model.manifest)}"
        assert status.currentMessage().startswith(f"page.png: {NOT_ASSESSABLE} — ")
        shown = panel.top_label.text() + panel.reasons_label.text() + status.currentMessage()
        assert not _names_a_class(main_window, shown)
    assert not main_window.saliency_controller.busy and not main_window.viewer.heat_item.isVisible()
    main_window.set_saliency_shown(False)

    result = open_and_wait(qtbot, main_window, real_scan).result
    assert result.assessable and not panel.reasons_label.isVisibleTo(panel) and panel.bars_caption.isVisibleTo(panel)
    assert_panel_shows(main_window, result)
    assert all(bar.isVisibleTo(panel) for bar in panel.bars.values())
    percent = format_percent(result.top_probability)
    assert status.currentMessage() == f"{real_scan.name}: Myocardial infarction ({percent})."


def test_a_page_fed_upside_down_is_shown_and_read_upright(qtbot, main_window, gui_model, data_dir, tmp_path) -> None:
    source = data_dir / "mi" / "MI(1).jpg"
    turned = write_image(tmp_path / "upside down.png", np.ascontiguousarray(np.rot90(load_image(source), 2)))

    outcome = open_and_wait(qtbot, main_window, turned)

    upright = gui_model.classify_file(source)
    assert outcome.result.assessable and outcome.result.label == upright.label
    assert outcome.result.page_transform.quarter_turns == 2
    assert all(abs(a - b) <= 8 for a, b in zip(outcome.result.crop.as_list(), upright.crop.as_list()))
    shown = main_window.viewer._pixmap.pixmap().toImage()
    expected = np.ascontiguousarray(np.rot90(load_image(turned), 2))  # what the screen must show: the upright page
    assert (shown.width(), shown.height()) == (2213, 1572)
    for y in range(300, 1500, 97):
        for x in range(100, 2100, 131):
            colour = shown.pixelColor(x, y)
            assert (colour.blue(), colour.green(), colour.red()) == tuple(expected[y, x])
