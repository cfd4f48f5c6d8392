"""3-D ResNet-50 (Hara et al. 2018, shortcut B) for DisCo's FID-VID, in plain torch.

Parameter names equal ``kenshohara/3D-ResNets-PyTorch`` / DisCo ``tool/metrics/resnet3d.py`` and
so ``resnet-50-kinetics.pth`` (after stripping its ``module.`` prefix). The feature is the
2048-d ``avgpool`` output (``last_fc=False``); ``fc`` is kept so the file loads strictly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Bottleneck(nn.Module):
    """1×1×1 → 3×3×3 (strided) → 1×1×1 bottleneck, expansion 4."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.downsample: nn.Sequential | None = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv3d(inplanes, planes * 4, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm3d(planes * 4),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module to a batch (shapes as in the class docstring)."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class ResNet3D50(nn.Module):
    """3-D ResNet-50 returning the pooled 2048-d feature.

    Args:
        sample_size: Spatial input size (112 for the Kinetics model).
        sample_duration: Clip length (16).
        num_classes: Classes of the (unused) ``fc`` layer.
    """

    FEATURE_DIM = 2048

    def __init__(
        self, *, sample_size: int = 112, sample_duration: int = 16, num_classes: int = 400
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(3, 64, kernel_size=7, stride=(1, 2, 2), padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        inplanes = 64
        for index, (planes, blocks, stride) in enumerate(
            [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=1
        ):
            layer = []
            for block in range(blocks):
                layer.append(Bottleneck(inplanes, planes, stride if block == 0 else 1))
                inplanes = planes * 4
            self.add_module(f"layer{index}", nn.Sequential(*layer))
        self.pool_size = (
            math.ceil(sample_duration / 16),
            math.ceil(sample_size / 32),
            math.ceil(sample_size / 32),
        )
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        """Pooled features.

        Args:
            clip: float ``(N, 3, T, H, W)``, mean-subtracted 0-255 values (DisCo convention).

        Returns:
            float ``(N, 2048)``.
        """
        x = F.relu(self.bn1(self.conv1(clip)))
        x = F.max_pool3d(x, kernel_size=3, stride=2, padding=1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.avg_pool3d(x, self.pool_size, stride=1)
        return x.flatten(1)
