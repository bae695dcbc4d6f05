"""The dual-branch CNN: a convolutional *stack* branch and a dense *full* branch, merged."""

from __future__ import annotations

import torch
from torch import nn

FEATURE_SIZE = 64


def _block(cin: int, cout: int, dropout: float) -> nn.Sequential:
    """Conv2D -> BatchNorm -> LeakyReLU -> MaxPool -> Dropout."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.1),
        nn.MaxPool2d(2),
        nn.Dropout2d(dropout),
    )


class DualBranchCNN(nn.Module):
    """Stack branch (5 conv blocks) + full branch (Dense -> reshape -> upsample), merged at 14x14.

    ``lead_pooling`` pools the merged map to a 4x4 grid that follows the printout's layout
    (3 rows of 4 lead panels and the rhythm strip) instead of one global average, so the
    features keep which lead a pattern came from. The seed's configuration uses global pooling.
    """

    def __init__(self, n_classes: int, *, lead_pooling: bool = True) -> None:
        super().__init__()
        self.stack = nn.Sequential(
            _block(3, 16, 0.0), _block(16, 32, 0.0), _block(32, 64, 0.05), _block(64, 96, 0.05)
        )  # 227 -> 113 -> 56 -> 28 -> 14
        self.full_in = nn.AvgPool2d(14)  # 227 -> 16x16
        self.full = nn.Sequential(
            nn.Flatten(), nn.Linear(3 * 16 * 16, 256), nn.LeakyReLU(0.1), nn.Dropout(0.2),
            nn.Linear(256, 16 * 7 * 7), nn.LeakyReLU(0.1),
        )
        self.upsample = nn.Upsample(size=(14, 14), mode="nearest")
        self.merged = nn.Sequential(
            nn.Conv2d(96 + 16, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),
            nn.Conv2d(128, 32, 1), nn.LeakyReLU(0.1),
        )
        grid = 4 if lead_pooling else 1
        # 14x14 -> 4x4 with windows 5 wide every 3 (ONNX needs fixed pooling windows)
        self.pool = nn.AvgPool2d(5, stride=3) if lead_pooling else nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * grid * grid, 128), nn.LeakyReLU(0.1), nn.Dropout(0.2),
            nn.Linear(128, FEATURE_SIZE), nn.LeakyReLU(0.1),
        )
        self.classifier = nn.Linear(FEATURE_SIZE, n_classes)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (features from the last dense layer, class logits)."""
        stacked = self.stack(image)
        full = self.full(self.full_in(image)).view(-1, 16, 7, 7)
        merged = self.merged(torch.cat([stacked, self.upsample(full)], dim=1))
        features = self.head(self.pool(merged))
        return features, self.classifier(features)
