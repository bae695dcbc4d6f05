"""What ecg_desk.spec leaves out of the bundle, and how (imported by the spec; runs at build time only).

PyInstaller's hooks collect whole packages: every Qt plugin (and through them Qt Quick, Qml, Wayland, EGL,
GTK and their system libraries), Qt's translations, all of Pillow's codecs. The app is a widgets app that
reads JPEG/PNG/TIFF/BMP scans, so the spec:

1. excludes modules it never imports (EXCLUDED_MODULES);
2. drops Qt plugins, libraries, QML files and translations outside QT_PLUGINS / QT_LIBS (filter_*);
3. drops every system or vendored library that nothing kept still needs (prune_orphans: a DT_NEEDED walk
   from the extension modules, Qt plugins and ctypes-loaded libraries);
4. removes DWARF debug info (strip --strip-debug, never a full strip) from libpython and the extension
   modules that carry it, leaving the auditwheel-patched ``*.libs`` folders untouched.

Every library an extension module links (DT_NEEDED) stays, real: OpenCV's FFmpeg, libavif and OpenBLAS
included, since ``import cv2`` loads them all.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

EXCLUDED_MODULES = [
    # training and development only (the train/dev extras: present when a developer's venv builds the bundle)
    "torch", "matplotlib", "sklearn", "xgboost", "onnx", "pandas", "sympy", "training", "tests",
    "ecg_desktop.testing",
    # archive batches on a Dask cluster (the [cluster] extra; the desktop app never runs them)
    "ecg_desktop.core.batch.cluster", "dask", "distributed",
    "pytest", "pytestqt", "_pytest", "pypdf", "setuptools", "pkg_resources", "pip", "distutils", "lib2to3",
    "pydoc_data", "tkinter", "_tkinter", "curses", "unittest.mock",
    # standard library the app never uses: no TLS in an offline app, and without _hashlib, hashlib's sha256 is
    # Python's own (so no OpenSSL, ~6 MB); no interactive console
    "ssl", "_hashlib", "readline",
    # reportlab imports it only to decode an XMP file given by path, which the reports never use
    "charset_normalizer",
    # onnxruntime's tooling (the app only runs InferenceSession)
    "onnxruntime.quantization", "onnxruntime.transformers", "onnxruntime.tools", "onnxruntime.backend",
    # other Qt bindings that qtpy would probe
    "PyQt5", "PyQt6", "PySide2",
    # pyside6-essentials modules outside QtCore/QtGui/QtWidgets/QtPrintSupport
    *(f"PySide6.{m}" for m in (
        "QtQuick", "QtQuickControls2", "QtQuickWidgets", "QtQuickTest", "QtQml", "QtOpenGL", "QtOpenGLWidgets",
        "QtDesigner", "QtHelp", "QtUiTools", "QtSql", "QtTest", "QtXml", "QtNetwork", "QtSvg", "QtSvgWidgets",
        "QtConcurrent", "QtDBus",
    )),
    # scipy: lightgbm imports only scipy.sparse (its core formats), which needs none of these
    *(f"scipy.{m}" for m in (
        "linalg", "special", "sparse.linalg", "sparse.csgraph", "stats", "optimize", "integrate", "interpolate",
        "signal", "spatial", "ndimage", "io", "fft", "fftpack", "odr", "cluster", "datasets", "misc",
        "constants", "differentiate",
    )),
    # Pillow: only its header probe and the PNG/TIFF/BMP fallback decoder are used
    "PIL._avif", "PIL.AvifImagePlugin", "PIL._webp", "PIL.WebPImagePlugin", "PIL._imagingft", "PIL.ImageFont",
    "PIL._imagingcms", "PIL.ImageCms", "PIL._imagingtk", "PIL.ImageTk", "PIL.ImageQt", "PIL.ImageShow",
]

# Qt plugins kept (plugin folder -> file stems); every other plugin is dropped.
QT_PLUGINS = {
    "platforms": {"libqoffscreen", "libqxcb", "libqminimal"},
    "imageformats": {"libqjpeg"},  # Qt's PDF engine (printing) compresses images as JPEG; Qt reads no image
    "printsupport": {"libcupsprintersupport"},
    "platforminputcontexts": {"libcomposeplatforminputcontextplugin"},  # dead keys in the patient fields
}
# Qt libraries (libQt6<Name>) and PySide6 modules (Qt<Name>) kept.
QT_LIBS = {"Core", "Gui", "Widgets", "PrintSupport", "DBus", "XcbQpa"}
PYSIDE_DROPPED = ("libpyside6qml",)

_QT_LIB = re.compile(r"libQt6(\w+?)\.so")
_PYSIDE_MODULE = re.compile(r"^PySide6/Qt(\w+?)\.(abi3|cpython)")
_DATA_DROPPED = re.compile(r"(^|/)(__pycache__|tests?)(/|$)|\.(pyi|qm|qmltypes|qmldir)$")


@dataclass
class Report:
    """What the filters did, printed by the spec."""

    dropped: list[tuple[str, str]] = field(default_factory=list)
    stripped: list[tuple[str, int]] = field(default_factory=list)

    def drop(self, why: str, dest: str) -> None:
        self.dropped.append((why, dest))

    def print(self, *, verbose: bool) -> None:
        kinds: dict[str, int] = {}
        for why, _ in self.dropped:
            kinds[why] = kinds.get(why, 0) + 1
        summary = ", ".join(f"{n} {why}" for why, n in sorted(kinds.items()))
        saved = sum(n for _, n in self.stripped) / 1e6
        print(f"ecg_desk.spec: dropped {len(self.dropped)} files ({summary}); stripped debug info from "
              f"{len(self.stripped)} files (-{saved:.1f} MB). ECG_DESK_SPEC_VERBOSE=1 lists them.")
        if verbose:
            for why, dest in sorted(self.dropped):
                print(f"  dropped ({why}): {dest}")
            for dest, n in self.stripped:
                print(f"  stripped: {dest} (-{n / 1e6:.1f} MB)")


def _qt_wanted(dest: str) -> bool | None:
    """True/False for Qt files kept/dropped, None for anything that is not Qt's."""
    if not dest.startswith("PySide6/") and not _QT_LIB.match(Path(dest).name):
        return None
    if "/Qt/translations/" in dest or "/Qt/qml/" in dest or "/Qt/metatypes/" in dest:
        return False
    if "/Qt/plugins/" in dest:
        parts = dest.split("/Qt/plugins/", 1)[1].split("/")
        return len(parts) == 2 and parts[1].split(".")[0] in QT_PLUGINS.get(parts[0], set())
    if Path(dest).name.startswith(PYSIDE_DROPPED):
        return False
    lib = _QT_LIB.match(Path(dest).name)
    if lib:
        return lib.group(1) in QT_LIBS
    module = _PYSIDE_MODULE.match(dest)
    if module:
        return module.group(1) in QT_LIBS
    return None


