"""One-off driver: train the named fold CNNs into the shared cache exactly as training.train's cross_validate would."""
import os
import sys
from dataclasses import replace

from training import train
from training.cache import CnnCache
from training.fit import FitConfig
from ecg_desktop.core.preprocess import PREPROCESSING

fold_numbers = [int(k) for k in os.environ["FOLDS"].split(",")]
args = train.parse_args(sys.argv[1:])
args.out.mkdir(parents=True, exist_ok=True)
log = train.RunLog()
config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
prepared = train.prepare(args, config, train.CLASS_IDS, log)
cache = CnnCache.for_run(args.cache, config, prepared.scans, prepared.folds, args.seed)
log(f"folds-only: cache {cache.directory}")
inputs, scans, labels = prepared.inputs, prepared.sources, prepared.labels
for k in fold_numbers:
    train_idx, test_idx = prepared.folds[k]
    log(f"folds-only: fold{k}")
    cache.trained(f"fold{k}", [scans[i] for i in train_idx], labels[train_idx], len(train.CLASSES), config,
                  seed=args.seed + k, val_inputs=inputs[test_idx], val_labels=labels[test_idx], log=log)
log("folds-only: done")
