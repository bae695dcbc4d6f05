"""One-off driver: train only the run's "final" CNN into the shared cache, exactly as training.train would."""
import sys
from dataclasses import replace

from training import train
from training.cache import CnnCache
from training.fit import FitConfig
from ecg_desktop.core.preprocess import PREPROCESSING

args = train.parse_args(sys.argv[1:])
args.out.mkdir(parents=True, exist_ok=True)
log = train.RunLog()
config = FitConfig(epochs=args.epochs, preprocessing=replace(PREPROCESSING, input_style=args.input_style))
prepared = train.prepare(args, config, train.CLASS_IDS, log)
cache = CnnCache.for_run(args.cache, config, prepared.scans, prepared.folds, args.seed)
log(f"final-only: cache {cache.directory}")
cache.trained("final", prepared.sources, prepared.labels, len(train.CLASSES), config, seed=args.seed, log=log)
log("final-only: done")
