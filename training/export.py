"""Export the trained CNN to ONNX (inputs ``image``, outputs ``features`` and ``logits``) and check it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import torch

from training.cnn import DualBranchCNN


def export_onnx(model: DualBranchCNN, path: Path, *, input_size: int) -> None:
    """Write ``model`` as ONNX with a dynamic batch axis."""
    model.eval()
    example = torch.rand(1, 3, input_size, input_size)
    torch.onnx.export(
        model, (example,), str(path), dynamo=False, opset_version=17,
        input_names=["image"], output_names=["features", "logits"],
        dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}},
    )


def max_abs_difference(model: DualBranchCNN, path: Path, *, input_size: int, batch: int = 4, seed: int = 0) -> float:
    """Largest |onnxruntime - PyTorch| over features and logits on random inputs."""
    inputs = np.random.default_rng(seed).random((batch, 3, input_size, input_size), dtype=np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_out = session.run(["features", "logits"], {"image": inputs})
    with torch.no_grad():
        torch_out = [t.numpy() for t in model.eval()(torch.from_numpy(inputs))]
    return float(max(np.abs(a - b).max() for a, b in zip(onnx_out, torch_out)))
