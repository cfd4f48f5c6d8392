"""The previous analytic renderer (before issue 14), kept verbatim as the benchmark's anchor.

Only ``bench_render.py`` imports it, to measure the current renderer against it in the same run.
Its algorithm: span rows bucketed by width and evaluated as dense padded blocks (one Python
iteration per bucket), hit pixels found by scanning the whole z-buffer, shading from per-instance
tables gathered per hit pixel.

Original module docstring: Fast exact ray-ellipsoid renderer: row spans from the projected quadric, then per-pixel roots.

Why this layout: the cost of a bone map should follow the covered pixels, not pixels x bones.
Along an image row ``v`` the ray through pixel centre ``u`` is ``d = p(v) + u q`` with ``d_z = 1``,
so the discriminant of the ray-quadric equation ``(d^T Q d) z^2 - 2 (d^T Q c) z + c^T Q c - 1 = 0``
is a quadratic in ``u``: the exact silhouette span of each (item, ellipsoid, row) is known in
closed form, and the rows come from the exact vertical extent of the projected ellipse (dual
conic ``K (Sigma - c c^T) K^T``). Only pixels inside these spans (widened by one pixel, so that
float32 decides the boundary like the reference) are evaluated. Per-row coefficients are
computed in float64 around the span centre (no cancellation in the interior) and the pixels of
rows with similar span widths are evaluated as dense ``(rows, width)`` float32 blocks with
broadcast row constants (no per-pixel gathers). The near root ``z = C / (B + sqrt(disc))`` is
the camera-space z of the hit. The nearest hit per pixel is resolved with one
``scatter_reduce(amin)`` on an int64 key ``bits(z) << 32 | ellipsoid`` (positive float32 bit
patterns order like their values). Normals ``Q (z d - c)`` and distances ``z |d|`` are computed
only for the winning pixels.

Ellipsoids containing the camera centre, and ellipsoids entirely behind it, are not drawn;
ellipsoids cut by the camera plane are handled exactly (full rows, per-pixel root sign).
"""

from __future__ import annotations

import math
import threading

import torch

from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids
from hvg_bonemap.renderers._scene import FlatScene, flatten_scene
from hvg_bonemap.renderers.output import BoneMap

_NO_HIT = torch.iinfo(torch.int64).max
_LOW32 = 0xFFFFFFFF
_BUCKETS = (
    4,
    6,
    8,
    12,
    16,
    24,
    32,
    40,
    48,
    64,
    80,
    96,
    128,
    160,
    192,
    256,
    384,
    512,
    768,
    1024,
    1536,
    2048,
    4096,
    8192,
    16384,
    32768,
)


