"""What the page reading contributes, out of fold, per acquisition condition.

    python -m training.ablation --cache models/cache [--input-style ink_on_scan] [--only-folds 0,1] [--out FILE]

Takes a finished training run's fold CNNs from its cache (never trains one: the run's settings must be given
as it had them), refits each fold's LightGBM as training does, and classifies the held-out scans of every
acquisition condition (training.conditions) read four ways:

- ``app``: the app's own reading (upright, deskewed, rectified; grid crop; checks): training's own table;
- ``no_geometry``: the page as it comes (no turn, deskew or rectification), otherwise the same;
- ``no_checks``: the app's reading, but every page answered, also those the checks refuse;
- ``no_geometry_no_checks``: the page as it comes, every page answered (what the model alone makes of it).

Writes the four tables as JSON (``--out``, and into the run's metrics.json with ``--metrics`` for the model
card) and prints them as Markdown. Each fold's predictions are kept
beside its CNN in the cache, named by a hash of the code that reads and transforms the pages, so a stopped
ablation resumes and a changed reading is measured afresh.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from unittest import mock

import numpy as np

from ecg_desktop.core.page import reading
from training import data
from training.cache import CnnCache
from training.classifiers import make_lightgbm
from training.condition_eval import fold_condition_predictions, summarise_conditions
from training.fit import FitConfig
from training.train import CLASS_IDS, PREPROCESSING, REPO, RunLog, fold_cnn, fold_training_set, prepare


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True, help="the training run's CNN cache (its --cache)")
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=FitConfig.epochs)
    parser.add_argument("--input-style", default=PREPROCESSING.input_style)
    parser.add_argument("--only-folds", default=None, help="comma-separated fold numbers (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the tables")
    parser.add_argument("--metrics", type=Path, default=None,
                        help="the run's metrics.json: the tables go under 'ablation' (for the model card)")
    return parser.parse_args(argv)


def read_as_it_comes(image: np.ndarray) -> reading.PageReading:
    """The app's page reading with the page left as it comes: no turn, deskew or rectification."""
    with mock.patch.object(reading, "orient", reading.as_it_comes):
        return reading.read_page(image)


#: the code a fold's stored predictions depend on besides its CNN: the app's reading, the conditions and the
#: second stage's refit
READING_CODE = sorted((REPO / "ecg_desktop" / "core").rglob("*.py")) + sorted((REPO / "training").glob("*.py"))


@cache
def reading_code_hash() -> str:
    """A short hash of READING_CODE, read once a run."""
    return hashlib.sha256(b"".join(path.read_bytes() for path in READING_CODE)).hexdigest()[:16]


def stored_predictions(run_cache: CnnCache, k: int, read) -> Path:
    """Where fold ``k``'s predictions read by ``read`` are kept, named by a hash of the code they came from."""
    return run_cache.directory / f"ablation-fold{k}-{read.__name__}-{reading_code_hash()}.json"


#: name -> (how the page is read, whether pages the checks refuse are answered too); the first variant of each
#: reading pays for that reading's pass over the scans, the others reuse it.
VARIANTS = {"app": (reading.read_page, False), "no_geometry": (read_as_it_comes, False),
            "no_checks": (reading.read_page, True), "no_geometry_no_checks": (read_as_it_comes, True)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = RunLog()
    config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
    run = argparse.Namespace(data=args.data, limit_per_class=None, folds=args.folds, seed=args.seed)
    prepared = prepare(run, config, CLASS_IDS, log, layout_check=False)
    cache = CnnCache.for_run(args.cache, config, prepared.scans, prepared.folds, args.seed)
    folds = range(args.folds) if args.only_folds is None else [int(k) for k in args.only_folds.split(",")]
    missing = [k for k in folds if not (cache.directory / f"fold{k}.pt").exists()]
    if missing:
        raise SystemExit(f"folds {missing} are not trained in {cache.directory}: give the run's own settings")
    readers = list(dict.fromkeys(read for read, _ in VARIANTS.values()))
    per_fold: dict = {read: [] for read in readers}
    labels = []
    for k in folds:
        paths = [prepared.scans[i].path for i in prepared.folds[k][1]]
        stored = {read: stored_predictions(cache, k, read) for read in readers}
        if not all(path.exists() for path in stored.values()):
            model, _ = fold_cnn(prepared, config, cache, k, args.seed, log)
            _, train_x, train_y = fold_training_set(model, prepared, config, k, args.seed)
            classifier = make_lightgbm(args.seed).fit(train_x, train_y)
        for read, path in stored.items():
            if path.exists():
                predicted = json.loads(path.read_text())
            else:
                predicted = fold_condition_predictions(model, classifier, paths, config.preprocessing, read=read)
                path.write_text(json.dumps(predicted))
            log(f"fold {k}: {read.__name__} done ({path.name})")
            per_fold[read].append(predicted)
        labels.append(prepared.labels[prepared.folds[k][1]])
    tables = {name: summarise_conditions(per_fold[read], labels, len(CLASS_IDS), answer_all=answer_all)
              for name, (read, answer_all) in VARIANTS.items()}
    result = {"folds": list(folds), "input_style": args.input_style, **tables}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.metrics:
        metrics = json.loads(args.metrics.read_text())
        args.metrics.write_text(json.dumps({**metrics, "ablation": result}, indent=2) + "\n")
    print(markdown(tables))
    return 0


def markdown(tables: dict[str, dict]) -> str:
    """One row per condition: answered share and macro-F1 of the answers (mean ± std over folds) per variant."""
    conditions = list(next(iter(tables.values())))
    lines = ["| condition | " + " | ".join(tables) + " |", "|---|" + "---|" * len(tables)]
    for condition in conditions:
        cells = [f"{t[condition]['answered']:.0%} answered, {t[condition]['macro_f1_mean']:.3f} ± "
                 f"{t[condition]['macro_f1_std']:.3f}" for t in tables.values()]
        lines.append(f"| {condition} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
