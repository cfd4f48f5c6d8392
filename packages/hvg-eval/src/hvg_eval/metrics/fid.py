"""FID over individual frames (unpaired).

- ``pytorch-fid`` backend (protocol ``disco``, DisCo ``python -m pytorch_fid gen gt``): frames
  as [0, 1] floats, bilinear resize to 299 (``align_corners=False``, no antialias), ``2x−1``,
  pool3 of ``pt_inception-2015-12-05-6726825d.pth``.
- ``clean-fid`` backend (protocols ``clean`` and ``stylegan-v``): PIL-bicubic float resize to
  299 per channel, ``(x−128)/128``, the ``layers`` of NVIDIA's TorchScript
  ``inception-2015-12-05.pt``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hvg_eval.metrics.frechet_base import FrechetMetric
from hvg_eval.ops.frechet import frechet_distance
from hvg_eval.ops.resize import resize_pil_bicubic_float


class FID(FrechetMetric):
    """Streaming FID of all frames of all views."""

    name = "fid"
    higher_is_better = False
    requires_weights = ("fid-inception-pt",)
    feature_dim = 2048
    feature_network = "fid-inception-v3"

    def _build(self) -> Any:
        if self.protocol.fid_backend == "clean-fid" and self.network_name == self.feature_network:
            from hvg_eval.weights.loading import load_torchscript

            module, record = load_torchscript(
                "fid-inception-ts",
                metric=f"FID (protocol {self.protocol.name})",
                weights_dir=self.weights_dir,
                allow_unverified=self.allow_unverified_weights,
            )
            self.records.append(record)
            self.network_name = "fid-inception-ts"
            return module.layers
        return super()._build()

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """What the network receives for uint8 frames ``(N, 3, H, W)``."""
        if self.protocol.fid_backend == "clean-fid":
            resized = resize_pil_bicubic_float(frames.permute(0, 2, 3, 1).cpu().numpy(), (299, 299))
            return (torch.from_numpy(resized).permute(0, 3, 1, 2) - 128) / 128
        return frames.to(torch.float32) / 255.0

    def features(self, videos: torch.Tensor) -> np.ndarray:
        """Pool3 features of every frame of uint8 videos ``(N, T, 3, H, W)``: ``(N·T, 2048)``."""
        frames = videos.reshape(-1, *videos.shape[2:])
        out = []
        for start in range(0, frames.shape[0], 32):
            batch = self.preprocess(frames[start : start + 32]).to(self.device)
            out.append(self.network(batch).reshape(batch.shape[0], -1).double().cpu().numpy())
        return np.concatenate(out)

    def conventions(self) -> dict[str, Any]:
        """FID conventions, for result JSON."""
        clean = self.protocol.fid_backend == "clean-fid"
        return {
            **super().conventions(),
            "backend": self.protocol.fid_backend,
            "unit": "frame",
            "resize": "PIL bicubic float per channel to 299"
            if clean
            else "torch bilinear to 299, align_corners=False",
            "input_range": "(x-128)/128 of 0-255" if clean else "2x-1 of [0, 1]",
            "feature": "pool3 (2048)",
        }


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Functional twin: FID of two feature sets ``(N, 2048)`` (float64 mean, ``np.cov``)."""
    real64, fake64 = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    return frechet_distance(
        real64.mean(0), np.cov(real64, rowvar=False), fake64.mean(0), np.cov(fake64, rowvar=False)
    )
