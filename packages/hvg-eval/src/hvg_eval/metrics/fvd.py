"""FVD: Fréchet distance of I3D (Kinetics-400) logits.

- protocol ``disco`` (DisCo "FVD-3DInception"): each video is one clip; frames PIL-bicubic
  float resized to 224×224, ``x/127.5 − 1``, I3D ``i3d_pretrained_400.pt`` with the final
  average pool ``[1, 7, 7]``, logits averaged over time; all test videos.
- ``fvd_clip="16f-stride1"``: DisCo's frame-folder path, every 16-frame window (stride 1) is a
  sample.
- protocol ``stylegan-v`` (``fvd2048_16f``): 16 consecutive frames per video — real clips start
  at a seeded random offset, fake clips at frame 0; shorter videos are skipped and counted —,
  the TorchScript ``i3d_torchscript.pt`` called with ``rescale=True, resize=True,
  return_features=True`` on 0-255 values.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from hvg_core.errors import InputError

from hvg_eval.metrics.frechet_base import FrechetMetric
from hvg_eval.ops.resize import resize_pil_bicubic_float

CLIP_FRAMES = 16


class FVD(FrechetMetric):
    """Streaming FVD; each (sample, view) video is one sample."""

    name = "fvd"
    higher_is_better = False
    requires_weights = ("i3d-pt",)
    feature_dim = 400
    feature_network = "i3d"
    network_options: ClassVar[dict[str, Any]] = {"temporal_pool": 1}

    def reset(self) -> None:
        """Forget all statistics (the real-offset generator restarts from its seed)."""
        super().reset()
        self.skipped_short = 0
        self._offsets = np.random.default_rng(self.protocol.fvd_real_offset_seed)

    def _build(self) -> Any:
        if (
            self.protocol.fvd_backend == "i3d-torchscript"
            and self.network_name == self.feature_network
        ):
            from hvg_eval.weights.loading import load_torchscript

            module, record = load_torchscript(
                "i3d-ts",
                metric=f"FVD (protocol {self.protocol.name})",
                weights_dir=self.weights_dir,
                allow_unverified=self.allow_unverified_weights,
            )
            self.records.append(record)
            self.network_name = "i3d-ts"
            return module
        return super()._build()

    def _clips(self, video: torch.Tensor, side: str) -> list[torch.Tensor]:
        """The clips one video contributes (each clip is one FVD sample)."""
        if self.protocol.fvd_clip == "whole-video":
            return [video]
        if video.shape[0] < CLIP_FRAMES:
            self.skipped_short += 1
            return []
        if self.protocol.fvd_clip == "16f-stride1":
            # DisCo's frame-folder path: every frame with 15 successors starts a window.
            return [
                video[start : start + CLIP_FRAMES]
                for start in range(video.shape[0] - CLIP_FRAMES + 1)
            ]
        offset = 0
        if side == "real":
            offset = int(self._offsets.integers(0, video.shape[0] - CLIP_FRAMES + 1))
        return [video[offset : offset + CLIP_FRAMES]]

    def features(self, videos: torch.Tensor) -> np.ndarray:
        """Logits of uint8 videos ``(N, T, 3, H, W)``: ``(n, 400)``, one row per clip."""
        out = []
        for video in videos:
            if video.shape[0] < 1:
                raise InputError("FVD needs at least one frame per video", field=self._side)
            if self.protocol.fvd_backend == "i3d-pt":
                # Resize each frame once, even when stride-1 windows overlap.
                resized = resize_pil_bicubic_float(
                    video.permute(0, 2, 3, 1).cpu().numpy(), (224, 224)
                )
                video = torch.from_numpy(resized).permute(0, 3, 1, 2)
            for clip in self._clips(video, self._side):
                if self.protocol.fvd_backend == "i3d-torchscript":
                    batch = clip.permute(1, 0, 2, 3).unsqueeze(0).to(torch.float32)
                    logits = self.network(
                        batch.to(self.device), rescale=True, resize=True, return_features=True
                    )
                else:
                    batch = clip.permute(1, 0, 2, 3).unsqueeze(0) / 127.5 - 1
                    logits = self.network(batch.to(self.device))
                out.append(logits.reshape(1, -1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))

    def conventions(self) -> dict[str, Any]:
        """FVD conventions, for result JSON."""
        torchscript = self.protocol.fvd_backend == "i3d-torchscript"
        return {
            **super().conventions(),
            "backend": self.protocol.fvd_backend,
            "clip": self.protocol.fvd_clip,
            "clip_frames": None if self.protocol.fvd_clip == "whole-video" else CLIP_FRAMES,
            "real_offset_seed": None
            if self.protocol.fvd_clip == "whole-video"
            else self.protocol.fvd_real_offset_seed,
            "skipped_short_videos": self.skipped_short,
            "resize": "inside the TorchScript (resize=True)"
            if torchscript
            else "PIL bicubic float per channel to 224",
            "input_range": "0-255 with rescale=True" if torchscript else "x/127.5-1",
            "final_avg_pool": None if torchscript else [1, 7, 7],
            "feature": "I3D logits (400), averaged over time",
        }
