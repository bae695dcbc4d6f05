"""The main window's actions, menus and toolbar in one table-like place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QToolButton

from ecg_desktop.gui.icons import icon


@dataclass
class Actions:
    """Every QAction of the main window, by name."""

    open: QAction
    save_report: QAction
    print: QAction
    settings: QAction
    quit: QAction
    fit: QAction
    actual_size: QAction
    zoom_in: QAction
    zoom_out: QAction
    reset_crop: QAction
    saliency: QAction
    traces: QAction
    export_signals: QAction
    batch: QAction
    about: QAction
    recent_menu: QMenu
    samples_menu: QMenu


def build_actions(window: QMainWindow, slots: dict[str, Callable[[], object]]) -> Actions:
    """Create the actions (connected to ``slots`` by name), the menu bar and the toolbar."""
    acts = _create_actions(window, slots)
    _fill_menu_bar(window, acts)
    _add_toolbar(window, acts)
    return acts


def _create_actions(window: QMainWindow, slots: dict[str, Callable[[], object]]) -> Actions:
    """Every action with its text, shortcuts and status tip."""

    def action(
        name: str, text: str, shortcuts: list[QKeySequence | str] = (), tip: str = "", *, checkable: bool = False
    ) -> QAction:
        return _action(window, slots[name], name, text, shortcuts, tip, checkable=checkable)

    return Actions(
        open=action("open", "&Open…", [QKeySequence.StandardKey.Open], "Open a scanned ECG printout"),
        save_report=action(
            "save_report", "&Save Report…", [QKeySequence.StandardKey.Save], "Save a PDF report of this result"
        ),
        print=action("print", "&Print…", [QKeySequence.StandardKey.Print], "Print the PDF report of this result"),
        settings=action("settings", "Se&ttings…", [], "Facility name, report page size, batch workers"),
        quit=action("quit", "&Quit", [QKeySequence.StandardKey.Quit]),
        fit=action("fit", "&Fit to Window", ["Ctrl+0"], "Show the whole scan"),
        actual_size=action("actual_size", "&Actual Size", ["Ctrl+1"], "One scan pixel per screen pixel"),
        zoom_in=action("zoom_in", "Zoom &In", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="]),
        zoom_out=action("zoom_out", "Zoom &Out", [QKeySequence.StandardKey.ZoomOut]),
        reset_crop=action("reset_crop", "&Reset Crop", ["Ctrl+R"], "Go back to the automatically found ECG region"),
        saliency=action(
            "saliency", "Show &Saliency", ["Ctrl+H"], "Colour the parts of the scan that drove the result",
            checkable=True,
        ),
        traces=action(
            "traces", "Show Digitized &Traces", ["Ctrl+T"],
            "Draw the traces read from the scan over it and show their measurements", checkable=True,
        ),
        export_signals=action(
            "export_signals", "&Export Signals…", ["Ctrl+E"], "Save the digitized 12-lead signals as CSV or WFDB"
        ),
        batch=action("batch", "Process &Folder…", ["Ctrl+B"], "Classify every scan in a folder"),
        about=action("about", "&About ECG Desk", [], "Model card, data attribution and disclaimer"),
        recent_menu=QMenu("Open &Recent", window, objectName="recentMenu"),
        samples_menu=QMenu("Open Sa&mple", window, objectName="samplesMenu"),
    )


def _action(
    window: QMainWindow, slot: Callable[[], object], name: str, text: str, shortcuts: list[QKeySequence | str],
    tip: str, *, checkable: bool,
) -> QAction:
    """One action with its icon; the tooltip repeats the text with the first shortcut."""
    act = QAction(icon(name), text, window, objectName=f"action_{name}", checkable=checkable)
    if shortcuts:
        act.setShortcuts([QKeySequence(s) for s in shortcuts])
    act.setStatusTip(tip)
    plain = text.replace("…", "").replace("&", "")
    if shortcuts:
        plain += f" ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})"
    act.setToolTip(plain)
    (act.toggled if checkable else act.triggered).connect(slot)  # toggled(bool): also setChecked()
    return act


def _fill_menu_bar(window: QMainWindow, acts: Actions) -> None:
    """File, View, Batch and Help menus."""
    menu_bar = window.menuBar()
    file_menu = menu_bar.addMenu("&File")
    file_menu.addAction(acts.open)
    file_menu.addMenu(acts.recent_menu)
    file_menu.addMenu(acts.samples_menu)
    file_menu.addSeparator()
    file_menu.addActions([acts.save_report, acts.print, acts.export_signals])
    file_menu.addSeparator()
    file_menu.addAction(acts.settings)
    file_menu.addSeparator()
    file_menu.addAction(acts.quit)
    view_menu = menu_bar.addMenu("&View")
    view_menu.addActions([acts.fit, acts.actual_size, acts.zoom_in, acts.zoom_out])
    view_menu.addSeparator()
    view_menu.addAction(acts.reset_crop)
    for act in (acts.saliency, acts.traces):  # a plain check box in the menu: on and off read at a glance
        act.setIconVisibleInMenu(False)
        view_menu.addAction(act)
    menu_bar.addMenu("&Batch").addAction(acts.batch)
    menu_bar.addMenu("&Help").addAction(acts.about)


def _add_toolbar(window: QMainWindow, acts: Actions) -> None:
    """The toolbar: file, zoom, crop and saliency, batch."""
    toolbar = AdaptiveToolBar(window, compact_first=[acts.fit, acts.actual_size, acts.zoom_in, acts.zoom_out])
    toolbar.addActions([acts.open, acts.save_report, acts.print])
    toolbar.addSeparator()
    toolbar.addActions([acts.fit, acts.actual_size, acts.zoom_in, acts.zoom_out])
    toolbar.addSeparator()
    toolbar.addActions([acts.reset_crop, acts.saliency])  # Show Digitized Traces is in the View menu (Ctrl+T)
    toolbar.addSeparator()
    toolbar.addAction(acts.batch)
    window.addToolBar(toolbar)


class AdaptiveToolBar(QToolBar):
    """A toolbar that drops button texts, least needed first, until every button fits its width.

    Level 0: every button with its text; 1: the ``compact_first`` buttons as icons only (their tooltips keep the
    text); 2: every button as an icon. A small screen (1024 px) thus shows every action without an overflow menu.
    """

    def __init__(self, window: QMainWindow, *, compact_first: list[QAction]) -> None:
        super().__init__("Main", window, objectName="mainToolbar", movable=False, floatable=False)
        self.setIconSize(QSize(20, 20))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._compact_first = compact_first
        self.level = 0

    def set_level(self, level: int) -> None:
        """Show the buttons at ``level`` (0 to 2, see the class)."""
        self.level = level
        for act in self.actions():
            button = self.widgetForAction(act)
            if isinstance(button, QToolButton):
                icon_only = level >= 2 or (level == 1 and act in self._compact_first)
                button.setToolButtonStyle(
                    Qt.ToolButtonStyle.ToolButtonIconOnly if icon_only else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
                )

    def fit_width(self, width: int) -> None:
        """The widest level whose buttons all fit in ``width`` pixels."""
        for level in range(3):
            self.set_level(level)
            if self.sizeHint().width() <= width:
                return

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.fit_width(event.size().width())