class AnalyticRenderer:
    """Exact analytic ellipsoid renderer (CPU and CUDA, float32 pixels, float64 set-up).

    Args:
        max_pairs: Upper bound on (pixel, ellipsoid) candidates evaluated at once; bounds
            temporary memory (about 40 bytes per candidate).
        max_buffer_pixels: Upper bound on items x H x W resolved at once (8 bytes per pixel).
    """

    devices = ("cpu", "cuda")

    def __init__(self, max_pairs: int = 1 << 21, max_buffer_pixels: int = 1 << 23) -> None:
        if max_pairs < 1 or max_buffer_pixels < 1:
            raise ValueError("max_pairs and max_buffer_pixels must be >= 1")
        self.max_pairs = int(max_pairs)
        self.max_buffer_pixels = int(max_buffer_pixels)
        self._local = threading.local()

    def _buffers(self, size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Depth-key and touched buffers reused across calls (reset sparsely after each use).

        Reuse matters on CPU: freshly mapped pages cost more than the whole z-resolve.
        """
        workspace: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = (
            self._local.__dict__.setdefault("workspace", {})
        )
        slot = (str(device), size)
        if slot not in workspace:
            if len(workspace) > 4:
                workspace.clear()
            workspace[slot] = (
                torch.full((size,), _NO_HIT, dtype=torch.int64, device=device),
                torch.zeros(size, dtype=torch.bool, device=device),
            )
        return workspace[slot]

    def __call__(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        """Renders ``ellipsoids`` through ``cameras``; see :func:`hvg_bonemap.render`."""
        scene = flatten_scene(ellipsoids, cameras)
        m = math.prod(scene.batch_shape)
        h, w = scene.height, scene.width
        device = scene.K.device
        depth = torch.zeros(m * h * w, dtype=torch.float32, device=device)
        normal = torch.zeros(m * 3 * h * w, dtype=torch.float32, device=device)
        index = torch.full((m * h * w,), -1, dtype=torch.int32, device=device)
        mask = torch.zeros(m * h * w, dtype=torch.bool, device=device)
        items_per_chunk = max(1, min(m, self.max_buffer_pixels // (h * w)))
        keys, touched = self._buffers(items_per_chunk * h * w, device)
        try:
            for start in range(0, m, items_per_chunk):
                stop = min(m, start + items_per_chunk)
                self._render_items(scene, start, stop, depth, normal, index, mask, keys, touched)
        except BaseException:
            # An interrupted resolve leaves the reused buffers dirty: drop them.
            self._local.__dict__.pop("workspace", None)
            raise
        batch = scene.batch_shape
        return BoneMap(
            depth.reshape(*batch, h, w),
            normal.reshape(*batch, 3, h, w),
            mask.reshape(*batch, h, w),
            index.reshape(*batch, h, w),
        )

    def _render_items(
        self,
        scene: FlatScene,
        start: int,
        stop: int,
        depth: torch.Tensor,
        normal: torch.Tensor,
        index: torch.Tensor,
        mask: torch.Tensor,
        keys: torch.Tensor,
        touched: torch.Tensor,
    ) -> None:
        h, w = scene.height, scene.width
        hw = h * w
        n = scene.centers.shape[1]
        table = _instance_table(
            scene.K[start:stop],
            scene.centers[start:stop],
            scene.quadric[start:stop],
            scene.covariance[start:stop],
        )
        drawable = scene.drawable[start:stop].reshape(-1) & ~table["behind"]
        rows = _row_table(table, drawable, n, w, h)
        if rows is not None:
            _resolve_rows(rows, keys, touched, self.max_pairs)
        hit = torch.nonzero(touched[: (stop - start) * hw]).squeeze(1)
        if hit.numel() == 0:
            return
        key = keys.index_select(0, hit)
        keys.index_fill_(0, hit, _NO_HIT)
        touched.index_fill_(0, hit, False)
        inst = key & _LOW32
        z = (key >> 32).to(torch.int32).view(torch.float32)
        item_local = torch.div(hit, hw, rounding_mode="floor")
        pixel = hit - item_local * hw
        row = torch.div(pixel, w, rounding_mode="floor")
        u = (pixel - row * w).to(torch.float32) + 0.5
        v = row.to(torch.float32) + 0.5
        g = table["shading"].index_select(0, inst)  # (hits, 14) float32
        a00, p0x, p1x, p0y, p1y = g[:, 0], g[:, 1], g[:, 2], g[:, 3], g[:, 4]
        dx = p0x + p1x * v + a00 * u
        dy = p0y + p1y * v
        rx, ry, rz = z * dx - g[:, 5], z * dy - g[:, 6], z - g[:, 7]
        q00, q11, q22, q01, q02, q12 = g[:, 8], g[:, 9], g[:, 10], g[:, 11], g[:, 12], g[:, 13]
        nx = q00 * rx + q01 * ry + q02 * rz
        ny = q01 * rx + q11 * ry + q12 * rz
        nz = q02 * rx + q12 * ry + q22 * rz
        inv = torch.rsqrt((nx * nx + ny * ny + nz * nz).clamp_min(1e-30))
        # The near root's outward normal faces the camera; the flip only guards grazing rounding.
        sign = torch.where(nx * dx + ny * dy + nz > 0, -inv, inv)
        base = start * hw
        out = base + hit
        depth.index_copy_(0, out, z * torch.sqrt(dx * dx + dy * dy + 1.0))
        plane = (start + item_local) * (3 * hw) + pixel
        normal.index_copy_(0, plane, nx * sign)
        normal.index_copy_(0, plane + hw, ny * sign)
        normal.index_copy_(0, plane + 2 * hw, nz * sign)
        index.index_copy_(0, out, (inst - item_local * n).to(torch.int32))
        mask.index_fill_(0, out, True)


def _instance_table(
    K: torch.Tensor, centers: torch.Tensor, quadric: torch.Tensor, covariance: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per (item, ellipsoid) float64 polynomial coefficients in the row coordinate ``v``."""
    m, n = centers.shape[:2]
    fx, skew, cx = K[:, 0, 0], K[:, 0, 1], K[:, 0, 2]
    fy, cy = K[:, 1, 1], K[:, 1, 2]
    # K^-1 (u, v, 1) = p0 + v p1 + u q with q = (1 / fx, 0, 0).
    a00 = 1.0 / fx
    p1x, p1y = -skew / (fx * fy), 1.0 / fy
    p0x, p0y = -cx / fx + skew * cy / (fx * fy), -cy / fy
    zero = torch.zeros_like(fx)
    p0 = torch.stack([p0x, p0y, torch.ones_like(fx)], -1)[:, None].expand(m, n, 3)
    p1 = torch.stack([p1x, p1y, zero], -1)[:, None].expand(m, n, 3)
    Q, c = quadric, centers
    Qc = (Q @ c[..., None])[..., 0]
    Qp0 = (Q @ p0[..., None])[..., 0]
    Qp1 = (Q @ p1[..., None])[..., 0]
    a = a00[:, None].expand(m, n)
    C = (c * Qc).sum(-1) - 1.0
    qQc = a * Qc[..., 0]
    qQq = a * a * Q[..., 0, 0]
    cz = c[..., 2]
    extent_z = covariance[..., 2, 2].clamp_min(0).sqrt()
    coeffs = {
        "C": C,
        "qQc": qQc,
        "d2": qQc * qQc - C * qQq,
        "pQc0": (p0 * Qc).sum(-1),
        "pQc1": (p1 * Qc).sum(-1),
        "pQp0": (p0 * Qp0).sum(-1),
        "pQp1": 2.0 * (p0 * Qp1).sum(-1),
        "pQp2": (p1 * Qp1).sum(-1),
        "qQp0": a * Qp0[..., 0],
        "qQp1": a * Qp1[..., 0],
    }
    # Exact vertical extent of the projected ellipse from the dual conic C* = K (S - c c^T) K^T.
    dual = (
        K[:, None] @ (covariance - c[..., :, None] * c[..., None, :]) @ K[:, None].transpose(-1, -2)
    )
    in_front = cz - extent_z > 1e-9 * (1.0 + cz.abs())
    f32 = torch.float32
    q = Q.to(f32)
    shading = torch.stack(
        [
            a.to(f32), p0x[:, None].expand(m, n).to(f32), p1x[:, None].expand(m, n).to(f32),
            p0y[:, None].expand(m, n).to(f32), p1y[:, None].expand(m, n).to(f32),
            c[..., 0].to(f32), c[..., 1].to(f32), c[..., 2].to(f32),
            q[..., 0, 0], q[..., 1, 1], q[..., 2, 2], q[..., 0, 1], q[..., 0, 2], q[..., 1, 2],
        ],
        dim=-1,
    )  # fmt: skip
    return {
        "coeffs": torch.stack(list(coeffs.values()), dim=-1).reshape(m * n, len(coeffs)),
        "dual": dual.reshape(m * n, 3, 3),
        "in_front": in_front.reshape(-1),
        "behind": (cz + extent_z <= 0).reshape(-1),
        "shading": shading.reshape(m * n, 14),
    }


def _row_table(
    table: dict[str, torch.Tensor], drawable: torch.Tensor, n: int, width: int, height: int
) -> dict[str, torch.Tensor] | None:
    """Per (item, ellipsoid, row) span and float32 root coefficients (computed in float64)."""
    device = drawable.device
    in_front = table["in_front"]
    dual = table["dual"]
    c11, c12, c22 = dual[:, 1, 1], dual[:, 1, 2], dual[:, 2, 2]
    root = (c12 * c12 - c11 * c22).clamp_min(0).sqrt()
    safe22 = torch.where(in_front, c22, torch.full_like(c22, -1.0))
    v_a, v_b = (c12 + root) / safe22, (c12 - root) / safe22
    v_lo, v_hi = torch.minimum(v_a, v_b), torch.maximum(v_a, v_b)
    r0 = torch.where(in_front, torch.ceil(v_lo - 0.5) - 1, torch.zeros_like(v_lo)).clamp(
        0, height - 1
    )
    r1 = torch.where(
        in_front, torch.floor(v_hi - 0.5) + 1, torch.full_like(v_hi, height - 1)
    ).clamp(-1, height - 1)
    n_rows = torch.where(drawable, (r1 - r0 + 1).clamp_min(0), torch.zeros_like(r0)).to(torch.int64)
    total_rows = int(n_rows.sum())
    if total_rows == 0:
        return None
    inst = torch.repeat_interleave(
        torch.arange(n_rows.numel(), device=device), n_rows, output_size=total_rows
    )
    first = torch.cumsum(n_rows, 0) - n_rows
    row = torch.arange(total_rows, device=device) - first[inst] + r0.to(torch.int64)[inst]
    k = table["coeffs"].index_select(0, inst)
    C, qQc, d2, pQc0, pQc1, pQp0, pQp1, pQp2, qQp0, qQp1 = k.unbind(-1)
    v = row.to(torch.float64) + 0.5
    pQc = pQc0 + v * pQc1
    pQp = pQp0 + v * (pQp1 + v * pQp2)
    qQp = qQp0 + v * qQp1
    # disc(u) = B^2 - A C with A = d^T Q d, B = d^T Q c: quadratic d2 u^2 + d1 u + d0.
    d1 = 2.0 * (pQc * qQc - C * qQp)
    d0 = pQc * pQc - C * pQp
    bounded = d2 < 0
    neg = torch.where(bounded, d2, -torch.ones_like(d2))
    uc = torch.where(bounded, -d1 / (2.0 * neg), torch.full_like(d2, width / 2.0))
    disc_c = (d2 * uc + d1) * uc + d0
    slope_c = 2.0 * d2 * uc + d1
    half = torch.where(bounded, (disc_c.clamp_min(0) / -neg).sqrt(), torch.zeros_like(d2))
    col0 = torch.where(bounded, torch.ceil(uc - half - 0.5) - 1, torch.zeros_like(uc)).clamp(
        0, width - 1
    )
    col1 = torch.where(
        bounded, torch.floor(uc + half - 0.5) + 1, torch.full_like(uc, width - 1)
    ).clamp(-1, width - 1)
    count = (col1 - col0 + 1).clamp_min(0)
    count = torch.where(bounded & (disc_c < 0), torch.zeros_like(count), count).to(torch.int64)
    keep = torch.nonzero(count > 0).squeeze(1)
    if keep.numel() == 0:
        return None
    inv_c = 1.0 / C
    item = torch.div(inst, n, rounding_mode="floor")
    consts = torch.stack(
        [
            col0 + 0.5 - uc,  # u - uc at the first pixel of the span
            d2 * inv_c * inv_c,
            slope_c * inv_c * inv_c,
            disc_c * inv_c * inv_c,
            qQc * inv_c,
            (pQc + uc * qQc) * inv_c,
        ],
        dim=-1,
    ).to(torch.float32)
    return {
        "count": count[keep],
        "consts": consts[keep],
        "pixel": ((item * height + row) * width + col0.to(torch.int64))[keep],
        "inst": inst[keep],
    }


def _resolve_rows(
    rows: dict[str, torch.Tensor], keys: torch.Tensor, touched: torch.Tensor, max_pairs: int
) -> None:
    """Evaluates every span pixel, grouped by span width, and min-reduces hits into ``keys``."""
    count = rows["count"]
    device = count.device
    widths = torch.tensor(_BUCKETS, device=device)
    bucket = torch.bucketize(count, widths)
    for b in torch.unique(bucket).tolist():
        width = _BUCKETS[b] if b < len(_BUCKETS) else int(count.max())
        members = torch.nonzero(bucket == b).squeeze(1)
        step = max(1, max_pairs // width)
        for begin in range(0, members.numel(), step):
            sel = members[begin : begin + step]
            _resolve_block(
                rows["consts"].index_select(0, sel),
                count.index_select(0, sel),
                rows["pixel"].index_select(0, sel),
                rows["inst"].index_select(0, sel),
                width,
                keys,
                touched,
            )


def _resolve_block(
    consts: torch.Tensor,
    count: torch.Tensor,
    pixel0: torch.Tensor,
    inst: torch.Tensor,
    width: int,
    keys: torch.Tensor,
    touched: torch.Tensor,
) -> None:
    """Dense ``(rows, width)`` evaluation of the near root with broadcast per-row constants."""
    col = torch.arange(width, device=consts.device)
    x = consts[:, 0:1] + col.to(torch.float32)
    disc = torch.addcmul(consts[:, 3:4], torch.addcmul(consts[:, 2:3], consts[:, 1:2], x), x)
    den = torch.addcmul(consts[:, 5:6], consts[:, 4:5], x)
    den.add_(disc.clamp_min(0.0).sqrt_())
    # den > 0 <=> the near root lies in front of the camera; z = 1 / den.
    valid = (disc >= 0.0).logical_and_(den > 0.0).logical_and_(col < count[:, None])
    rc = torch.nonzero(valid)
    if rc.numel() == 0:
        return
    r, c = rc[:, 0], rc[:, 1]
    z_bits = (
        torch.reciprocal(den.view(-1).index_select(0, r * width + c))
        .view(torch.int32)
        .to(torch.int64)
    )
    key = z_bits.bitwise_left_shift_(32).bitwise_or_(inst.index_select(0, r))
    pixel = pixel0.index_select(0, r) + c
    keys.scatter_reduce_(0, pixel, key, reduce="amin")
    touched.index_fill_(0, pixel, True)
