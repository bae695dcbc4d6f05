"""Train the CNN with augmentation and balanced sampling; extract features for the classifiers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from training.augment import AugmentConfig, augment
from training.cnn import DualBranchCNN


@dataclass(frozen=True)
class FitConfig:
    """Hyper-parameters of one CNN training run (fixed in advance; no early stopping on held-out data)."""

    epochs: int = 80
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    lead_pooling: bool = True
    feature_views: int = 3  # augmented views per scan added to the second stage's training features
    augment: AugmentConfig = field(default_factory=AugmentConfig)


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
    regions: list[np.ndarray],
    labels: np.ndarray,
    n_classes: int,
    config: FitConfig,
    *,
    seed: int,
    val_inputs: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    log=print,
) -> tuple[DualBranchCNN, History]:
    """Train a DualBranchCNN on augmented views of ``regions`` (context regions, see augment.py)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DualBranchCNN(n_classes, lead_pooling=config.lead_pooling)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * int(np.ceil(len(labels) / config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    history = History()
    for epoch in range(config.epochs):
        model.train()
        order = balanced_epoch(labels, rng)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:
                continue
            batch = torch.from_numpy(np.stack([augment(regions[i], rng, config.augment) for i in idx]))
            target = torch.from_numpy(labels[idx]).long()
            _, logits = model(batch)
            loss = loss_fn(logits, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == target).sum())
            total += len(idx)
        history.train_loss.append(loss_sum / total)
        history.train_acc.append(correct / total)
        message = f"epoch {epoch + 1}/{config.epochs} loss {loss_sum / total:.3f} acc {correct / total:.3f}"
        if val_inputs is not None and val_labels is not None:
            _, logits = predict(model, val_inputs)
            val_loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(val_labels).long()))
            val_acc = float((logits.argmax(1) == val_labels).mean())
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            message += f" | held-out loss {val_loss:.3f} acc {val_acc:.3f}"
        log(message)
    model.eval()
    return model, history


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
