"""SMPL-X body normal map (Table 3 ablation): a small exact-coverage triangle rasteriser in torch.

Coverage uses pixel centres and edge functions in screen space; depth and normals are
interpolated perspective-correctly; the nearest triangle per pixel wins through the same
``scatter_reduce(amin)`` key trick as the bone-map renderer. Normals are smooth (area-weighted
vertex normals) in camera coordinates, facing the camera.
"""

from __future__ import annotations

import math

import torch

from hvg_bonemap._validation import (
    BoneMapInputError,
    as_float_tensor,
    broadcast_batch,
    check_trailing_shape,
)
from hvg_bonemap.cameras import Cameras

_NO_HIT = torch.iinfo(torch.int64).max


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals ``(..., V, 3)`` of a triangle mesh (CCW = outward)."""
    v0, v1, v2 = (vertices[..., faces[:, i], :] for i in range(3))
    face_n = torch.linalg.cross(v1 - v0, v2 - v0)
    normals = torch.zeros_like(vertices)
    for i in range(3):
        normals.index_add_(-2, faces[:, i], face_n)
    return normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-20)


def render_mesh_normals(
    vertices: torch.Tensor, faces: torch.Tensor, cameras: Cameras
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rasterises a triangle mesh into camera-space normal maps.

    Args:
        vertices: ``(..., V, 3)`` world vertices; ``...`` broadcasts with the camera batch.
        faces: ``(F, 3)`` vertex indices.
        cameras: Cameras.

    Returns:
        ``normal (..., 3, H, W)`` unit camera-space normals (0 = background) and
        ``mask (..., H, W)`` bool.
    """
    vertices = as_float_tensor(vertices, "vertices", dtype=cameras.K.dtype, device=cameras.K.device)
    check_trailing_shape(vertices, "vertices", (None, 3), "(..., V, 3)")
    faces = torch.as_tensor(faces, device=vertices.device)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.dtype.is_floating_point:
        raise BoneMapInputError(
            f"faces: expected integer shape (F, 3), got {tuple(faces.shape)} {faces.dtype}"
        )
    faces = faces.long()
    if faces.numel() and (int(faces.min()) < 0 or int(faces.max()) >= vertices.shape[-2]):
        raise BoneMapInputError("faces: vertex index out of range")
    batch = broadcast_batch([vertices.shape[:-2], cameras.batch_shape], ["vertices", "cameras"])
    m, h, w = math.prod(batch), cameras.height, cameras.width
    cams = cameras.expand(batch)
    verts = vertices.expand(*batch, *vertices.shape[-2:]).reshape(m, -1, 3)
    normals_world = vertex_normals(verts, faces)
    cam_pts = verts @ cams.R.reshape(m, 3, 3).transpose(-1, -2) + cams.t.reshape(m, 1, 3)
    normals_cam = normals_world @ cams.R.reshape(m, 3, 3).transpose(-1, -2)
    K = cams.K.reshape(m, 3, 3)
    out_n = torch.zeros(m, 3, h * w, dtype=torch.float32, device=verts.device)
    out_mask = torch.zeros(m, h * w, dtype=torch.bool, device=verts.device)
    for i in range(m):
        _rasterise_item(cam_pts[i], normals_cam[i], faces, K[i], w, h, out_n[i], out_mask[i])
    return out_n.reshape(*batch, 3, h, w), out_mask.reshape(*batch, h, w)


