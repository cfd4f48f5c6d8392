"""A pose signal: the bone map's silhouette as one channel (its own guider in the network)."""

from __future__ import annotations

from typing import Any

import torch
from hvg_bonemap import ellipsoids_from_joints, render


class SilhouetteSignal:
    """Bone-map coverage ``(..., 1, H, W)`` in {0, 1} (test plugin)."""

    name = "testplugin-silhouette"
    channels = 1
    layout = (("silhouette", 1),)
    spec_options = ("bones", "radii")

    def __init__(self, bones: str = "paper", radii: Any = None) -> None:
        self.bones, self.radii = bones, radii

    def __call__(self, joints: torch.Tensor, cameras: Any) -> torch.Tensor:
        """Silhouette of joints ``(..., 55, 3)`` seen by (aligned) cameras."""
        maps = render(ellipsoids_from_joints(joints, self.bones, self.radii), cameras)
        return maps.mask.to(torch.float32)[..., None, :, :]
