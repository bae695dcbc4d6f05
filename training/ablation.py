"""What the page reading contributes, out of fold, per acquisition condition.

    python -m training.ablation --cache models/cache [--input-style ink_on_scan] [--only-folds 0,1] [--out FILE]

Takes a finished training run's fold CNNs from its cache (never trains one: the run's settings must be given
as it had them), refits each fold's LightGBM as training does, and classifies the held-out scans of every
acquisition condition (training.conditions) read three ways:

- ``app``: the app's own reading (upright, deskewed, rectified; grid crop; checks): training's own table;
- ``no_geometry``: the page as it comes (no turn, deskew or rectification), otherwise the same;
- ``no_checks``: the app's reading, but every page answered, also those the checks refuse.

Writes the three tables as JSON (``--out``) and prints them as Markdown.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from unittest import mock

import numpy as np

from ecg_desktop.core import reading
from ecg_desktop.core.geometry import PageTransform
from training import data
from training.cache import CnnCache
from training.classifiers import make_lightgbm
from training.condition_eval import fold_condition_predictions, summarise_conditions
from training.fit import FitConfig, predict
from training.train import CLASS_IDS, PREPROCESSING, RunLog, classifier_training_set, prepare



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
    return parser.parse_args(argv)


def _no_transform(image: np.ndarray) -> PageTransform:
    return PageTransform.identity(image.shape[1], image.shape[0])


def read_as_it_comes(image: np.ndarray) -> reading.PageReading:
    """The app's page reading with the page left as it comes: no turn, deskew or rectification."""
    with mock.patch.object(reading, "find_page_transform", _no_transform):
        return reading.read_page(image)


#: name -> (how the page is read, whether pages the checks refuse are answered too)
VARIANTS = {"app": (reading.read_page, False), "no_geometry": (read_as_it_comes, False),
            "no_checks": (reading.read_page, True)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = RunLog()
    config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
    with TemporaryDirectory() as scratch:  # prepare() writes a layout distribution: not into any models folder
        run = argparse.Namespace(data=args.data, limit_per_class=None, folds=args.folds, seed=args.seed,
                                 out=Path(scratch))
        prepared = prepare(run, config, CLASS_IDS, log)
    cache = CnnCache.for_run(args.cache, config, prepared.scans, prepared.folds, args.seed)
    folds = range(args.folds) if args.only_folds is None else [int(k) for k in args.only_folds.split(",")]
    missing = [k for k in folds if not (cache.directory / f"fold{k}.pt").exists()]
    if missing:
        raise SystemExit(f"folds {missing} are not trained in {cache.directory}: give the run's own settings")
    per_fold: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    labels = []
    for k in folds:
        train_idx, test_idx = prepared.folds[k]
        sources = [prepared.sources[i] for i in train_idx]
        model, _ = cache.trained(f"fold{k}", sources, prepared.labels[train_idx], len(CLASS_IDS), config,
                                 seed=args.seed + k, log=log)
        train_f, _ = predict(model, prepared.inputs[train_idx])
        train_x, train_y = classifier_training_set(model, sources, train_f, prepared.labels[train_idx], config,
                                                   args.seed + k)
        classifier = make_lightgbm(args.seed).fit(train_x, train_y)
        paths = [prepared.scans[i].path for i in test_idx]
        for name, (read, answer_all) in VARIANTS.items():
            per_fold[name].append(fold_condition_predictions(model, classifier, paths, config.preprocessing,
                                                             read=read, answer_all=answer_all))
            log(f"fold {k}: {name} done")
        labels.append(prepared.labels[test_idx])
    tables = {name: summarise_conditions(per_fold[name], labels, len(CLASS_IDS)) for name in VARIANTS}
    if args.out:
        args.out.write_text(json.dumps({"folds": list(folds), "input_style": args.input_style, **tables}, indent=2)
                            + "\n")
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
