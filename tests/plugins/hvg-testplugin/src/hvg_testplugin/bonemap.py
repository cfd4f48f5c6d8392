"""A bone-map backend and a body model, the two hvg-bonemap part kinds.

``testplugin-flat-normals`` draws what the analytic renderer draws but gives every covered
pixel the camera-facing normal ``(0, 0, -1)``, so a test can tell its output apart.
``testplugin-tall`` is the built-in body scaled 1.25x about the pelvis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from hvg_bonemap import BoneMap, Cameras, Ellipsoids
from hvg_bonemap.bodies import AnthropometricBody
from hvg_bonemap.renderers.analytic import AnalyticRenderer


class FlatNormalsRenderer:
    """Analytic silhouettes and depth with one camera-facing normal everywhere (test plugin)."""

    name = "testplugin-flat-normals"
    devices = ("cpu",)

    def __init__(self, **options: int) -> None:
        self.analytic = AnalyticRenderer(**options)

    def __call__(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        """The bone map ``(..., H, W)`` with normal ``(0, 0, -1)`` on every covered pixel."""
        maps = self.analytic(ellipsoids, cameras)
        facing = torch.tensor([0.0, 0.0, -1.0]).view(3, 1, 1)
        normal = torch.where(maps.mask.unsqueeze(-3), facing, torch.zeros(()))
        return BoneMap(maps.depth, normal.to(maps.normal.dtype), maps.mask, maps.index)


class TallBody(AnthropometricBody):
    """The built-in body scaled 1.25x about its pelvis (test plugin)."""

    name = "testplugin-tall"
    scale = 1.25

    def forward(self, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> torch.Tensor:
        """Posed joints ``(..., 55, 3)``, 1.25x farther from the pelvis than the built-in's."""
        joints = super().forward(params, **kwargs)
        pelvis = joints[..., :1, :]
        return pelvis + self.scale * (joints - pelvis)
