"""Fast exact ray-ellipsoid renderer: row spans from the projected quadric, then per-pixel roots.

Why this layout: the cost of a bone map should follow the covered pixels, not pixels x bones.
Along an image row ``v`` the ray through pixel centre ``u`` is ``d = p(v) + u q`` with ``d_z = 1``,
so the discriminant of the ray-quadric equation ``(d^T Q d) z^2 - 2 (d^T Q c) z + c^T Q c - 1 = 0``
is a quadratic in ``u``: the exact silhouette span of each (item, ellipsoid, row) is known in
closed form, and the rows come from the exact vertical extent of the projected ellipse (dual
conic ``K (Sigma - c c^T) K^T``). Only pixels inside these spans (widened by one pixel, so that
float32 decides the boundary like the reference) are evaluated. Per-row coefficients are
computed in float64 around the span centre (no cancellation in the interior); the spans are then
expanded into one flat float32 candidate list (ragged: no padding, a fixed handful of tensor
operations whatever the span widths; Python-level loops over span buckets cost more than the
arithmetic at 576² on one core). The near root ``z = C / (B + sqrt(disc))`` is the camera-space
z of the hit. The nearest hit per pixel is resolved in the depth map itself, cleared to 0: one
int32 ``scatter_reduce(amax)`` of ``INT32_MAX - bits(z)`` (positive float32 bit patterns order
like their values; rejected candidates carry 0), so the resolve touches no pixel-sized memory
besides the maps it writes anyway. The winners are the candidates whose key equals the reduced
one (no scan of the whole map); exact ties go to the lower span (spans are ordered by
ellipsoid), checked with a plain scatter and gather of the hit ordinals in the index map.
Normals ``Q (z d - c)`` and distances ``z |d|`` are computed only for the winning pixels, from
per-span float32 rows (``Q d`` is linear in the column along a row). Each item's normal and
mask maps are cleared just before its hits are scattered, while they are in cache.

Two kernels do the per-pixel stage after the shared float64 set-up: on CPU one compiled loop
(:mod:`hvg_bonemap.renderers._cpu_kernel`, numba) evaluates each span pixel once in registers
(0.68 vs 1.47 ms per 576² view, walking body, 8 views, one core, same run); on CUDA (or with
``kernel="torch"``) the torch kernel described above runs. Both use the same float32
formulas; they differ only where rounding decides a boundary pixel.

Measured on one CPU thread for the torch kernel (issue 14): a bool tensor fed to
``torch.where``, ``masked_fill`` or a float cast, ``sqrt`` of zeros or negatives, int64
scatters into a frame-sized buffer and arithmetic on strided columns each cost 3-45x a plain
float op on the same elements; the torch kernel avoids them on per-pixel arrays.

Ellipsoids containing the camera centre, and ellipsoids entirely behind it, are not drawn;
ellipsoids cut by the camera plane are handled exactly (full rows, per-pixel root sign).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids
from hvg_bonemap.renderers._scene import FlatScene, flatten_scene
from hvg_bonemap.renderers.output import BoneMap

_NEAREST = torch.iinfo(torch.int32).max
_MAX_SPANS = torch.iinfo(torch.int32).max


class AnalyticRenderer:
    """Exact analytic ellipsoid renderer (CPU and CUDA, float32 pixels, float64 set-up).

    Args:
        kernel: The per-pixel stage: ``"compiled"`` (one numba loop over the span pixels,
            :mod:`hvg_bonemap.renderers._cpu_kernel`; CPU only), ``"torch"`` (tensor
            operations over a flat candidate list; CPU and CUDA) or ``"auto"`` (default:
            compiled on CPU, torch on CUDA). Both share the float64 set-up and the float32
            formulas; their outputs differ only where float32 rounding decides a boundary
            pixel. Measured on one core, walking body, 8 views 576²: 0.68 vs 1.47 ms/view.
        max_pairs: Upper bound on (pixel, ellipsoid) candidates evaluated at once by the torch
            kernel; bounds its temporary memory (about 60 bytes per candidate).
        max_buffer_pixels: Upper bound on items x H x W resolved at once (12 items of 576²
            by default; larger chunks make temporaries that the allocator maps afresh, and
            the page faults cost more than the extra chunk: 5.7 vs 4.9 ms per 576² view at
            24 frames x 8 views, 25 vs 8 items per chunk).
        cpu_threads: Torch intra-op threads while rendering on CPU (restored afterwards);
            None keeps the process setting. Default 1: the kernels are chains of short tensor
            operations, and with 2 threads on a 2-core machine each one waits for the second
            thread whenever another process holds that core (measured 10-30x slower; 96 vs
            9 ms per 576² view at load 7).
    """

    devices = ("cpu", "cuda")
    kernels = ("auto", "compiled", "torch")

    def __init__(
        self,
        kernel: str = "auto",
        max_pairs: int = 1 << 21,
        max_buffer_pixels: int = 1 << 22,
        cpu_threads: int | None = 1,
    ) -> None:
        if max_pairs < 1 or max_buffer_pixels < 1:
            raise ValueError("max_pairs and max_buffer_pixels must be >= 1")
        if cpu_threads is not None and cpu_threads < 1:
            raise ValueError("cpu_threads must be >= 1 or None")
        if kernel not in self.kernels:
            raise ValueError(f"kernel must be one of {', '.join(self.kernels)}; got {kernel!r}")
        self.kernel = kernel
        self.max_pairs = int(max_pairs)
        self.max_buffer_pixels = int(max_buffer_pixels)
        self.cpu_threads = cpu_threads

    def __call__(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        """Renders ``ellipsoids`` through ``cameras``; see :func:`hvg_bonemap.render`."""
        previous = torch.get_num_threads()
        limit = (
            self.cpu_threads is not None
            and isinstance(ellipsoids, Ellipsoids)  # else flatten_scene reports the input error
            and ellipsoids.centers.device.type == "cpu"
        )
        if limit and previous != self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)
        try:
            return self._render(ellipsoids, cameras)
        finally:
            if limit and previous != self.cpu_threads:
                torch.set_num_threads(previous)

    def _render(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        scene = flatten_scene(ellipsoids, cameras)
        m = math.prod(scene.batch_shape)
        h, w = scene.height, scene.width
        device = scene.K.device
        # Uninitialised: every item's maps are cleared just before its hits are resolved or
        # written, while they are in cache (clearing all maps first reads them back from RAM).
        maps = _Maps(
            torch.empty(m, h * w, dtype=torch.float32, device=device),
            torch.empty(m, 3, h * w, dtype=torch.float32, device=device),
            torch.empty(m, h * w, dtype=torch.int32, device=device),
            torch.empty(m, h * w, dtype=torch.bool, device=device),
        )
        items_per_chunk = max(1, min(m, self.max_buffer_pixels // (h * w)))
        for start in range(0, m, items_per_chunk):
            self._render_items(scene, start, min(m, start + items_per_chunk), maps)
        batch = scene.batch_shape
        return BoneMap(
            maps.depth.reshape(*batch, h, w),
            maps.normal.reshape(*batch, 3, h, w),
            maps.mask.reshape(*batch, h, w),
            maps.index.reshape(*batch, h, w),
        )

    def _compiled(self, device: torch.device) -> bool:
        """Whether the compiled CPU kernel does the per-pixel work on ``device``."""
        if self.kernel == "torch" or (self.kernel == "auto" and device.type != "cpu"):
            return False
        if device.type != "cpu":
            raise ValueError(
                f"kernel='compiled' runs on CPU only; the inputs are on {device}: "
                "use kernel='torch' or 'auto' for CUDA tensors"
            )
        return True

    def _render_items(self, scene: FlatScene, start: int, stop: int, maps: _Maps) -> None:
        h, w = scene.height, scene.width
        table = _instance_table(
            scene.K[start:stop],
            scene.centers[start:stop],
            scene.quadric[start:stop],
            scene.covariance[start:stop],
        )
        drawable = scene.drawable[start:stop].reshape(-1) & ~table["behind"]
        rows = _row_table(table, drawable, scene.centers.shape[1], w, h)
        if rows is None:
            maps.clear(start, stop)
        elif self._compiled(maps.depth.device):
            from hvg_bonemap.renderers._cpu_kernel import render_rows  # numba: compiled on use

            render_rows(
                rows,
                maps.depth[start:stop],
                maps.normal[start:stop],
                maps.index[start:stop],
                maps.mask[start:stop],
            )
        else:
            _render_rows_with_torch(rows, maps, start, stop, self.max_pairs)


def _render_rows_with_torch(
    rows: dict[str, torch.Tensor], maps: _Maps, start: int, stop: int, max_pairs: int
) -> None:
    """The torch kernel: resolves and shades the span pixels of items ``start..stop-1``."""
    # The depth and index maps of the chunk double as its z-buffer and tie-break buffer:
    # they are written anyway, so the resolve touches no other pixel-sized memory.
    depth = maps.depth[start:stop].zero_().view(-1)
    index = maps.index[start:stop].fill_(-1).view(-1)
    hit, z, span = _resolve_rows(rows, depth.view(torch.int32), index, max_pairs)
    if hit.numel() == 0:
        maps.clear_normal_and_mask(start, stop)
        return
    # Per-span coefficients for each hit: Q d = alpha + beta u along the span's image row,
    # ray d = (dx, dy, 1).
    g = _expand_pairs(rows["shading"], span)
    u = (hit - rows["row_start"].index_select(0, span)).to(torch.float32).add_(0.5)
    dx, dy = torch.addcmul(g[9], g[10], u), g[11]
    # Gradient Q (z d - c) = z (Q d) - Q c, one camera axis at a time.
    nx, ny, nz = (torch.addcmul(g[k], g[3 + k], u).mul_(z).sub_(g[6 + k]) for k in range(3))
    inv = nx.square().addcmul_(ny, ny).addcmul_(nz, nz).clamp_min_(1e-30).rsqrt_()
    # The near root's outward normal faces the camera; the flip only guards grazing rounding
    # (negative where n . d > 0; 0 - x keeps +0 for x = +-0, like a "> 0" test).
    facing = torch.addcmul(torch.addcmul(nz, nx, dx), ny, dy)
    inv = torch.copysign(inv, torch.rsub(facing, 0.0))
    depth.scatter_(0, hit, dx.square_().addcmul_(dy, dy).add_(1.0).sqrt_().mul_(z))
    index.scatter_(0, hit, rows["ellipsoid"].index_select(0, span))
    maps.write_normal_and_mask(start, stop, hit, (nx.mul_(inv), ny.mul_(inv), nz.mul_(inv)))


@dataclass(frozen=True)
class _Maps:
    """Output maps being written: ``(M, HW)`` depth, index, mask and ``(M, 3, HW)`` normal."""

    depth: torch.Tensor
    normal: torch.Tensor
    index: torch.Tensor
    mask: torch.Tensor

    def clear(self, start: int, stop: int) -> None:
        """Background in every map of items ``start..stop-1``."""
        self.depth[start:stop].zero_()
        self.index[start:stop].fill_(-1)
        self.clear_normal_and_mask(start, stop)

    def clear_normal_and_mask(self, start: int, stop: int) -> None:
        """Background normals and mask for items ``start..stop-1``."""
        self.normal[start:stop].zero_()
        self.mask[start:stop].zero_()

    def write_normal_and_mask(
        self,
        start: int,
        stop: int,
        hit: torch.Tensor,
        normal: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> None:
        """Clears the normals and mask of items ``start..stop-1`` and writes their hits.

        One item and one map at a time: the cleared map is still in cache when the hits land.

        Args:
            start: First item of the chunk.
            stop: One past its last item.
            hit: ``(hits,)`` int64 pixel ``item * HW + pixel`` local to the chunk, ascending
                item (spans are item-major).
            normal: Three ``(hits,)`` float32 components.
        """
        hw = self.depth.shape[1]
        firsts = torch.arange(stop - start + 1, device=hit.device) * hw
        bounds = torch.searchsorted(hit, firsts).tolist()
        for local, (a, b) in enumerate(itertools.pairwise(bounds)):
            item = start + local
            pixel = hit[a:b] - local * hw if local else hit[a:b]
            for k in range(3):
                self.normal[item, k].zero_().scatter_(0, pixel, normal[k][a:b])
            self.mask[item].zero_().index_fill_(0, pixel, True)


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
    # Shading inputs (float64): rows of Q (symmetric) and Q c per instance, ray set-up per item.
    quad = torch.cat([Q.reshape(m * n, 9), Qc.reshape(m * n, 3)], dim=-1)
    rays = torch.stack([a00, p0x, p1x, p0y, p1y], dim=-1)
    return {
        "coeffs": torch.stack(list(coeffs.values()), dim=-1).reshape(m * n, len(coeffs)),
        "dual": dual.reshape(m * n, 3, 3),
        "in_front": in_front.reshape(-1),
        "behind": (cz + extent_z <= 0).reshape(-1),
        "quad": quad,
        "rays": rays,
    }


def _row_table(
    table: dict[str, torch.Tensor], drawable: torch.Tensor, n: int, width: int, height: int
) -> dict[str, torch.Tensor] | None:
    """Per (item, ellipsoid, row) span and float32 root coefficients (computed in float64).

    Rows whose span turns out empty stay in the table with a zero count (no compaction).
    """
    inst, row = _rows(table, drawable, height)
    if inst is None or row is None:
        return None
    if inst.numel() > _MAX_SPANS:
        raise ValueError("more than 2**31 spans in one chunk: lower max_buffer_pixels")
    k = table["coeffs"].index_select(0, inst)
    C, qQc, d2, pQc0, pQc1, pQp0, pQp1, pQp2, qQp0, qQp1 = k.unbind(-1)
    v = row.to(torch.float64) + 0.5
    pQc = pQc0 + v * pQc1
    pQp = pQp0 + v * (pQp1 + v * pQp2)
    qQp = qQp0 + v * qQp1
    # disc(u) = B^2 - A C with A = d^T Q d, B = d^T Q c: quadratic d2 u^2 + d1 u + d0.
    d1 = 2.0 * (pQc * qQc - C * qQp)
    d0 = pQc * pQc - C * pQp
    # d2 < 0: the span is bounded (always, unless the ellipsoid is cut by the camera plane);
    # `pick` skips the torch.where calls when every instance is bounded.
    d2_inst = table["coeffs"][:, 2]
    if bool(((d2_inst < 0) | ~drawable).all()):
        bounded = None
    else:
        bounded = d2 < 0
    neg = _pick(bounded, d2, -1.0)
    uc = _pick(bounded, -d1 / (2.0 * neg), width / 2.0)
    disc_c = (d2 * uc + d1) * uc + d0
    slope_c = 2.0 * d2 * uc + d1
    half = _pick(bounded, (disc_c.clamp_min(0) / -neg).sqrt(), 0.0)
    col0 = _pick(bounded, torch.ceil(uc - half - 0.5) - 1, 0.0).clamp_(0, width - 1)
    col1 = _pick(bounded, torch.floor(uc + half - 0.5) + 1, width - 1.0).clamp_(-1, width - 1)
    count = (col1 - col0 + 1).clamp_min_(0)
    empty = disc_c < 0 if bounded is None else bounded & (disc_c < 0)
    count = count.masked_fill_(empty, 0).to(torch.int64)
    inv_c = 1.0 / C
    consts = _float32_pairs(
        col0 + 0.5 - uc,  # u - uc at the first pixel of the span
        d2 * inv_c * inv_c,
        slope_c * inv_c * inv_c,
        disc_c * inv_c * inv_c,
        qQc * inv_c,
        (pQc + uc * qQc) * inv_c,
    )
    item = torch.div(inst, n, rounding_mode="floor")
    row_start = (item * height + row) * width
    return {
        "count": count,
        "consts": consts,
        "pixel": row_start + col0.to(torch.int64),
        "row_start": row_start,
        "shading": _shading_rows(table, inst, item, v),
        "ellipsoid": (inst - item * n).to(torch.int32),
    }


def _pick(
    cond: torch.Tensor | None, value: torch.Tensor, otherwise: float | torch.Tensor
) -> torch.Tensor:
    """``torch.where(cond, value, otherwise)``; ``value`` when ``cond`` is None (all true)."""
    return value if cond is None else torch.where(cond, value, otherwise)


def _rows(
    table: dict[str, torch.Tensor], drawable: torch.Tensor, height: int
) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
    """``(instance, row)`` of every image row an instance may cover (``(rows,)`` int64 each).

    The rows come from the exact vertical extent of the projected ellipse, widened by one row
    on each side; instances not entirely in front of the camera get every row.
    """
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
        return None, None
    device = drawable.device
    inst = torch.repeat_interleave(
        torch.arange(n_rows.numel(), device=device), n_rows, output_size=total_rows
    )
    # row = (index among all rows) - (first row of the instance) + (its top image row).
    offset = r0.to(torch.int64) - (torch.cumsum(n_rows, 0) - n_rows)
    return inst, torch.arange(total_rows, device=device) + offset.index_select(0, inst)


def _shading_rows(
    table: dict[str, torch.Tensor], inst: torch.Tensor, item: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """``(6, rows)`` float32 shading coefficients per row (computed in float64), in pairs.

    Along an image row, d = (dx0 + a u, dy, 1) and Q d = alpha + beta u with
    alpha = Q (dx0, dy, 1), beta = a Q e_x (Q symmetric). Columns: alpha (3), beta (3), Q c (3),
    dx0, a, dy (see :func:`_float32_pairs`).
    """
    quad = table["quad"].index_select(0, inst)  # (rows, 12): rows of Q, then Q c
    ray = table["rays"].index_select(0, item)  # (rows, 5): a, p0x, p1x, p0y, p1y
    a = ray[:, 0]
    dx0, dy = ray[:, 1] + ray[:, 2] * v, ray[:, 3] + ray[:, 4] * v
    alpha = quad[:, 0:3] * dx0[:, None] + quad[:, 3:6] * dy[:, None] + quad[:, 6:9]
    beta = a[:, None] * quad[:, 0:3]
    return _float32_pairs(*alpha.unbind(1), *beta.unbind(1), *quad[:, 9:12].unbind(1), dx0, a, dy)


def _float32_pairs(*columns: torch.Tensor) -> torch.Tensor:
    """``(len(columns) / 2, rows)`` int64 table: float32 columns cast and packed in pairs.

    Row ``j`` holds columns ``2 j`` and ``2 j + 1`` side by side, so that a per-candidate
    expansion is one 1-D int64 gather per pair (2-D row gathers cost about twice as much).
    """
    rows = columns[0].numel()
    out = torch.empty(len(columns) // 2, rows, 2, dtype=torch.float32, device=columns[0].device)
    for k, column in enumerate(columns):
        out[k // 2, :, k % 2].copy_(column)
    return out.view(torch.int64).view(len(columns) // 2, rows)


def _expand_pairs(pairs: torch.Tensor, index: torch.Tensor) -> list[torch.Tensor]:
    """The float32 columns of a :func:`_float32_pairs` table at rows ``index`` (``(n,)`` each)."""
    return [
        column
        for pair in pairs
        for column in pair.index_select(0, index).view(torch.float32).view(-1, 2).unbind(1)
    ]


def _resolve_rows(
    rows: dict[str, torch.Tensor], z_buffer: torch.Tensor, scratch: torch.Tensor, max_pairs: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Evaluates every span pixel and keeps the nearest hit per pixel (lowest span on ties).

    The spans are expanded into one flat candidate list per chunk of at most ``max_pairs``
    pixels (ragged, no padding, a handful of tensor operations per chunk whatever the spans).

    Args:
        rows: The row table.
        z_buffer: ``(items * HW,)`` int32, all 0; receives ``_NEAREST - bits(z)`` of the
            nearest hit per pixel (max-reduced), stays 0 where there is none.
        scratch: ``(items * HW,)`` int32 written at the hit pixels only (ties).
        max_pairs: Candidates per chunk.

    Returns:
        ``(pixels, z, spans)`` of the winning candidate of every covered pixel (``(hits,)``
        int64, float32, int32 or int64; in span order).
    """
    count = rows["count"]
    ends = torch.cumsum(count, 0)
    chunks: list[tuple[torch.Tensor, ...]] = []
    first, done, n_rows = 0, 0, count.numel()
    while first < n_rows:
        # Rows first..last-1 hold at most max_pairs pixels (at least one row per chunk).
        last = int(torch.searchsorted(ends, done + max_pairs, right=True))
        last = min(n_rows, max(last, first + 1))
        chunks.append(_resolve_chunk(rows, first, last, z_buffer))
        done = int(ends[last - 1])
        first = last
    pixel, key, valid, span = (
        x[0] if len(x) == 1 else torch.cat(x) for x in zip(*chunks, strict=True)
    )
    won = z_buffer.index_select(0, pixel).eq_(key).logical_and_(valid)
    win = torch.nonzero(won).squeeze(1)
    hit, key, span = (x.index_select(0, win) for x in (pixel, key, span))
    hit, key, span = _lowest_span_on_ties(hit, key, span, scratch)
    return hit, torch.rsub(key, _NEAREST).view(torch.float32), span


