"""Command-line interface: ``ecg-desktop [SCAN]`` starts the app; sub-commands work headless.

    ecg-desktop classify PATH... [--json]
    ecg-desktop batch (DIR | --from-list FILE) --out OUTDIR [--pdf] [--digitize] [--workers N] [--rerun]
                      [--scheduler ADDRESS]
    ecg-desktop report SCAN --out report.pdf [--patient-id ID] [--patient-name NAME] [--saliency] [--signals]
    ecg-desktop digitize SCAN... --out DIR [--format csv,wfdb]   (12-lead signals and measurements)
    ecg-desktop --version
    ecg-desktop --self-test      (headless check of an installation; exit 0 when all is well)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ecg_desktop import __version__

if TYPE_CHECKING:  # the core is imported in main(), where Ctrl-C during start-up is caught
    from ecg_desktop.core.batch.progress import BatchProgress
    from ecg_desktop.core.batch.scan import BatchItem
    from ecg_desktop.core.classify.model import EcgModel

COMMANDS = {"classify", "batch", "report", "digitize"}
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C
log = logging.getLogger("ecg_desktop.cli")


def _workers(text: str) -> int:
    """``--workers``: a whole number the core accepts (core.batch.run.check_workers)."""
    from ecg_desktop.core.batch.run import check_workers
    from ecg_desktop.core.errors import EcgDeskError

    try:
        return check_workers(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number is needed, not {text!r}") from None
    except EcgDeskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    from ecg_desktop.core.batch.run import DEFAULT_WORKERS

    parser = argparse.ArgumentParser(prog="ecg-desktop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the app and model versions")
    parser.add_argument("--self-test", action="store_true", help="verify models, classify the samples, write a PDF")
    commands = parser.add_subparsers(dest="command")

    classify = commands.add_parser("classify", help="classify scans (files or folders, recursive)")
    classify.add_argument("paths", nargs="+", type=Path)
    classify.add_argument("--json", action="store_true", help="one JSON object per line")
    classify.add_argument(
        "--workers", type=_workers, default=DEFAULT_WORKERS, help="files decoded and classified in parallel (1-64)"
    )

    batch = commands.add_parser("batch", help="classify a folder, or the files in a list, into results.csv (and PDFs)")
    source = batch.add_mutually_exclusive_group(required=True)
    source.add_argument("folder", type=Path, nargs="?", help="folder of scans (searched recursively)")
    source.add_argument("--from-list", type=Path, metavar="FILE",
                        help="a text file naming one scan (or folder) per line, instead of a folder")
    batch.add_argument("--out", type=Path, required=True, help="output folder for results.csv and PDFs")
    batch.add_argument("--pdf", action="store_true", help="write a PDF per scan and a summary PDF")
    batch.add_argument("--digitize", action="store_true",
                       help="also write each scan's signals (OUTDIR/signals/NAME.csv) and measurements "
                            "(OUTDIR/measurements.jsonl)")
    batch.add_argument("--workers", type=_workers, default=DEFAULT_WORKERS,
                       help="files decoded and classified in parallel (1-64)")
    batch.add_argument("--rerun", action="store_true", help="classify again files already in results.csv")
    batch.add_argument("--facility", default="", help="facility name printed on PDF reports")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="classify on the Dask cluster of this scheduler (tcp://host:8786; ecg-desktop[cluster])")

    report = commands.add_parser("report", help="write a PDF report for one scan")
    report.add_argument("scan", type=Path)
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--patient-id", default="")
    report.add_argument("--patient-name", default="")
    report.add_argument("--date-of-birth", default="")
    report.add_argument("--facility", default="")
    report.add_argument("--page-size", choices=["A4", "Letter"], default="A4")
    report.add_argument(
        "--saliency", action="store_true",
        help="overlay the occlusion heat map on the scan and name the leads that drove the result (~0.5 s more)",
    )
    report.add_argument(
        "--signals", action="store_true",
        help="digitize the traces: add the measurements and the 12 leads redrawn from the signals (~1-2 s more)",
    )
    digitize = commands.add_parser("digitize", help="digitize the traces of scans into CSV / WFDB files")
    digitize.add_argument("scans", nargs="+", type=Path, metavar="SCAN", help="scans (files or folders, recursive)")
    digitize.add_argument("--out", type=Path, required=True, help="output folder")
    digitize.add_argument("--format", default="csv,wfdb", help="csv, wfdb or both (comma-separated; default both)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names; its exit status. Ctrl-C at any time, start-up included, ends it with a
    line and status 130 (a batch first says how far it got)."""
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        print("ecg-desktop: stopped (Ctrl-C).", file=sys.stderr)
        return INTERRUPTED