def filter_datas(datas, report: Report):
    kept = []
    for entry in datas:
        dest = entry[0].replace("\\", "/")
        wanted = _qt_wanted(dest)
        if wanted is False:
            report.drop("Qt data", dest)
        elif wanted is None and _DATA_DROPPED.search(dest) and not dest.startswith(("models/", "resources/")):
            report.drop("stub/test data", dest)
        else:
            kept.append(entry)
    return kept


def filter_binaries(binaries, report: Report):
    kept = []
    for entry in binaries:
        dest = entry[0].replace("\\", "/")
        if _qt_wanted(dest) is False:
            report.drop("Qt binary", dest)
        else:
            kept.append(entry)
    return kept


def needed(path: Path) -> list[str]:
    """The DT_NEEDED entries of an ELF file ([] for anything readelf cannot read)."""
    result = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True, check=False)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", result.stdout)


def _is_dependency(dest: str) -> bool:
    """Libraries collected because something needs them (not imported or loaded by name themselves)."""
    parent = str(Path(dest).parent)
    if parent == ".":
        return not Path(dest).name.startswith("libpython")
    return parent.endswith(".libs") or parent == "PySide6/Qt/lib"


def prune_orphans(binaries, datas, report: Report):
    """Drop collected libraries that no kept extension module, plugin or loaded-by-name library needs.

    Returns the new (binaries, datas): PyInstaller keeps its top-level symbolic links to libraries in
    ``*.libs`` folders among the datas, and those pointing at dropped libraries go too.
    """
    files = {dest: src for dest, src, kind in binaries}
    by_name: dict[str, str] = {}
    for dest in files:
        by_name.setdefault(Path(dest).name, dest)
    reached = {d for d in files if not _is_dependency(d)}
    todo = list(reached)
    while todo:
        for lib in needed(Path(files[todo.pop()])):
            dest = by_name.get(lib)
            if dest is not None and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    kept_binaries = []
    for entry in binaries:
        if entry[0] in reached:
            kept_binaries.append(entry)
        else:
            report.drop("unneeded library", entry[0])
    kept_datas = []
    for dest, src, kind in datas:
        if kind == "SYMLINK":
            target = os.path.normpath(os.path.join(os.path.dirname(dest), src))
            if target in files and target not in reached:
                report.drop("link to unneeded library", dest)
                continue
        kept_datas.append((dest, src, kind))
    return kept_binaries, kept_datas


def _has_debug_info(path: Path) -> bool:
    out = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=False).stdout
    return ".debug_info" in out


def strip_debug_info(binaries, out_dir: Path, report: Report):
    """``strip --strip-debug`` copies of files with DWARF data, outside the auditwheel ``*.libs`` folders."""
    result = []
    for dest, src, kind in binaries:
        path = Path(src)
        if kind != "SYMLINK" and not str(Path(dest).parent).endswith(".libs") and path.is_file() \
                and _has_debug_info(path):
            copy = out_dir / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["strip", "--strip-debug", "-o", str(copy), str(path)], check=True)
            report.stripped.append((dest, path.stat().st_size - copy.stat().st_size))
            result.append((dest, str(copy), kind))
        else:
            result.append((dest, src, kind))
    return result
