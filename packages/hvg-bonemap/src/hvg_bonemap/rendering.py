"""The ``render`` entry point: ellipsoids + cameras -> depth, normal, mask (and index) maps."""

from __future__ import annotations

from collections.abc import Callable

from hvg_bonemap._parts import load_part, part_names
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids
from hvg_bonemap.renderers.analytic import AnalyticRenderer
from hvg_bonemap.renderers.output import BoneMap


def backend_names() -> list[str]:
    """Names ``render(..., backend=name)`` accepts: the ``bonemap_backends`` registry kind.

    Built-ins are ``analytic``, ``reference`` and ``embree``; plug-in backends registered through
    ``hvg_register_bonemap_backends`` are added when hvg-core is installed.
    """
    return part_names("bonemap_backends")


def render(
    ellipsoids: Ellipsoids,
    cameras: Cameras,
    *,
    backend: str | Callable[[Ellipsoids, Cameras], BoneMap] = "analytic",
    **options: int,
) -> BoneMap:
    """Renders the bone map (depth, normal, mask, index) of ellipsoids seen through cameras.

    The ellipsoid batch shape and the camera batch shape broadcast together: e.g. ellipsoids of
    ``T`` frames with batch ``(1, T)`` and ``V`` cameras with batch ``(V, 1)`` give ``(V, T)``
    maps. Depth is the Euclidean distance to the camera centre; normals are unit camera-space
    normals facing the camera; background is 0 (index -1). Ellipsoids that contain the camera
    centre or lie entirely behind it are not drawn; volume-less ellipsoids (a semi-axis <= 1 um,
    e.g. zero-length bones) are not drawn.

    Args:
        ellipsoids: :class:`Ellipsoids` with batch shape ``...e``.
        cameras: :class:`Cameras` with batch shape ``...c``.
        backend: A registered backend name (:func:`backend_names`): ``"analytic"`` (fast,
            default), ``"reference"`` (float64 brute force), ``"embree"`` (icosphere meshes ray
            cast with Embree; needs ``embreex``) or a plug-in's; or any callable
            ``(ellipsoids, cameras) -> BoneMap``.
        **options: Backend options (``kernel``, ``max_pairs``, ``max_buffer_pixels``,
            ``cpu_threads`` for ``"analytic"``,
            ``pixel_chunk`` for ``"reference"``, ``subdivisions`` for ``"embree"``).

    Returns:
        :class:`BoneMap` with batch shape ``broadcast(...e, ...c)``.
    """
    if callable(backend):
        return backend(ellipsoids, cameras)
    backend_class = load_part("bonemap_backends", backend, argument="backend")
    if backend_class is AnalyticRenderer and not options:
        # One shared instance keeps its (thread-local) z-buffer workspace warm between calls.
        return _DEFAULT_ANALYTIC(ellipsoids, cameras)
    return backend_class(**options)(ellipsoids, cameras)


_DEFAULT_ANALYTIC = AnalyticRenderer()
