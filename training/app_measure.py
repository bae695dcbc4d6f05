"""Measure the app's applicability check and answers through EcgModel.classify, as a user's scans go.

    python -m training.app_measure [--models models] [--pages 20] [--every 1] [--workers 2]

- Catch rate per negative family (training.negatives, never used to fit anything): the share of pages
  the app declares not assessable, and which reasons it gives.
- On the real scans, clean and under each acquisition condition (training.conditions): the share
  answered, and macro-F1 of the answers. With the shipped model these scans are TRAINING scans, so
  these macro-F1 figures are optimistic; the answered share measures the checks, which the scans of
  the condition never tuned. The results go to ``metrics.json`` under ``app_measurement``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from ecg_desktop.core.batch.run import DEFAULT_WORKERS, one_opencv_thread_per_worker
from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.loading.image_io import load_image
from training import data
from training.conditions import CONDITIONS, apply_condition
from training.negatives import NEGATIVE_FAMILIES
from training.report import applicability_markdown, update_readme

REPO = Path(__file__).resolve().parents[1]


def negative_catch_rates(model: EcgModel, pages: int, pool: ThreadPoolExecutor) -> dict:
    """Per family: pages rendered, the share not assessable, and how often each reason was given."""
    rates = {}
    for name, render in NEGATIVE_FAMILIES.items():
        results = list(pool.map(lambda seed, render=render: model.classify(render(seed)), range(pages)))
        reasons = Counter(r.code for result in results for r in result.reasons)
        rates[name] = {"pages": pages, "catch_rate": float(np.mean([not r.assessable for r in results])),
                       "reasons": dict(reasons)}
    return rates


def condition_answers(
    model: EcgModel, files: list[tuple[Path, int]], class_ids: list[str], pool: ThreadPoolExecutor
) -> dict:
    """Per acquisition condition: share of real scans answered, macro-F1 of the answers, reasons given."""
    table = {}
    for name in CONDITIONS:
        truth, answers, reasons = [], [], Counter()

        def classify(index: int, name: str = name) -> Classification:
            return model.classify(apply_condition(name, load_image(files[index][0]), seed=index))

        for (_, label), result in zip(files, pool.map(classify, range(len(files)))):
            reasons.update(r.code for r in result.reasons)
            if result.assessable:
                truth.append(label)
                answers.append(class_ids.index(result.label))
        table[name] = {
            "scans": len(files), "answered": len(answers) / len(files),
            "macro_f1_of_answers": float(f1_score(truth, answers, labels=range(len(class_ids)), average="macro",
                                                  zero_division=0)) if answers else None,
            "reasons": dict(reasons),
        }
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--pages", type=int, default=20, help="pages rendered per negative family")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README whose section is updated")
    parser.add_argument("--every", type=int, default=1, help="use every Nth real scan for the conditions")
    parser.add_argument("--report-only", action="store_true", help="rewrite the Markdown from metrics.json")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="scans classified at once")
    args = parser.parse_args(argv)
    model = EcgModel.load(args.models, threads=1 if args.workers > 1 else 0)
    metrics_path = args.models / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    if not args.report_only:
        class_ids = model.manifest.class_ids
        files = data.discover(args.data, class_ids)[:: args.every]
        with one_opencv_thread_per_worker(args.workers), ThreadPoolExecutor(args.workers) as pool:
            metrics["app_measurement"] = {
                "model_version": model.version,
                "negative_families": negative_catch_rates(model, args.pages, pool),
                "conditions_on_training_scans": condition_answers(model, files, class_ids, pool),
            }
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    measured = metrics["app_measurement"]
    text = applicability_markdown(measured, model.manifest.raw)
    (args.models / "applicability.md").write_text(text + "\n")
    if args.readme.exists():
        update_readme(args.readme, text, "applicability")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