def _main(argv: list[str]) -> int:
    from ecg_desktop.core.classify.model import EcgModel
    from ecg_desktop.core.errors import EcgDeskError, ModelError
    from ecg_desktop.core.logs import setup_logging

    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        return _start_gui(Path(argv[0]) if argv else None)
    args = build_parser().parse_args(argv)
    if args.version:
        return _print_version()
    if args.self_test:
        return _self_test()
    if args.command is None:
        return _start_gui(None)
    setup_logging()  # $ECG_DESK_LOG_DIR or the user's data folder; events only, never paths or patient data
    log.info("ECG Desk %s: %s command", __version__, args.command)
    try:
        if args.command == "digitize":
            return _digitize(args)
        try:
            model = EcgModel.load(threads=1 if getattr(args, "workers", 1) > 1 else 0)
        except ModelError as exc:
            log.error("model not loaded: %s", exc)
            raise
        log.info("model loaded: version %s", model.version)
        return {"classify": _classify, "batch": _batch, "report": _report}[args.command](model, args)
    except EcgDeskError as exc:
        log.error("%s command failed: %s", args.command, type(exc).__name__)
        print(f"ecg-desktop: {exc}", file=sys.stderr)
        return 1


def _digitize(args: argparse.Namespace) -> int:
    """One JSON line per scan on stdout (the same lines in OUT/measurements.jsonl); exit 1 if any scan failed."""
    from ecg_desktop.core.batch.run import find_scans
    from ecg_desktop.core.names import json_line
    from ecg_desktop.core.outputs import MEASUREMENTS_FILE
    from ecg_desktop.core.signals.export import FORMATS, digitize_files

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    if not formats or set(formats) - set(FORMATS):
        print(f"ecg-desktop digitize: --format takes {', '.join(FORMATS)} or both, comma-separated", file=sys.stderr)
        return 2
    files, missing = find_scans(args.scans)
    failed = 0
    for line in digitize_files([*(item.path for item in missing), *files], args.out, formats):
        failed += line["error"] is not None
        print(json_line(line), flush=True)
    log.info("digitize finished: %d digitized, %d failed", len(files) + len(missing) - failed, failed)
    print(f"{len(files) + len(missing) - failed} scans digitized, {failed} failed; measurements in "
          f"{args.out / MEASUREMENTS_FILE}", file=sys.stderr)
    return 1 if failed else 0


def _start_gui(path: Path | None) -> int:
    if sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        print("ecg-desktop: no display found; use classify, batch, report or --self-test "
              "(or set QT_QPA_PLATFORM=offscreen)", file=sys.stderr)
        return 2
    from ecg_desktop.gui.app import run_gui

    return run_gui(path)


