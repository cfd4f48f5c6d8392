"""Pinhole cameras in the OpenCV convention, orbit rigs, projection and converters.

Convention (``DESIGN.md`` §4): ``x_cam = R @ x_world + t``; camera axes x right, y down, z
forward; ``K`` in pixels with pixel centres at integer + 0.5 (pixel ``(col, row)`` covers
``[col, col + 1) x [row, row + 1)``). Converters to and from OpenGL (view + projection matrices),
PyTorch3D (``PerspectiveCameras`` in NDC, as ``cameras_from_opencv_projection`` builds them) and
Kaolin (``Camera.from_args(view_matrix=..., focal_x=..., x0=..., ...)``) live here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from hvg_bonemap._validation import (
    BoneMapInputError,
    as_float_tensor,
    broadcast_batch,
    check_trailing_shape,
)

_CV_TO_GL = (1.0, -1.0, -1.0)


@dataclass(frozen=True)
class Cameras:
    """A batch of OpenCV pinhole cameras sharing one image size.

    Attributes:
        K: ``(..., 3, 3)`` intrinsics in pixels; last row ``(0, 0, 1)``.
        R: ``(..., 3, 3)`` world -> camera rotations.
        t: ``(..., 3)`` world -> camera translations (``x_c = R x_w + t``).
        width: Image width ``W`` in pixels.
        height: Image height ``H`` in pixels.
    """

    K: torch.Tensor
    R: torch.Tensor
    t: torch.Tensor
    width: int
    height: int

    def __post_init__(self) -> None:
        K = as_float_tensor(self.K, "K")
        R = as_float_tensor(self.R, "R", dtype=K.dtype, device=K.device)
        t = as_float_tensor(self.t, "t", dtype=K.dtype, device=K.device)
        check_trailing_shape(K, "K", (3, 3), "(..., 3, 3)")
        check_trailing_shape(R, "R", (3, 3), "(..., 3, 3)")
        check_trailing_shape(t, "t", (3,), "(..., 3)")
        broadcast_batch([K.shape[:-2], R.shape[:-2], t.shape[:-1]], ["K", "R", "t"])
        if not torch.allclose(
            K[..., 2, :], torch.tensor([0.0, 0.0, 1.0], dtype=K.dtype, device=K.device)
        ):
            raise BoneMapInputError("K: expected last row (0, 0, 1) (pixels, pinhole)")
        if bool((K[..., 0, 0] <= 0).any()) or bool((K[..., 1, 1] <= 0).any()):
            raise BoneMapInputError("K: focal lengths K[0, 0] and K[1, 1] must be > 0")
        if bool((K[..., 1, 0] != 0).any()):
            raise BoneMapInputError("K: expected an upper-triangular matrix (K[1, 0] = 0)")
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | torch.SymInt) or value <= 0:
                if isinstance(value, float) and value.is_integer() and value > 0:
                    object.__setattr__(self, name, int(value))
                    continue
                raise BoneMapInputError(f"{name}: expected a positive integer, got {value!r}")
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)

    # -- basic properties -------------------------------------------------------------------
    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast batch shape of ``K``, ``R`` and ``t``."""
        return tuple(
            torch.broadcast_shapes(self.K.shape[:-2], self.R.shape[:-2], self.t.shape[:-1])
        )

    @property
    def centers(self) -> torch.Tensor:
        """``(..., 3)`` camera centres in world coordinates, ``-R^T t``."""
        return -(self.R.transpose(-1, -2) @ self.t[..., None])[..., 0]

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> Cameras:
        """Moves/casts ``K``, ``R``, ``t``."""
        return Cameras(
            self.K.to(device=device, dtype=dtype),
            self.R.to(device=device, dtype=dtype),
            self.t.to(device=device, dtype=dtype),
            self.width,
            self.height,
        )

    def expand(self, batch_shape: tuple[int, ...]) -> Cameras:
        """Broadcasts ``K``, ``R``, ``t`` to ``batch_shape`` (views, no copy)."""
        return Cameras(
            self.K.expand(*batch_shape, 3, 3),
            self.R.expand(*batch_shape, 3, 3),
            self.t.expand(*batch_shape, 3),
            self.width,
            self.height,
        )

    def __getitem__(self, index: object) -> Cameras:
        """Indexes the batch dimensions, e.g. ``cameras[2]`` or ``cameras[:, None]``."""
        expanded = self.expand(self.batch_shape)
        return Cameras(
            expanded.K[index], expanded.R[index], expanded.t[index], self.width, self.height
        )

    # -- geometry ---------------------------------------------------------------------------
    def world_to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """Transforms world points into camera coordinates.

        Args:
            points: ``(..., N, 3)`` world points; ``...`` broadcasts with the camera batch.

        Returns:
            ``(..., N, 3)`` camera-space points.
        """
        points = as_float_tensor(points, "points", dtype=self.R.dtype, device=self.R.device)
        check_trailing_shape(points, "points", (None, 3), "(..., N, 3)")
        return points @ self.R.transpose(-1, -2) + self.t[..., None, :]

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Projects world points to pixel coordinates.

        Args:
            points: ``(..., N, 3)`` world points; ``...`` broadcasts with the camera batch.

        Returns:
            ``uv`` ``(..., N, 2)`` continuous pixel coordinates (pixel centres at +0.5) and ``z``
            ``(..., N)`` camera-space depth along the optical axis (``<= 0``: behind the camera,
            where ``uv`` is meaningless).
        """
        cam = self.world_to_camera(points)
        z = cam[..., 2]
        safe = torch.where(z.abs() < 1e-12, torch.full_like(z, 1e-12), z)
        homog = cam @ self.K.transpose(-1, -2)
        return homog[..., :2] / safe[..., None], z

    def pixel_rays(self) -> torch.Tensor:
        """Unit ray directions in camera space through every pixel centre.

        Returns:
            ``(..., H, W, 3)`` unit directions.
        """
        dtype, device = self.K.dtype, self.K.device
        u = torch.arange(self.width, dtype=dtype, device=device) + 0.5
        v = torch.arange(self.height, dtype=dtype, device=device) + 0.5
        vv, uu = torch.meshgrid(v, u, indexing="ij")
        pix = torch.stack([uu, vv, torch.ones_like(uu)], dim=-1)
        k_inv = torch.linalg.inv(self.K)
        rays = pix @ k_inv[..., None, :, :].transpose(-1, -2)
        return rays / rays.norm(dim=-1, keepdim=True)

    def with_image(self, K: torch.Tensor, width: int, height: int) -> Cameras:
        """Same extrinsics with new intrinsics and image size."""
        return Cameras(K, self.R, self.t, width, height)

    # -- converters -------------------------------------------------------------------------
    def to_opengl(
        self, near: float = 0.01, far: float = 100.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """OpenGL view and projection matrices.

        The view matrix maps world to OpenGL eye space (x right, y up, looking down -z); the
        projection maps eye space to clip space with NDC y up, so the framebuffer is the OpenCV
        image flipped vertically (GL row 0 is the bottom row).

        Returns:
            ``view`` ``(..., 4, 4)`` and ``projection`` ``(..., 4, 4)``.
        """
        flip = torch.tensor(_CV_TO_GL, dtype=self.R.dtype, device=self.R.device)
        batch = self.batch_shape
        view = torch.zeros(*batch, 4, 4, dtype=self.R.dtype, device=self.R.device)
        view[..., :3, :3] = flip[:, None] * self.R
        view[..., :3, 3] = flip * self.t
        view[..., 3, 3] = 1.0
        K = self.K.expand(*batch, 3, 3)
        w, h = float(self.width), float(self.height)
        proj = torch.zeros_like(view)
        proj[..., 0, 0] = 2.0 * K[..., 0, 0] / w
        proj[..., 0, 1] = -2.0 * K[..., 0, 1] / w
        proj[..., 0, 2] = 1.0 - 2.0 * K[..., 0, 2] / w
        proj[..., 1, 1] = 2.0 * K[..., 1, 1] / h
        proj[..., 1, 2] = 2.0 * K[..., 1, 2] / h - 1.0
        proj[..., 2, 2] = -(far + near) / (far - near)
        proj[..., 2, 3] = -2.0 * far * near / (far - near)
        proj[..., 3, 2] = -1.0
        return view, proj

    @classmethod
    def from_opengl(
        cls, view: torch.Tensor, projection: torch.Tensor, width: int, height: int
    ) -> Cameras:
        """Inverse of :meth:`to_opengl` (near/far are dropped)."""
        view = as_float_tensor(view, "view")
        projection = as_float_tensor(projection, "projection", dtype=view.dtype, device=view.device)
        check_trailing_shape(view, "view", (4, 4), "(..., 4, 4)")
        check_trailing_shape(projection, "projection", (4, 4), "(..., 4, 4)")
        flip = torch.tensor(_CV_TO_GL, dtype=view.dtype, device=view.device)
        R = flip[:, None] * view[..., :3, :3]
        t = flip * view[..., :3, 3]
        w, h = float(width), float(height)
        K = torch.zeros(*projection.shape[:-2], 3, 3, dtype=view.dtype, device=view.device)
        K[..., 0, 0] = projection[..., 0, 0] * w / 2.0
        K[..., 0, 1] = -projection[..., 0, 1] * w / 2.0
        K[..., 0, 2] = (1.0 - projection[..., 0, 2]) * w / 2.0
        K[..., 1, 1] = projection[..., 1, 1] * h / 2.0
        K[..., 1, 2] = (projection[..., 1, 2] + 1.0) * h / 2.0
        K[..., 2, 2] = 1.0
        return cls(K, R, t, width, height)

    def to_pytorch3d(self) -> dict[str, torch.Tensor]:
        """Arguments for ``pytorch3d.renderer.PerspectiveCameras`` (NDC, ``in_ndc=True``).

        Same result as ``pytorch3d.utils.cameras_from_opencv_projection``: PyTorch3D's view
        space has +X left, +Y up, +Z forward and uses row vectors (``X_view = X_world R + T``).
        Zero skew only.

        Returns:
            ``{"R": (B, 3, 3), "T": (B, 3), "focal_length": (B, 2), "principal_point": (B, 2),
            "image_size": (B, 2)}`` with ``B`` the flattened batch; ``image_size`` is (H, W).
        """
        cams = self.expand(self.batch_shape)
        K, R, t = cams.K.reshape(-1, 3, 3), cams.R.reshape(-1, 3, 3), cams.t.reshape(-1, 3)
        if bool((K[:, 0, 1] != 0).any()):
            raise BoneMapInputError("K: PyTorch3D cameras have no skew; K[0, 1] must be 0")
        flip = torch.tensor([-1.0, -1.0, 1.0], dtype=K.dtype, device=K.device)
        scale = min(self.width, self.height) / 2.0
        centre = torch.tensor([self.width / 2.0, self.height / 2.0], dtype=K.dtype, device=K.device)
        return {
            "R": (flip[:, None] * R).transpose(-1, -2),
            "T": flip * t,
            "focal_length": torch.stack([K[:, 0, 0], K[:, 1, 1]], dim=-1) / scale,
            "principal_point": -(K[:, :2, 2] - centre) / scale,
            "image_size": torch.tensor(
                [[self.height, self.width]], dtype=K.dtype, device=K.device
            ).expand(K.shape[0], 2),
        }

    @classmethod
    def from_pytorch3d(
        cls,
        R: torch.Tensor,
        T: torch.Tensor,
        focal_length: torch.Tensor,
        principal_point: torch.Tensor,
        image_size: tuple[int, int],
    ) -> Cameras:
        """Inverse of :meth:`to_pytorch3d` for NDC ``PerspectiveCameras``.

        Args:
            R: ``(B, 3, 3)`` PyTorch3D rotations (row-vector convention).
            T: ``(B, 3)`` PyTorch3D translations.
            focal_length: ``(B, 2)`` NDC focal lengths.
            principal_point: ``(B, 2)`` NDC principal points.
            image_size: ``(H, W)`` in pixels.
        """
        R = as_float_tensor(R, "R")
        T = as_float_tensor(T, "T", dtype=R.dtype, device=R.device)
        focal_length = as_float_tensor(focal_length, "focal_length", dtype=R.dtype, device=R.device)
        principal_point = as_float_tensor(
            principal_point, "principal_point", dtype=R.dtype, device=R.device
        )
        height, width = int(image_size[0]), int(image_size[1])
        flip = torch.tensor([-1.0, -1.0, 1.0], dtype=R.dtype, device=R.device)
        scale = min(width, height) / 2.0
        centre = torch.tensor([width / 2.0, height / 2.0], dtype=R.dtype, device=R.device)
        K = torch.zeros(*focal_length.shape[:-1], 3, 3, dtype=R.dtype, device=R.device)
        K[..., 0, 0] = focal_length[..., 0] * scale
        K[..., 1, 1] = focal_length[..., 1] * scale
        K[..., :2, 2] = centre - principal_point * scale
        K[..., 2, 2] = 1.0
        return cls(K, flip[:, None] * R.transpose(-1, -2), flip * T, width, height)

    def to_kaolin(self) -> dict[str, object]:
        """Keyword arguments for ``kaolin.render.camera.Camera.from_args``.

        Kaolin's view matrix maps world to OpenGL-style camera axes (x right, y up, looking down
        -z); its principal point ``(x0, y0)`` is an offset from the image centre with y up, as
        used by ``PinholeIntrinsics.perspective_matrix``: ``x0 = cx - W / 2``, ``y0 = H / 2 - cy``.
        Zero skew only.

        Returns:
            ``{"view_matrix": (B, 4, 4), "focal_x": (B,), "focal_y": (B,), "x0": (B,),
            "y0": (B,), "width": W, "height": H}``.
        """
        view, _ = self.to_opengl()
        K = self.K.expand(*self.batch_shape, 3, 3).reshape(-1, 3, 3)
        if bool((K[:, 0, 1] != 0).any()):
            raise BoneMapInputError("K: Kaolin pinhole cameras have no skew; K[0, 1] must be 0")
        return {
            "view_matrix": view.reshape(-1, 4, 4),
            "focal_x": K[:, 0, 0],
            "focal_y": K[:, 1, 1],
            "x0": K[:, 0, 2] - self.width / 2.0,
            "y0": self.height / 2.0 - K[:, 1, 2],
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_kaolin(
        cls,
        view_matrix: torch.Tensor,
        focal_x: torch.Tensor,
        focal_y: torch.Tensor,
        x0: torch.Tensor,
        y0: torch.Tensor,
        width: int,
        height: int,
    ) -> Cameras:
        """Inverse of :meth:`to_kaolin` (e.g. from ``cam.view_matrix()``, ``cam.focal_x``...)."""
        view_matrix = as_float_tensor(view_matrix, "view_matrix")
        check_trailing_shape(view_matrix, "view_matrix", (4, 4), "(..., 4, 4)")
        dtype, device = view_matrix.dtype, view_matrix.device
        fx = as_float_tensor(focal_x, "focal_x", dtype=dtype, device=device)
        fy = as_float_tensor(focal_y, "focal_y", dtype=dtype, device=device)
        x0 = as_float_tensor(x0, "x0", dtype=dtype, device=device)
        y0 = as_float_tensor(y0, "y0", dtype=dtype, device=device)
        flip = torch.tensor(_CV_TO_GL, dtype=dtype, device=device)
        K = torch.zeros(*view_matrix.shape[:-2], 3, 3, dtype=dtype, device=device)
        K[..., 0, 0] = fx
        K[..., 1, 1] = fy
        K[..., 0, 2] = x0 + width / 2.0
        K[..., 1, 2] = height / 2.0 - y0
        K[..., 2, 2] = 1.0
        return cls(
            K,
            flip[:, None] * view_matrix[..., :3, :3],
            flip * view_matrix[..., :3, 3],
            width,
            height,
        )


def intrinsics(
    width: int,
    height: int,
    *,
    fov_deg: float | None = None,
    focal: float | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A centred pinhole ``K`` from a vertical field of view or a focal length in pixels."""
    if (fov_deg is None) == (focal is None):
        raise BoneMapInputError("intrinsics: give exactly one of fov_deg or focal")
    if focal is None:
        assert fov_deg is not None
        if not 0.0 < fov_deg < 180.0:
            raise BoneMapInputError(f"fov_deg: expected a value in (0, 180), got {fov_deg}")
        focal = 0.5 * height / math.tan(math.radians(fov_deg) / 2.0)
    if not focal > 0:
        raise BoneMapInputError(f"focal: expected > 0 pixels, got {focal}")
    return torch.tensor(
        [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]],
        dtype=dtype,
        device=device,
    )


