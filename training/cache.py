"""Trained CNNs kept on disk so a stopped training run resumes where it was."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from training.cnn import DualBranchCNN
from training.fit import FitConfig, History, train_cnn


@dataclass(frozen=True)
class CnnCache:
    """A folder of ``<name>.pt`` CNNs for one run; the folder name is a hash of everything they depend on."""

    directory: Path

    @classmethod
    def for_run(cls, root: Path, config: FitConfig, scans, folds, seed: int) -> CnnCache:
        """The cache of a run with these settings, data (file hashes and labels) and folds."""
        key = json.dumps({
            "fit": asdict(config), "seed": seed,
            "files": [[s.sha256, int(s.label)] for s in scans],
            "folds": [test.tolist() for _, test in folds],
        }, sort_keys=True)
        directory = root / hashlib.sha256(key.encode()).hexdigest()[:16]
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory)

    def trained(self, name: str, scans, labels: np.ndarray, n_classes: int, config: FitConfig, *, seed: int,
                log=print, **validation) -> tuple[DualBranchCNN, History]:
        """The CNN called ``name``: loaded when a finished one is on disk, else trained and saved at once."""
        path = self.directory / f"{name}.pt"
        if path.exists():
            stored = torch.load(path, weights_only=False)
            model = DualBranchCNN(n_classes, lead_pooling=config.lead_pooling)
            model.load_state_dict(stored["state"])
            model.eval()
            log(f"{name}: loaded the trained CNN from {path}")
            return model, History(**stored["history"])
        model, history = train_cnn(scans, labels, n_classes, config, seed=seed, log=log, **validation)
        partial = path.with_suffix(".part")
        torch.save({"state": model.state_dict(), "history": asdict(history)}, partial)
        partial.replace(path)
        return model, history