def _self_test() -> int:
    from ecg_desktop.core.self_test import run_self_test

    try:
        run_self_test()
    except Exception as exc:  # noqa: BLE001 -- any failure must reach the exit code with its reason
        print(f"self-test FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_version() -> int:
    from ecg_desktop.core.classify.model import EcgModel
    from ecg_desktop.core.errors import ModelError

    try:
        model_version = EcgModel.load().version
    except ModelError as exc:
        model_version = f"unavailable ({exc})"
    print(f"ECG Desk {__version__}\nmodel {model_version}")
    return 0


def _classify(model: EcgModel, args: argparse.Namespace) -> int:
    """One line per file (JSON with --json); exit 1 if a file failed or none was found."""
    from ecg_desktop.core.batch.run import classify_files, find_scans, nothing_found
    from ecg_desktop.core.names import json_line

    files, missing = find_scans(args.paths)
    if not files and not missing:
        print(f"ecg-desktop: {nothing_found(args.paths)}", file=sys.stderr)
        return 1
    failed = 0
    for item in [*missing, *classify_files(model, files, workers=args.workers)]:
        failed += item.failed
        print(json_line(_as_json(item, model)) if args.json else _as_text(item, model), flush=True)
    log.info("classify finished: %d classified, %d failed", len(files) + len(missing) - failed, failed)
    return 1 if failed else 0


def _as_json(item: BatchItem, model: EcgModel) -> dict:
    """One JSON line; see the README's command-line section for what each field means in each state."""
    result = item.result
    return {
        "file": str(item.path),
        "assessable": result.assessable if result else None,
        "label": result.label if result else None,
        "reasons": [reason.as_dict() for reason in result.reasons] if result else [],
        "probabilities": _rounded(result.diagnostic_probabilities) if result else None,
        "model_outputs_not_a_diagnosis": _rounded(result.model_outputs_not_a_diagnosis) if result else None,
        "findings": list(result.findings) if result else [],
        "crop": result.crop.as_list() if result else None,
        "warnings": list(result.warnings) if result else [],
        "low_confidence": result.low_confidence if result else None,
        "out_of_distribution": result.out_of_distribution if result else None,
        "other_printout": result.other_printout if result else None,
        "model_version": model.version,
        "error": item.error,
    }


def _rounded(probabilities: dict[str, float] | None) -> dict[str, float] | None:
    return None if probabilities is None else {k: round(v, 6) for k, v in probabilities.items()}


def _as_text(item: BatchItem, model: EcgModel) -> str:
    from ecg_desktop.core.names import name_text

    if item.result is None:
        return name_text(f"{item.path}: ERROR {item.error}")
    result = item.result
    verdict = result.verdict(model.manifest)
    if result.diagnostic_probabilities is not None:
        verdict += " (" + "  ".join(f"{k} {v:.2f}" for k, v in result.diagnostic_probabilities.items()) + ")"
    return name_text(f"{item.path}: {verdict}") + "".join(f"\n    warning: {name_text(w)}" for w in result.warnings)


def _batch(model: EcgModel, args: argparse.Namespace) -> int:
    """Ctrl-C stops the batch with every row so far in results.csv (exit 130); running it again goes on."""
    from ecg_desktop.core.batch.listing import ListFile
    from ecg_desktop.core.batch.run import plan_batch, run_batch
    from ecg_desktop.core.names import name_text
    from ecg_desktop.core.reports.report_pdf import ReportOptions

    plan = plan_batch(ListFile(args.from_list) if args.from_list else [args.folder], args.out, rerun=args.rerun,
                      pdf=args.pdf, digitize=args.digitize)
    if plan.nothing_found:
        print(f"ecg-desktop: {plan.nothing_found}", file=sys.stderr)
        return 1
    if plan.skipped:
        print(f"{plan.skipped} files already in {args.out / 'results.csv'} are skipped (--rerun to redo them)")
    bar = _ProgressBar(enabled=sys.stderr.isatty())
    progress = plan.progress_at_start()
    options = ReportOptions(facility=args.facility)
    steps = run_batch(model, plan, workers=args.workers, pdf=args.pdf, options=options, scheduler=args.scheduler,
                      digitize=args.digitize)
    try:
        for step in steps:
            progress = step.progress
            if step.item.error:
                bar.note(name_text(f"{'failed: ' if step.item.failed else ''}{step.item.path}: {step.item.error}"))
            if step.item.signals and step.item.signals["error"]:
                bar.note(name_text(f"not digitized: {step.item.path}: {step.item.signals['error']}"))
            bar.update(progress)
    except KeyboardInterrupt:
        bar.finish()
        print(f"{progress.summary(cancelled=True)} Results: {args.out / 'results.csv'}")
        return INTERRUPTED
    bar.finish()
    print(f"{progress.summary()} Results: {args.out / 'results.csv'}")
    return 1 if progress.has_problems else 0


def _report(model: EcgModel, args: argparse.Namespace) -> int:
    from ecg_desktop.core.classify.saliency import saliency_of
    from ecg_desktop.core.loading import pdf_pages
    from ecg_desktop.core.loading.image_io import load_for_analysis, load_image
    from ecg_desktop.core.loading.page_choice import default_page
    from ecg_desktop.core.logs import file_id
    from ecg_desktop.core.names import name_text
    from ecg_desktop.core.outputs import refuse_overwrite
    from ecg_desktop.core.page.reading import read_page
    from ecg_desktop.core.reports.report_pdf import PatientInfo, ReportOptions, write_report
    from ecg_desktop.core.signals.signal_reading import read_signals

    refuse_overwrite(args.out, ours=pdf_pages.is_report_file, inputs=[pdf_pages.split_page_ref(args.scan)[0]])
    page = default_page(args.scan)
    if page.note():
        print(f"{page.note()}; name another page as '{args.scan}#page=N'.", file=sys.stderr)
    scan = load_for_analysis(page.path)
    reading = read_page(scan.pixels, image_size=scan.file_size)
    result = model.classify_page(reading)
    write_report(
        args.out, image=scan.pixels, result=result, manifest=model.manifest, source_name=name_text(page.path.name),
        patient=PatientInfo(args.patient_id, args.patient_name, args.date_of_birth),
        options=ReportOptions(facility=args.facility, page_size=args.page_size),
        saliency=saliency_of(model, reading, result) if args.saliency else None,
        signals=read_signals(load_image(page.path), reading=reading) if args.signals or result.signals_follow else None,
    )
    log.info("report written for scan %s", file_id(page.path))
    print(name_text(f"{page.path}: {result.verdict(model.manifest).rstrip('.')}; report written to {args.out}"))
    return 0


class _ProgressBar:
    """The core's progress line behind a text bar on a terminal (silent when output is not a terminal)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled

    def update(self, progress: BatchProgress) -> None:
        if not self.enabled or not progress.total:
            return
        bar = "#" * int(30 * progress.done / progress.total)
        print(f"\r[{bar:<30}] {progress.status()}\033[K", end="", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        print(("\n" if self.enabled else "") + message, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.enabled:
            print(file=sys.stderr)
