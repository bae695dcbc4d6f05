"""Train the CNN with augmentation and balanced sampling; extract features for the classifiers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ecg_desktop.core.classify.preprocess import PREPROCESSING, PreprocessConfig
from training.augment import AugmentConfig, TrainingScan, augment
from training.cnn import DualBranchCNN


@dataclass(frozen=True)
class FitConfig:
    """Hyper-parameters of one CNN training run (no early stopping within a run).

    Epochs and regularisation were chosen by comparing runs on the cross-validation folds, so those folds are a
    tuning set: the figures measured on them are optimistic.
    """

    epochs: int = 80
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    lead_pooling: bool = True
    feature_views: int = 3  # augmented views per scan added to the second stage's training features
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    preprocessing: PreprocessConfig = PREPROCESSING  # the model's input; written into the manifest


@dataclass
class History:
    """Per-epoch training (and, when given, validation) loss and accuracy."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


def balanced_epoch(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices for one epoch drawn so every class appears equally often (oversampling the rare ones)."""
    classes = np.unique(labels)
    per_class = len(labels) // len(classes)
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=True) for c in classes]
    return rng.permutation(np.concatenate(picks))


def train_cnn(
    scans: list[TrainingScan],
    labels: np.ndarray,
    n_classes: int,
    config: FitConfig,
    *,
    seed: int,
    val_inputs: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    log=print,
) -> tuple[DualBranchCNN, History]:
    """Train a DualBranchCNN on augmented views of ``scans`` (see augment.py).

    The next batch is augmented in a background thread while the current one trains.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DualBranchCNN(n_classes, lead_pooling=config.lead_pooling)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * int(np.ceil(len(labels) / config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    history = History()
    batches = [
        order[start : start + config.batch_size]
        for order in (balanced_epoch(labels, rng) for _ in range(config.epochs))
        for start in range(0, len(order), config.batch_size)
    ]
    per_epoch = len(batches) // config.epochs
    seeds = rng.integers(0, 2**63, size=len(batches))

    def views(i: int) -> np.ndarray:
        batch_rng = np.random.default_rng(seeds[i])
        return np.stack([augment(scans[j], batch_rng, config.augment, config.preprocessing) for j in batches[i]])

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(views, 0)
        for epoch in range(config.epochs):
            model.train()
            total, correct, loss_sum = 0, 0, 0.0
            for i in range(epoch * per_epoch, (epoch + 1) * per_epoch):
                inputs = pending.result()
                if i + 1 < len(batches):
                    pending = pool.submit(views, i + 1)
                idx = batches[i]
                if len(idx) < 2:
                    continue
                target = torch.from_numpy(labels[idx]).long()
                _, logits = model(torch.from_numpy(inputs))
                loss = loss_fn(logits, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                loss_sum += loss.item() * len(idx)
                correct += int((logits.argmax(1) == target).sum())
                total += len(idx)
            _log_epoch(
                model, history, epoch, config, loss_sum / total, correct / total, val_inputs, val_labels, loss_fn, log
            )
    model.eval()
    return model, history


def _log_epoch(model, history, epoch, config, loss, accuracy, val_inputs, val_labels, loss_fn, log) -> None:
    """Record one epoch's training (and held-out) loss and accuracy."""
    history.train_loss.append(loss)
    history.train_acc.append(accuracy)
    message = f"epoch {epoch + 1}/{config.epochs} loss {loss:.3f} acc {accuracy:.3f}"
    if val_inputs is not None and val_labels is not None:
        _, logits = predict(model, val_inputs)
        val_loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(val_labels).long()))
        val_acc = float((logits.argmax(1) == val_labels).mean())
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
        message += f" | held-out loss {val_loss:.3f} acc {val_acc:.3f}"
    log(message)


@torch.no_grad()
def predict(model: DualBranchCNN, inputs: np.ndarray, *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Features and logits for preprocessed inputs (N x 3 x S x S), in eval mode."""
    was_training = model.training
    model.eval()
    features, logits = [], []
    for start in range(0, len(inputs), batch_size):
        f, lg = model(torch.from_numpy(inputs[start : start + batch_size]))
        features.append(f.numpy())
        logits.append(lg.numpy())
    model.train(was_training)
    return np.concatenate(features), np.concatenate(logits)
