"""The output of every bone-map backend."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BoneMap:
    """Depth, normal and mask maps of ellipsoids seen through cameras.

    ``...`` is the broadcast of the ellipsoid and camera batch shapes (e.g. ``(V, T)``).

    Attributes:
        depth: ``(..., H, W)`` float32, Euclidean distance in metres from the camera centre to
            the nearest surface point through each pixel centre; 0 for background.
        normal: ``(..., 3, H, W)`` float32 unit surface normals in camera coordinates (OpenCV
            axes), facing the camera (``n . ray <= 0``); 0 for background.
        mask: ``(..., H, W)`` bool, True where a ray hits an ellipsoid.
        index: ``(..., H, W)`` int32, index ``0..N-1`` of the visible ellipsoid; -1 for background.
    """

    depth: torch.Tensor
    normal: torch.Tensor
    mask: torch.Tensor
    index: torch.Tensor

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``...``."""
        return tuple(self.depth.shape[:-2])

    def normal_uint8(self) -> torch.Tensor:
        """Normals stored as ``uint8 = round((n + 1) * 127.5)``, 0 for background, ``(..., 3, H, W)``."""
        encoded = torch.round((self.normal + 1.0) * 127.5).clamp(0, 255).to(torch.uint8)
        return torch.where(self.mask[..., None, :, :], encoded, torch.zeros_like(encoded))

    def reshape(self, *batch_shape: int) -> BoneMap:
        """Reshapes the batch dimensions."""
        h, w = self.depth.shape[-2:]
        return BoneMap(
            self.depth.reshape(*batch_shape, h, w),
            self.normal.reshape(*batch_shape, 3, h, w),
            self.mask.reshape(*batch_shape, h, w),
            self.index.reshape(*batch_shape, h, w),
        )
