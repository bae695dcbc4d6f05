"""PNG figures written by training: learning curves, feature importance, confusion matrices."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def training_curves(fold_histories: list[dict], final_history, path: Path) -> None:
    """Loss and accuracy per epoch: each CV fold (train solid, held-out dashed) and the final model."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for k, h in enumerate(fold_histories):
        colour = f"C{k}"
        ax_loss.plot(h["train_loss"], color=colour, label=f"fold {k + 1} train")
        ax_loss.plot(h["val_loss"], color=colour, linestyle="--", label=f"fold {k + 1} held-out")
        ax_acc.plot(h["train_acc"], color=colour)
        ax_acc.plot(h["val_acc"], color=colour, linestyle="--")
    ax_loss.plot(final_history.train_loss, color="black", linewidth=2, label="final (all data)")
    ax_acc.plot(final_history.train_acc, color="black", linewidth=2)
    ax_loss.set(title="CNN loss", xlabel="epoch")
    ax_acc.set(title="CNN accuracy", xlabel="epoch", ylim=(0, 1))
    ax_loss.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def feature_importance(booster, path: Path, *, names: list[str] | None = None, top: int = 25,
                       title: str = "LightGBM feature importance (gain)") -> None:
    """LightGBM gain importance of its input features (the top ``top``; ``names`` default to "feature i")."""
    gains = booster.feature_importance(importance_type="gain")
    order = np.argsort(gains)[::-1][:top]
    labels = [names[i] if names else f"feature {i}" for i in order]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh(labels[::-1], gains[order][::-1])
    ax.set(title=title, xlabel="total gain")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_matrices(metrics: dict, class_ids: list[str], path: Path) -> None:
    """Pooled out-of-fold confusion matrix of each classifier."""
    names = list(metrics)
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        matrix = np.array(metrics[name]["confusion_matrix"])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), v in np.ndenumerate(matrix):
            ax.text(j, i, str(v), ha="center", va="center", color="black")
        ax.set(title=f"{name}\nmacro-F1 {metrics[name]['macro_f1_mean']:.2f}", xticks=range(len(class_ids)),
               yticks=range(len(class_ids)), xlabel="predicted", ylabel="true")
        ax.set_xticklabels(class_ids, rotation=30, fontsize=7)
        ax.set_yticklabels(class_ids, fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
