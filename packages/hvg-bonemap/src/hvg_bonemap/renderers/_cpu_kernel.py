"""The analytic renderer's per-pixel work on CPU: one compiled loop over the span pixels.

The torch kernel in :mod:`hvg_bonemap.renderers.analytic` expands the spans into a flat list of
candidates and runs ~25 tensor passes over it; on one CPU core each pass is a trip through
memory and the chain costs ~1.4 ms per 576² view for ~28 k candidates. Here every candidate is
evaluated once in registers (numba, compiled on first use and cached on disk), with the same
float32 formulas, so the outputs equal the torch kernel's except where float32 rounding
decides a boundary pixel differently (both agree with the float64 reference there).

Per item, with that item's maps just cleared (in cache while its spans land):

1. depth test: for each span pixel with a real root in front of the camera, keep ``z`` when it
   is nearer than the stored one (strictly, so that exact ties keep the lower span, i.e. the
   lower ellipsoid: spans are ordered by ellipsoid); the winning span is marked in the index
   map as ``-2 - span`` (span counted from the item's first);
2. shading: for each span pixel whose mark is its own span, the unit normal
   ``Q (z d - c)`` facing the camera, the distance ``z |d|``, the ellipsoid index and the mask.
"""

from __future__ import annotations

import numpy as np
import torch

from hvg_bonemap.renderers._numba import cpu_kernel

_f32 = np.float32


def render_rows(rows: dict[str, torch.Tensor], depth, normal, index, mask) -> None:
    """Overwrites the maps of one chunk of items with the nearest hits of the row table's spans.

    Args:
        rows: The row table of :func:`hvg_bonemap.renderers.analytic._row_table` (spans
            item-major, pixels local to the chunk).
        depth: ``(items, HW)`` float32 CPU tensor.
        normal: ``(items, 3, HW)`` float32 CPU tensor.
        index: ``(items, HW)`` int32 CPU tensor.
        mask: ``(items, HW)`` bool CPU tensor.
    """
    spans = rows["count"].numel()
    _render_spans(
        rows["count"].numpy(),
        rows["pixel"].numpy(),
        rows["row_start"].numpy(),
        rows["consts"].view(torch.float32).view(-1, spans, 2).numpy(),
        rows["shading"].view(torch.float32).view(-1, spans, 2).numpy(),
        rows["ellipsoid"].numpy(),
        depth.numpy(),
        normal.numpy(),
        index.numpy(),
        mask.numpy(),
    )


@cpu_kernel()
def _render_spans(count, pixel, row_start, consts, shading, ellipsoid, depth, normal, index, mask):
    """Clears each item's maps and writes its spans (see the module docstring).

    Args:
        count: ``(S,)`` int64 pixels per span.
        pixel: ``(S,)`` int64 first pixel ``item * HW + row * W + col`` of each span.
        row_start: ``(S,)`` int64 pixel of column 0 of the span's image row.
        consts: ``(3, S, 2)`` float32 root coefficients: ``x0, d2, slope, disc0, b1, b0``.
        shading: ``(6, S, 2)`` float32: ``alpha (3), beta (3), Q c (3), dx0, a, dy``.
        ellipsoid: ``(S,)`` int32 ellipsoid of each span.
        depth: ``(items, HW)`` float32 map; every element is overwritten (as are the others).
        normal: ``(items, 3, HW)`` float32 map.
        index: ``(items, HW)`` int32 map.
        mask: ``(items, HW)`` bool map.
    """
    items, hw = depth.shape
    spans = count.shape[0]
    first = 0
    for item in range(items):
        last = first
        while last < spans and row_start[last] // hw == item:
            last += 1
        depth[item, :] = 0.0
        normal[item, :, :] = 0.0
        index[item, :] = -1
        mask[item, :] = False
        _depth_test(count, pixel, consts, depth[item], index[item], first, last, item * hw)
        _shade(
            count,
            pixel,
            row_start,
            shading,
            ellipsoid,
            depth[item],
            normal[item],
            index[item],
            mask[item],
            first,
            last,
            item * hw,
        )
        first = last


@cpu_kernel(inline="always")
def _depth_test(count, pixel, consts, depth, index, first, last, offset):
    """Nearest camera-space ``z`` per pixel of spans ``first..last-1``; marks the winner."""
    for s in range(first, last):
        p0 = pixel[s] - offset
        x0, d2 = consts[0, s, 0], consts[0, s, 1]
        slope, disc0 = consts[1, s, 0], consts[1, s, 1]
        b1, b0 = consts[2, s, 0], consts[2, s, 1]
        mark = np.int32(first - 2 - s)
        for j in range(count[s]):
            x = _f32(j) + x0
            disc = disc0 + (slope + d2 * x) * x
            if disc >= _f32(0.0):
                den = b0 + b1 * x + np.sqrt(disc)
                if den > _f32(0.0):  # the near root z = 1 / den lies in front of the camera
                    z = _f32(1.0) / den
                    p = p0 + j
                    if index[p] == -1 or z < depth[p]:
                        depth[p] = z
                        index[p] = mark


@cpu_kernel(inline="always")
def _shade(
    count, pixel, row_start, shading, ellipsoid, depth, normal, index, mask, first, last, offset
):
    """Normal, distance, ellipsoid and mask at the pixels won by spans ``first..last-1``."""
    for s in range(first, last):
        p0 = pixel[s] - offset
        mark = np.int32(first - 2 - s)
        u0 = _f32(pixel[s] - row_start[s]) + _f32(0.5)
        # Along the row: Q d = alpha + beta u, ray d = (dx0 + a u, dy, 1).
        alpha0, alpha1, alpha2 = shading[0, s, 0], shading[0, s, 1], shading[1, s, 0]
        beta0, beta1, beta2 = shading[1, s, 1], shading[2, s, 0], shading[2, s, 1]
        qc0, qc1, qc2 = shading[3, s, 0], shading[3, s, 1], shading[4, s, 0]
        dx0, a, dy = shading[4, s, 1], shading[5, s, 0], shading[5, s, 1]
        e = ellipsoid[s]
        for j in range(count[s]):
            p = p0 + j
            if index[p] != mark:
                continue
            z = depth[p]
            u = _f32(j) + u0
            dx = dx0 + a * u
            nx = (alpha0 + beta0 * u) * z - qc0
            ny = (alpha1 + beta1 * u) * z - qc1
            nz = (alpha2 + beta2 * u) * z - qc2
            inv = _f32(1.0) / np.sqrt(max(nx * nx + ny * ny + nz * nz, _f32(1e-30)))
            # The near root's outward normal faces the camera; the flip guards grazing rounding.
            if nz + nx * dx + ny * dy > _f32(0.0):
                inv = -inv
            normal[0, p] = nx * inv
            normal[1, p] = ny * inv
            normal[2, p] = nz * inv
            depth[p] = z * np.sqrt(dx * dx + dy * dy + _f32(1.0))
            index[p] = e
            mask[p] = True