def look_at(
    eye: torch.Tensor,
    target: torch.Tensor,
    up: torch.Tensor | tuple[float, float, float] = (0.0, 1.0, 0.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """OpenCV extrinsics of cameras at ``eye`` looking at ``target`` with ``up`` upwards in the image.

    When the viewing direction is parallel to ``up`` (looking straight down or up) another
    world axis replaces ``up`` so that the result stays a proper rotation.

    Args:
        eye: ``(..., 3)`` camera centres.
        target: ``(..., 3)`` points to look at (broadcasts with ``eye``).
        up: ``(..., 3)`` world up direction.

    Returns:
        ``R`` ``(..., 3, 3)`` and ``t`` ``(..., 3)``.
    """
    eye = as_float_tensor(eye, "eye")
    target = as_float_tensor(target, "target", dtype=eye.dtype, device=eye.device)
    up_t = as_float_tensor(up, "up", dtype=eye.dtype, device=eye.device)
    eye, target, up_t = torch.broadcast_tensors(eye, target, up_t)
    forward = target - eye
    norm = forward.norm(dim=-1, keepdim=True)
    if bool((norm < 1e-12).any()):
        raise BoneMapInputError("eye/target: camera centre coincides with its target")
    z = forward / norm
    x = torch.linalg.cross(z, up_t)
    x_norm = x.norm(dim=-1, keepdim=True)
    parallel = x_norm < 1e-9 * up_t.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    if bool(parallel.any()):
        alt = torch.zeros_like(up_t)
        alt.scatter_(-1, z.abs().argmin(dim=-1, keepdim=True), 1.0)
        x_alt = torch.linalg.cross(z, alt)
        x = torch.where(parallel, x_alt, x)
        x_norm = x.norm(dim=-1, keepdim=True)
    x = x / x_norm
    y = torch.linalg.cross(z, x)
    R = torch.stack([x, y, z], dim=-2)
    t = -(R @ eye[..., None])[..., 0]
    return R, t


def orbit_cameras(
    num_views: int = 8,
    *,
    elevation_deg: float = 0.0,
    distance: float = 3.0,
    fov_deg: float | None = 40.0,
    focal: float | None = None,
    width: int = 576,
    height: int = 576,
    target: tuple[float, float, float] | torch.Tensor = (0.0, 0.0, 0.0),
    azimuth_start_deg: float = 0.0,
    azimuths_deg: torch.Tensor | list[float] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Cameras:
    """A ring of cameras around ``target`` (Y up), all looking at it.

    Azimuth 0 puts the camera on the +z side of the target, facing a SMPL-X body in its rest
    orientation (which faces +z); azimuth 90 puts it on the +x side (the body's left), i.e.
    the azimuth turns from +z towards +x. Views are evenly spaced over 360 degrees unless ``azimuths_deg`` is given.

    Args:
        num_views: Number of views ``V`` (ignored when ``azimuths_deg`` is given).
        elevation_deg: Elevation above the horizontal plane through ``target``.
        distance: Distance from camera centre to ``target`` in metres.
        fov_deg: Vertical field of view; or pass ``focal`` (pixels) with ``fov_deg=None``.
        focal: Focal length in pixels.
        width: Image width.
        height: Image height.
        target: ``(3,)`` or ``(..., 3)`` look-at point (e.g. the pelvis); a batched target gives
            cameras of batch shape ``(V, ...)``.
        azimuth_start_deg: Azimuth of the first view.
        azimuths_deg: Explicit azimuths ``(V,)`` in degrees.
        dtype: Floating dtype of the result.
        device: Device of the result.

    Returns:
        :class:`Cameras` with batch shape ``(V,)`` (or ``(V, ...)`` for a batched target).
    """
    if distance <= 0:
        raise BoneMapInputError(f"distance: expected > 0 metres, got {distance}")
    if azimuths_deg is None:
        if num_views < 1:
            raise BoneMapInputError(f"num_views: expected >= 1, got {num_views}")
        az = azimuth_start_deg + torch.arange(num_views, dtype=torch.float64) * (360.0 / num_views)
    else:
        az = torch.as_tensor(azimuths_deg, dtype=torch.float64).reshape(-1)
    az = torch.deg2rad(az)
    el = math.radians(elevation_deg)
    target_t = torch.as_tensor(target, dtype=torch.float64).to("cpu")
    check_trailing_shape(target_t, "target", (3,), "(..., 3)")
    offsets = distance * torch.stack(
        [
            math.cos(el) * torch.sin(az),
            torch.full_like(az, math.sin(el)),
            math.cos(el) * torch.cos(az),
        ],
        dim=-1,
    )
    extra = target_t.shape[:-1]
    eye = offsets.reshape(-1, *([1] * len(extra)), 3) + target_t
    R, t = look_at(eye, target_t.expand_as(eye))
    K = intrinsics(width, height, fov_deg=fov_deg, focal=focal, dtype=torch.float64)
    cams = Cameras(K.expand(*R.shape[:-2], 3, 3), R, t, width, height)
    return cams.to(device=device, dtype=dtype)
