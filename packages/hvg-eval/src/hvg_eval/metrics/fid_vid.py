"""FID-VID (DisCo "FVD-3DRN50"): Fréchet distance of 3-D ResNet-50 features per video.

Frames are PIL-bicubic float resized to 112×112, the Kinetics mean [114.7748, 107.7354,
99.4750] is subtracted (no std division), the video is padded to a multiple of 16 frames by
repeating its last frame, cut into 16-frame segments, and the 2048-d features are averaged over
segments: one vector per video (research/metrics.md §2.6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hvg_eval.metrics.frechet_base import FrechetMetric
from hvg_eval.ops.resize import resize_pil_bicubic_float

KINETICS_MEAN = (114.7748, 107.7354, 99.4750)
SEGMENT_FRAMES = 16
SIZE = 112


def segment_video(video: np.ndarray, length: int = SEGMENT_FRAMES) -> np.ndarray:
    """Pad ``(T, ...)`` to a multiple of ``length`` with the last frame; ``(S, length, ...)``."""
    frames = video.shape[0]
    padded_length = -(-frames // length) * length
    if padded_length != frames:
        pad = np.repeat(video[-1:], padded_length - frames, axis=0)
        video = np.concatenate([video, pad])
    return video.reshape(padded_length // length, length, *video.shape[1:])


class FIDVID(FrechetMetric):
    """Streaming FID-VID; each (sample, view) video is one sample."""

    name = "fid-vid"
    higher_is_better = False
    requires_weights = ("r3d50-kinetics",)
    feature_dim = 2048
    feature_network = "resnet3d-50"

    def features(self, videos: torch.Tensor) -> np.ndarray:
        """Segment-averaged features of uint8 videos ``(N, T, 3, H, W)``: ``(N, 2048)``."""
        mean = np.asarray(KINETICS_MEAN, dtype=np.float32)
        out = []
        for video in videos:
            resized = resize_pil_bicubic_float(
                video.permute(0, 2, 3, 1).cpu().numpy(), (SIZE, SIZE)
            )
            centred = resized - mean
            if self.protocol.fid_vid_clip == "16f-stride1":
                # DisCo's frame-folder path: every full 16-frame window is its own sample.
                count = centred.shape[0] - SEGMENT_FRAMES + 1
                if count < 1:
                    continue
                segments = np.stack([centred[s : s + SEGMENT_FRAMES] for s in range(count)])
            else:
                segments = segment_video(centred)  # (S, 16, 112, 112, 3)
            batch = torch.from_numpy(np.ascontiguousarray(segments)).permute(0, 4, 1, 2, 3)
            features = self.network(batch.to(self.device)).double().cpu().numpy()
            if self.protocol.fid_vid_clip == "16f-stride1":
                out.append(features)
            else:
                out.append(features.mean(axis=0, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))

    def conventions(self) -> dict[str, Any]:
        """FID-VID conventions, for result JSON."""
        return {
            **super().conventions(),
            "clip": self.protocol.fid_vid_clip,
            "segment_frames": SEGMENT_FRAMES,
            "padding": "repeat last frame" if self.protocol.fid_vid_clip != "16f-stride1" else None,
            "resize": f"PIL bicubic float per channel to {SIZE}",
            "mean_subtracted": list(KINETICS_MEAN),
            "feature": "3-D ResNet-50 avgpool (2048), averaged over segments",
        }
