"""Inception-I3D (Carreira & Zisserman 2017) for FVD, in plain torch.

Parameter names equal piergiaj/pytorch-i3d's ``InceptionI3d`` and so the TATS / VideoGPT /
DisCo file ``i3d_pretrained_400.pt`` (converted from tf.hub ``deepmind/i3d-kinetics-400/1``).
Convolutions and max pools use TensorFlow "SAME" padding computed from the input size, with
zeros (inputs of the pools are post-ReLU, so zero padding equals TF's behaviour).
The final average pool is ``[temporal_pool, 7, 7]``: 2 as in piergiaj/TATS, 1 in DisCo's copy;
the two agree for 16-frame clips because the logits layer is linear (research/metrics.md §2.7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _same_padding(
    kernel: tuple[int, ...], stride: tuple[int, ...], size: tuple[int, ...]
) -> list[int]:
    pads: list[int] = []
    # F.pad wants the last dimension first.
    for k, s, n in reversed(list(zip(kernel, stride, size))):
        total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
        pads += [total // 2, total - total // 2]
    return pads


class MaxPool3dSame(nn.Module):
    """Max pool with TF "SAME" zero padding."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel = kernel
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module to a batch (shapes as in the class docstring)."""
        x = F.pad(x, _same_padding(self.kernel, self.stride, tuple(x.shape[2:])))
        return F.max_pool3d(x, self.kernel, self.stride)


class Unit3D(nn.Module):
    """Conv3d ("SAME" padding) + optional BatchNorm (eps 1e-3) + optional ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        *,
        batch_norm: bool = True,
        relu: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.kernel = kernel
        self.stride = stride
        self.relu = relu
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride=stride, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=0.001, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module to a batch (shapes as in the class docstring)."""
        x = F.pad(x, _same_padding(self.kernel, self.stride, tuple(x.shape[2:])))
        x = self.conv3d(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class InceptionModule(nn.Module):
    """Four-branch I3D block; ``out`` = (b0, b1a, b1b, b2a, b2b, b3b) channels."""

    def __init__(self, in_channels: int, out: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(in_channels, out[0])
        self.b1a = Unit3D(in_channels, out[1])
        self.b1b = Unit3D(out[1], out[2], (3, 3, 3))
        self.b2a = Unit3D(in_channels, out[3])
        self.b2b = Unit3D(out[3], out[4], (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, out[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module to a batch (shapes as in the class docstring)."""
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1
        )


_BLOCKS: tuple[tuple[str, int, tuple[int, int, int, int, int, int]], ...] = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)


class InceptionI3d(nn.Module):
    """I3D returning time-averaged logits, the FVD feature.

    Args:
        num_classes: Logit count (400 for Kinetics-400).
        temporal_pool: Temporal size of the final average pool (2: piergiaj/TATS, 1: DisCo).
    """

    def __init__(self, num_classes: int = 400, *, temporal_pool: int = 2) -> None:
        super().__init__()
        self.temporal_pool = temporal_pool
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        for name, in_channels, out in _BLOCKS:
            self.add_module(name, InceptionModule(in_channels, out))
        self.logits = Unit3D(1024, num_classes, batch_norm=False, relu=False, bias=True)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """Logits averaged over the remaining time steps.

        Args:
            video: float ``(N, 3, T, 224, 224)`` in [-1, 1]; ``T >= 9`` with ``temporal_pool=2``.

        Returns:
            float ``(N, num_classes)``.
        """
        x = self.Conv3d_1a_7x7(video)
        x = self.MaxPool3d_2a_3x3(x)
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = self.MaxPool3d_3a_3x3(x)
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = self.MaxPool3d_4a_3x3(x)
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = getattr(self, name)(x)
        x = self.MaxPool3d_5a_2x2(x)
        x = self.Mixed_5c(self.Mixed_5b(x))
        x = F.avg_pool3d(x, (self.temporal_pool, 7, 7), stride=1)
        x = self.logits(x)
        # (N, classes, t, 1, 1) -> mean over t, as the FVD references do with the logits.
        return x.squeeze(4).squeeze(3).mean(dim=2)
