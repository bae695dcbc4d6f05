"""The look of the app: Fusion style, a light palette and one style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from ecg_desktop.core.palette import ACCENT, ALARM, CAUTION, MUTED

DISABLED_TEXT = "#a1a9b4"  # greyed text of a control that cannot be used now
DISABLED_BUTTON = "#e6e9ee"

STYLE_SHEET = f"""
QMainWindow {{ background: #eef1f5; }}
QToolBar {{ background: #f7f8fa; border: none; border-bottom: 1px solid #d9dee5; spacing: 4px; padding: 3px 6px; }}
QToolBar QToolButton {{ padding: 4px 8px; border-radius: 4px; color: #1d2633; border: 1px solid transparent; }}
QToolBar QToolButton:hover {{ background: #e3e8ef; }}
QToolBar QToolButton:disabled {{ color: {DISABLED_TEXT}; }}
QToolBar QToolButton:checked {{ background: #dbe6f7; border: 1px solid {ACCENT}; color: {ACCENT}; }}
QToolBar QToolButton:checked:hover {{ background: #cddcf3; }}
QStatusBar {{ background: #f7f8fa; border-top: 1px solid #d9dee5; color: #3a4553; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 8px; }}
QStatusBar QLabel#statusMessage {{ color: #3a4553; padding: 0; }}
QSplitter::handle {{ background: #d9dee5; }}
#resultPanel, #resultScroll, #resultBody {{ background: #ffffff; }}
#resultPanel {{ border-left: 1px solid #d9dee5; }}
#resultBody QLabel#caption {{ color: {MUTED}; font-size: 8pt; font-weight: 600; letter-spacing: 1px; margin-top: 4px; }}
#resultBody QLabel#topLabel {{ color: {ACCENT}; font-size: 19pt; font-weight: 700; }}
#resultBody QLabel#topLabel[muted="true"] {{ color: #3a4553; font-size: 14pt; }}
#resultBody QLabel#topLabel[error="true"] {{ color: {ALARM}; font-size: 14pt; }}
#resultBody QLabel#topLabel[unassessable="true"] {{ color: {CAUTION}; font-size: 16pt; }}
#resultBody QLabel#probability {{ color: #1d2633; font-size: 12pt; }}
#resultBody QLabel#lowConfidence {{ color: white; background: {CAUTION}; border-radius: 3px; padding: 2px 8px;
    font-weight: 700; }}
#resultBody QLabel#status {{ color: #3a4553; }}
#resultBody QLabel#reasons {{ color: #1d2633; background: #fff6e0; border-left: 3px solid {CAUTION};
    padding: 6px 8px; }}
#resultBody QLabel#source {{ color: {MUTED}; font-size: 8.5pt; padding-bottom: 6px; border-bottom: 1px solid #e3e8ef; }}
#resultBody QLabel#className, #resultBody QLabel#classPercent {{ color: #1d2633; }}
#resultBody QLabel#className[top="true"], #resultBody QLabel#classPercent[top="true"] {{ font-weight: 700;
    color: {ACCENT}; }}
#resultBody QProgressBar#classBar {{ border: none; background: #e8ecf2; border-radius: 4px; }}
#resultBody QProgressBar#classBar::chunk {{ background: #9aa6b5; border-radius: 4px; }}
#resultBody QProgressBar#classBar[top="true"]::chunk {{ background: {ACCENT}; }}
#resultBody QLabel#findings, #resultBody QLabel#saliency {{ color: #1d2633; }}
#resultBody QLabel#warnings {{ color: {CAUTION}; background: #fff6e0; border: 1px solid #f0d9a0; border-radius: 4px;
    padding: 6px; }}
#resultBody QLabel#detail {{ color: {MUTED}; font-size: 8.5pt; }}
#resultPanel QLabel#disclaimer {{ color: #1d2633; background: #eef3fb; border-left: 3px solid {ACCENT};
    padding: 6px 8px; font-weight: 600; }}
#welcome {{ background: #2a2e35; }}
#welcome QLabel {{ color: #e6e9ee; }}
#welcome QLabel#welcomeTitle {{ font-size: 22pt; font-weight: 700; }}
#welcome QLabel#welcomeText {{ color: #b8c0cc; font-size: 11pt; }}
#welcome QPushButton {{ background: {ACCENT}; color: white; border: none; border-radius: 4px; padding: 8px 18px;
    font-weight: 600; }}
#welcome QPushButton:hover {{ background: #2a6fd6; }}
#welcome QPushButton#sampleButton {{ background: #3b414b; }}
#welcome QPushButton:disabled, #welcome QPushButton#sampleButton:disabled {{ background: #353a42; color: #6f7783;
    border: 1px dashed #4a515c; }}
QTableWidget {{ gridline-color: #e3e8ef; }}
"""


def theme_palette(base: QPalette) -> QPalette:
    """The light palette. Enabled colours go to the Active and Inactive groups only: a disabled control
    (Save Report before a result, Start while a batch runs) gets greyed text and a flat button face."""
    palette = QPalette(base)
    Role, Group = QPalette.ColorRole, QPalette.ColorGroup
    enabled = {
        Role.Window: "#eef1f5", Role.Base: "#ffffff", Role.AlternateBase: "#f5f7fa", Role.Highlight: ACCENT,
        Role.Text: "#1d2633", Role.WindowText: "#1d2633", Role.ButtonText: "#1d2633",
    }
    disabled = {
        Role.Window: "#eef1f5", Role.Base: "#f3f5f8", Role.AlternateBase: "#f3f5f8", Role.Highlight: "#b9c2ce",
        Role.Text: DISABLED_TEXT, Role.WindowText: DISABLED_TEXT, Role.ButtonText: DISABLED_TEXT,
        Role.Button: DISABLED_BUTTON, Role.PlaceholderText: "#c3c9d1",
    }
    for group in (Group.Active, Group.Inactive):
        for role, colour in enabled.items():
            palette.setColor(group, role, QColor(colour))
    for role, colour in disabled.items():
        palette.setColor(Group.Disabled, role, QColor(colour))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion with a light palette, so the app looks the same on every desktop (the main window sets STYLE_SHEET)."""
    app.setStyle("Fusion")
    app.setPalette(theme_palette(app.palette()))
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