def _lowest_span_on_ties(
    hit: torch.Tensor, key: torch.Tensor, span: torch.Tensor, scratch: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keeps one candidate per pixel among equally near ones: the lowest span (ellipsoid).

    Exact ties (the same float32 z from two ellipsoids) are rare. A pixel listed twice is
    found with a plain scatter of the hit ordinals and a gather (whichever write lands last,
    the other one reads back a different ordinal); only then are the ties resolved.
    """
    ordinal = torch.arange(hit.numel(), dtype=torch.int32, device=hit.device)
    scratch.scatter_(0, hit, ordinal)
    if torch.equal(scratch.index_select(0, hit), ordinal):
        return hit, key, span
    lowest = torch.rsub(span.to(torch.int32), _NEAREST)
    scratch.index_fill_(0, hit, -1).scatter_reduce_(0, hit, lowest, reduce="amax")
    keep = torch.nonzero(scratch.index_select(0, hit) == lowest).squeeze(1)
    return hit.index_select(0, keep), key.index_select(0, keep), span.index_select(0, keep)


def _resolve_chunk(
    rows: dict[str, torch.Tensor], first: int, last: int, z_buffer: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Near roots of the span pixels of rows ``first..last-1``; max-reduces them into ``z_buffer``.

    Returns:
        ``(pixels, keys, valid, spans)`` of the chunk's candidates (``(pixels,)`` each: int64,
        int32 ``_NEAREST - bits(z)``, bool, global span); the key is 0 where there is no
        root in front of the camera (valid False).
    """
    count = rows["count"][first:last]
    total = int(count.sum())
    device = count.device
    # int32 indices and columns where they fit: half the memory traffic, faster to float.
    small = torch.int32 if total <= _MAX_SPANS else torch.int64
    span = torch.repeat_interleave(
        torch.arange(last - first, dtype=small, device=device), count, output_size=total
    )
    starts = (torch.cumsum(count, 0) - count).to(small)
    col = torch.arange(total, dtype=small, device=device) - starts.index_select(0, span)
    x0, d2, slope, disc0, b1, b0 = _expand_pairs(rows["consts"][:, first:last], span)
    x = col.to(torch.float32).add_(x0)
    disc = torch.addcmul(disc0, torch.addcmul(slope, d2, x), x)
    den = torch.addcmul(b0, b1, x)
    # A real root (disc >= 0) in front of the camera (den > 0 with the root added). sqrt |disc|
    # (not of a clamped 0 or of a negative: both take a slow path on CPU) equals sqrt disc where
    # disc >= 0 and only feeds rejected candidates elsewhere.
    valid = disc >= 0.0
    den.add_(disc.abs_().sqrt_())
    valid.logical_and_(den > 0.0)
    # z = 1 / den > 0: positive float32 bit patterns order like their values, so the nearest
    # hit has the largest _NEAREST - bits(z) > 0 (0 = background, the cleared depth map).
    keep = valid.to(torch.int32)
    key = torch.rsub(torch.reciprocal(den).view(torch.int32).mul_(keep), _NEAREST).mul_(keep)
    pixel = rows["pixel"][first:last].index_select(0, span).add_(col)
    z_buffer.scatter_reduce_(0, pixel, key, reduce="amax")
    return pixel, key, valid, span + first if first else span