def _rasterise_item(
    pts: torch.Tensor,
    nrm: torch.Tensor,
    faces: torch.Tensor,
    K: torch.Tensor,
    w: int,
    h: int,
    out_n: torch.Tensor,
    out_mask: torch.Tensor,
) -> None:
    z = pts[:, 2]
    uv = (pts @ K.T)[:, :2] / z.clamp_min(1e-9)[:, None]
    tri_uv, tri_z = uv[faces], z[faces]  # (F, 3, 2), (F, 3)
    front = (tri_z > 1e-6).all(dim=1)
    lo = torch.floor(tri_uv.amin(dim=1) - 0.5).clamp_min(0)
    hi = torch.ceil(tri_uv.amax(dim=1) - 0.5)
    hi = torch.stack([hi[:, 0].clamp(max=w - 1), hi[:, 1].clamp(max=h - 1)], -1)
    size = (hi - lo + 1).clamp_min(0)
    count = torch.where(front, size[:, 0] * size[:, 1], torch.zeros_like(size[:, 0])).long()
    total = int(count.sum())
    if total == 0:
        return
    tri = torch.repeat_interleave(
        torch.arange(len(faces), device=pts.device), count, output_size=total
    )
    local = torch.arange(total, device=pts.device) - (torch.cumsum(count, 0) - count)[tri]
    bw = size[tri, 0].long()
    px = lo[tri, 0] + (local % bw) + 0.5
    py = lo[tri, 1] + torch.div(local, bw, rounding_mode="floor") + 0.5
    a, b, c = tri_uv[tri, 0], tri_uv[tri, 1], tri_uv[tri, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    w0 = ((b[:, 0] - px) * (c[:, 1] - py) - (b[:, 1] - py) * (c[:, 0] - px)) / area
    w1 = ((c[:, 0] - px) * (a[:, 1] - py) - (c[:, 1] - py) * (a[:, 0] - px)) / area
    w2 = 1.0 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (area.abs() > 1e-12)
    zt = tri_z[tri]
    inv_z = w0 / zt[:, 0] + w1 / zt[:, 1] + w2 / zt[:, 2]
    depth = (1.0 / inv_z).to(torch.float32)
    sel = torch.nonzero(inside & (inv_z > 0)).squeeze(1)
    if sel.numel() == 0:
        return
    pixel = (py[sel] - 0.5).long() * w + (px[sel] - 0.5).long()
    key = (depth[sel].view(torch.int32).to(torch.int64) << 32) | sel
    keys = torch.full((h * w,), _NO_HIT, dtype=torch.int64, device=pts.device)
    keys.scatter_reduce_(0, pixel, key, reduce="amin")
    hit = torch.nonzero(keys != _NO_HIT).squeeze(1)
    win = keys[hit] & 0xFFFFFFFF
    f = faces[tri[win]]
    pw = torch.stack([w0[win] / zt[win, 0], w1[win] / zt[win, 1], w2[win] / zt[win, 2]], -1)
    pw = pw / pw.sum(-1, keepdim=True)
    n = (pw[..., None] * nrm[f]).sum(1)
    ray = torch.stack(
        [(px[win] - K[0, 2]) / K[0, 0], (py[win] - K[1, 2]) / K[1, 1], torch.ones_like(px[win])], -1
    )
    n = torch.where(((n * ray).sum(-1, keepdim=True) > 0), -n, n)
    n = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-20)
    out_n[:, hit] = n.T.to(out_n.dtype)
    out_mask[hit] = True


class BodyNormalSignal:
    """SMPL-X body-mesh normal map ``(..., 3, H, W)`` in [0, 1] (``(n + 1) / 2``, background 0).

    Needs a body mesh: call with posed vertices ``(..., V, 3)`` (e.g. ``SMPLXBody.vertices``).
    ``hvg_bonemap.pose_codec.pose_input(..., mesh=(vertices, faces))`` draws it from a spec.

    Args:
        faces: ``(F, 3)`` mesh faces (e.g. ``SMPLXBody.faces``).

    Attributes:
        draws_mesh: True: the signal is drawn from a posed body mesh, not from joints.
    """

    channels = 3
    layout = (("body_normal", 3),)
    draws_mesh = True

    def __init__(self, faces: torch.Tensor) -> None:
        self.faces = torch.as_tensor(faces)

    def __call__(self, vertices: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        """Normal-map signal of the posed mesh."""
        normal, mask = render_mesh_normals(vertices, self.faces, cameras)
        return torch.where(mask[..., None, :, :], 0.5 * (normal + 1.0), torch.zeros_like(normal))
