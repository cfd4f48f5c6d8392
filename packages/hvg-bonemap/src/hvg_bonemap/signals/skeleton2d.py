"""2-D skeleton map: bones of the projected joints drawn as coloured limbs (Table 3 ablation)."""

from __future__ import annotations

import colorsys
import math

import torch

from hvg_bonemap._validation import as_float_tensor, broadcast_batch, check_trailing_shape
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.skeleton import DEFAULT_BONE_SET, Bone, joint_positions_with_virtual, resolve_bones


def bone_colors(count: int) -> torch.Tensor:
    """``(count, 3)`` distinct, fully saturated colours in [0, 1] (hue wheel, OpenPose-like)."""
    return torch.tensor(
        [colorsys.hsv_to_rgb(i / max(count, 1), 1.0, 1.0) for i in range(count)],
        dtype=torch.float32,
    )


class Skeleton2DSignal:
    """Projected bones drawn as anti-aliasing-free limbs of fixed pixel width.

    Bones are drawn in bone order (later bones over earlier ones); joints behind the camera drop
    their bones. Output ``(..., 3, H, W)`` in [0, 1], background 0.

    Args:
        bones: Bone-set name or ``Bone`` list.
        width_px: Limb width in pixels at a 576-pixel-high image (scaled with the height).
    """

    channels = 3
    layout = (("skeleton2d", 3),)
    spec_options = ("bones", "width_px")

    def __init__(
        self, bones: str | tuple[Bone, ...] = DEFAULT_BONE_SET, width_px: float = 6.0
    ) -> None:
        self.bones = resolve_bones(bones)
        self.width_px = width_px
        self.colors = bone_colors(len(self.bones))

    def __call__(self, joints: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        """Draws the skeleton of joints ``(..., 55, 3)`` seen by ``cameras``."""
        joints = as_float_tensor(joints, "joints", dtype=cameras.K.dtype, device=cameras.K.device)
        check_trailing_shape(joints, "joints", (55, 3), "(..., 55, 3)")
        batch = broadcast_batch([joints.shape[:-2], cameras.batch_shape], ["joints", "cameras"])
        points = joint_positions_with_virtual(
            joints, {b.start for b in self.bones} | {b.end for b in self.bones}
        )
        ends = torch.stack(
            [torch.stack([points[b.start], points[b.end]], dim=-2) for b in self.bones], dim=-3
        )  # (..., B, 2, 3)
        ends = ends.expand(*batch, len(self.bones), 2, 3)
        uv, z = cameras.expand(batch).project(ends.reshape(*batch, -1, 3))
        uv = uv.reshape(-1, len(self.bones), 2, 2)
        visible = (z.reshape(-1, len(self.bones), 2) > 1e-6).all(dim=-1)
        h, w = cameras.height, cameras.width
        radius = 0.5 * self.width_px * h / 576.0
        out = torch.zeros(uv.shape[0], 3, h, w, dtype=torch.float32, device=uv.device)
        colors = self.colors.to(uv.device)
        for item in range(uv.shape[0]):
            for k in range(len(self.bones)):
                if bool(visible[item, k]):
                    _draw_segment(out[item], uv[item, k, 0], uv[item, k, 1], radius, colors[k])
        return out.reshape(*batch, 3, h, w)


def _draw_segment(
    image: torch.Tensor, a: torch.Tensor, b: torch.Tensor, radius: float, color: torch.Tensor
) -> None:
    """Paints pixels whose centre lies within ``radius`` of segment ``ab`` (bounding-box window)."""
    _, h, w = image.shape
    lo = torch.minimum(a, b) - radius
    hi = torch.maximum(a, b) + radius
    x0, y0 = max(0, math.floor(float(lo[0]))), max(0, math.floor(float(lo[1])))
    x1, y1 = min(w, math.ceil(float(hi[0])) + 1), min(h, math.ceil(float(hi[1])) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    ys = torch.arange(y0, y1, dtype=a.dtype, device=a.device) + 0.5
    xs = torch.arange(x0, x1, dtype=a.dtype, device=a.device) + 0.5
    py, px = torch.meshgrid(ys, xs, indexing="ij")
    d = b - a
    length_sq = float((d * d).sum())
    t = (
        ((px - a[0]) * d[0] + (py - a[1]) * d[1]) / length_sq
        if length_sq > 0
        else torch.zeros_like(px)
    )
    t = t.clamp(0.0, 1.0)
    dist_sq = (px - a[0] - t * d[0]) ** 2 + (py - a[1] - t * d[1]) ** 2
    inside = dist_sq <= radius * radius
    window = image[:, y0:y1, x0:x1]
    window[:, inside] = color[:, None].to(window.dtype)
