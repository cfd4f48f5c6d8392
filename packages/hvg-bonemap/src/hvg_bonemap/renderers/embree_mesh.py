"""Mesh cross-check backend: ellipsoids as icosphere meshes, ray cast with Embree (``embreex``).

Not a dependency: ``embreex`` is imported when the backend is constructed. Depth is the ray
parameter of the hit (unit rays: distance to the camera centre); normals interpolate the exact
ellipsoid normals at the mesh vertices with the hit's barycentrics. Against the analytic
renderer this differs by the tessellation (sub-millimetre, a fraction of a degree).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from hvg_bonemap._validation import broadcast_batch
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids
from hvg_bonemap.meshes import ellipsoid_mesh, icosphere
from hvg_bonemap.renderers._scene import MIN_RADIUS
from hvg_bonemap.renderers.output import BoneMap


class EmbreeMeshRenderer:
    """Embree ray casting of tessellated ellipsoids (CPU).

    Args:
        subdivisions: Icosphere level per ellipsoid (3 = 1280 faces).
    """

    devices = ("cpu",)

    def __init__(self, subdivisions: int = 3) -> None:
        try:
            from embreex import rtcore_scene  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "the 'embree' bone-map backend needs the 'embreex' package (pip install embreex)"
            ) from error
        self.subdivisions = subdivisions
        self.faces_per_ellipsoid = len(icosphere(subdivisions)[1])

    def build(
        self, centers: np.ndarray, rotations: np.ndarray, radii: np.ndarray
    ) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
        """Builds the Embree scene (BVH) of one item's ellipsoids; returns scene, ids, normals, faces."""
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh

        keep = np.flatnonzero((radii > MIN_RADIUS).all(axis=1))
        vertices, faces, normals = ellipsoid_mesh(
            centers[keep], rotations[keep], radii[keep], self.subdivisions
        )
        scene = rtcore_scene.EmbreeScene()
        if len(faces):
            TriangleMesh(scene, vertices.astype(np.float32), faces.astype(np.int32))
        return scene, keep, normals.astype(np.float32), faces

    def cast(
        self,
        built: tuple[object, np.ndarray, np.ndarray, np.ndarray],
        origin: np.ndarray,
        directions: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Casts unit rays; returns depth, world normals and ellipsoid index per ray."""
        scene, keep, normals, faces = built
        count = len(directions)
        out = {
            "depth": np.zeros(count, np.float32),
            "normal": np.zeros((count, 3), np.float32),
            "index": np.full(count, -1, np.int64),
        }
        if len(faces) == 0:
            return out
        origins = np.broadcast_to(origin.astype(np.float32), directions.shape).copy()
        result = scene.run(origins, directions.astype(np.float32), output=1)  # type: ignore[attr-defined]
        prim = result["primID"].astype(np.int64)
        hit = np.flatnonzero(prim >= 0)
        tri = faces[prim[hit]]
        u, v = result["u"][hit, None], result["v"][hit, None]
        n = (1.0 - u - v) * normals[tri[:, 0]] + u * normals[tri[:, 1]] + v * normals[tri[:, 2]]
        out["depth"][hit] = result["tfar"][hit]
        out["normal"][hit] = n / np.linalg.norm(n, axis=1, keepdims=True)
        out["index"][hit] = keep[prim[hit] // self.faces_per_ellipsoid]
        return out

    def __call__(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        """Renders like :func:`hvg_bonemap.render` (BVH built once per distinct ellipsoid item)."""
        ell_batch = ellipsoids.batch_shape
        batch = broadcast_batch([ell_batch, cameras.batch_shape], ["ellipsoids", "cameras"])
        m, h, w = math.prod(batch), cameras.height, cameras.width
        which = (
            torch.arange(max(math.prod(ell_batch), 1))
            .reshape(ell_batch)
            .expand(batch)
            .reshape(-1)
            .tolist()
        )
        ell = ellipsoids.expand(ell_batch)
        n = ellipsoids.count
        centers = ell.centers.reshape(-1, n, 3).double().cpu().numpy()
        rotations = ell.rotations.reshape(-1, n, 3, 3).double().cpu().numpy()
        radii = ell.radii.reshape(-1, n, 3).double().cpu().numpy()
        cams = cameras.expand(batch)
        K = cams.K.reshape(m, 3, 3).double().cpu()
        R = cams.R.reshape(m, 3, 3).double().cpu()
        t = cams.t.reshape(m, 3).double().cpu()
        v_grid, u_grid = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
        pixels = np.stack([u_grid.ravel(), v_grid.ravel(), np.ones(h * w)], axis=1)
        # Camera-space unit rays depend only on K: generate them once per distinct K.
        ray_cache: dict[bytes, np.ndarray] = {}
        depth = np.zeros((m, h * w), np.float32)
        normal = np.zeros((m, 3, h * w), np.float32)
        index = np.full((m, h * w), -1, np.int32)
        cache: dict[int, tuple[object, np.ndarray, np.ndarray, np.ndarray]] = {}
        for i in range(m):
            if which[i] not in cache:
                cache[which[i]] = self.build(
                    centers[which[i]], rotations[which[i]], radii[which[i]]
                )
            rot = R[i].numpy()
            k_key = K[i].numpy().tobytes()
            if k_key not in ray_cache:
                rays = pixels @ np.linalg.inv(K[i].numpy()).T
                ray_cache[k_key] = (rays / np.linalg.norm(rays, axis=1, keepdims=True)).astype(
                    np.float32
                )
            rays_cam = ray_cache[k_key]
            origin = -(rot.T @ t[i].numpy())
            hit = self.cast(cache[which[i]], origin, rays_cam @ rot.astype(np.float32))
            n_cam = hit["normal"] @ rot.T.astype(np.float32)
            flip = (n_cam * rays_cam).sum(1) > 0
            n_cam[flip] *= -1
            depth[i], normal[i], index[i] = hit["depth"], n_cam.T, hit["index"]
        shape = (*batch, h, w)
        index_t = torch.from_numpy(index).reshape(shape)
        return BoneMap(
            torch.from_numpy(depth).reshape(shape),
            torch.from_numpy(normal).reshape(*batch, 3, h, w),
            index_t >= 0,
            index_t,
        )
