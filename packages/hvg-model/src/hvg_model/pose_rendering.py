"""Pose conditioning for generation: SMPL-X motion → joints → orbit cameras → pose maps.

Uses ``hvg_bonemap``: the built-in body kinematics, an orbit rig around the first frame's pelvis,
the view alignment of the training data (``hvg_bonemap.alignment.align_cameras``, paper §3.2) and
the network's ``PoseSpec`` (signal, layout, depth range, bones, crop) through
``hvg_bonemap.pose_codec``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

#: Metric side of the default view-alignment window (``hvg_bonemap.DEFAULT_POSE_SPEC``), the
#: same as ``hvg-data render`` uses for training (a test keeps them equal).
CROP_EXTENT = 2.2


@dataclass
class PoseConditioning:
    """Pose maps and cameras of one generation.

    Attributes:
        pose_maps: ``(1, V, T, C, H, W)`` float32 in [0, 1].
        rotations: ``(1, V, 3, 3)`` world-to-camera rotations (OpenCV).
        cameras: The ``hvg_bonemap.Cameras`` (batch ``(V,)``) after the pelvis crop.
        spec: The ``hvg_bonemap.PoseSpec`` the maps were made with (pass it to the pipeline as
            ``pose_spec=`` to have it checked against the network's).
    """

    pose_maps: torch.Tensor
    rotations: torch.Tensor
    cameras: Any
    spec: Any = None


def motion_parameters(motion: str | os.PathLike[str], num_frames: int) -> dict[str, torch.Tensor]:
    """SMPL-X parameters ``(T, ...)``: a built-in motion name or an ``.npz`` motion file.

    Raises:
        InputError: Unknown name or unreadable file (the message lists the built-ins).
    """
    from hvg_bonemap.motions import MOTIONS, load_motion
    from hvg_core.errors import InputError

    if str(motion) in MOTIONS:
        return MOTIONS[str(motion)](num_frames)
    if not str(motion).endswith(".npz"):
        raise InputError(
            f"unknown motion {str(motion)!r}: use a built-in ({', '.join(sorted(MOTIONS))}) or an "
            "SMPL-X .npz file",
            field="motion",
        )
    try:
        params = load_motion(motion)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the motion: {error}", path=motion) from error
    return {key: value[:num_frames] for key, value in params.items()}


def render_orbit_pose(
    params: dict[str, torch.Tensor],
    *,
    num_views: int,
    size: int,
    pose_signal: Any = "bonemap",
    elevation_deg: float = 0.0,
    distance: float = 3.0,
    fov_deg: float = 40.0,
    smplx_model: str | os.PathLike[str] | None = None,
) -> PoseConditioning:
    """Render pose maps of a motion seen by an orbit of ``num_views`` cameras.

    The orbit circles the first frame's pelvis at equal azimuth steps (view 0 in front).

    Args:
        params: SMPL-X parameters with a leading frame axis (:func:`motion_parameters`).
        num_views: V.
        size: Square image size H = W (a multiple of 8 for the pipeline).
        pose_signal: Registered pose signal or the network's ``PoseSpec`` (or its dict).
        elevation_deg: Camera elevation.
        distance: Camera distance to the first frame's pelvis (metres).
        fov_deg: Vertical field of view.
        smplx_model: SMPL-X model folder, for signals drawn from the body mesh
            (``body_normal``; see :func:`render_camera_pose`).

    Returns:
        :class:`PoseConditioning`: ``pose_maps (1, V, T, C, size, size)`` and
        ``rotations (1, V, 3, 3)``, the pipeline's pose input.
    """
    from hvg_bonemap import joints_from_smplx_params, orbit_cameras

    if smplx_model is not None and _draws_mesh(pose_signal):
        joints = smplx_mesh(params, smplx_model)[0]
    else:
        joints = joints_from_smplx_params(params)  # (T, 55, 3)
    cameras = orbit_cameras(
        num_views,
        elevation_deg=elevation_deg,
        distance=distance,
        fov_deg=fov_deg,
        width=size,
        height=size,
        target=joints[0, 0],
    )
    return render_camera_pose(
        params, cameras, size=size, pose_signal=pose_signal, smplx_model=smplx_model
    )


def render_camera_pose(
    params: dict[str, torch.Tensor],
    cameras: Any,
    *,
    size: int,
    pose_signal: Any = "bonemap",
    crop_extent: float | None = None,
    smplx_model: str | os.PathLike[str] | None = None,
) -> PoseConditioning:
    """Render pose maps of a motion seen by the given cameras (any rig: orbit, captured, …).

    Each view is aligned exactly as ``hvg-data`` aligns the training data (paper §3.2; one
    rule, ``hvg_bonemap.alignment.view_alignment_boxes``): a square centred on the pelvis
    projected and averaged over the frames, ``crop_extent`` metres wide at the mean pelvis
    depth, resized to ``size``. Cameras must see the pelvis.

    Args:
        params: SMPL-X parameters with a leading frame axis (:func:`motion_parameters`).
        cameras: ``hvg_bonemap.Cameras`` with batch ``(V,)`` (OpenCV world-to-camera ``R``,
            ``t`` and intrinsics ``K`` for their own ``width`` × ``height``).
        size: Square output size H = W (a multiple of 8 for the pipeline).
        pose_signal: Registered pose signal, or the network's ``PoseSpec`` (or its dict).
        crop_extent: Overrides the spec's window side (metres).
        smplx_model: SMPL-X model folder (``SMPLX_NEUTRAL.npz``, ...) for signals drawn from
            the body mesh (``body_normal``): joints and mesh then come from the SMPL-X body
            (:func:`smplx_mesh`), as in shards rendered with ``--body-model smplx``.

    Returns:
        :class:`PoseConditioning`: ``pose_maps (1, V, T, C, size, size)`` and
        ``rotations (1, V, 3, 3)``.

    Raises:
        InputError: Cameras that are not a ``(V,)`` batch, or the ``body_normal`` signal
            without ``smplx_model`` (or with a missing model file).
    """
    from hvg_bonemap import joints_from_smplx_params

    from hvg_model.pose_input import pose_spec_for

    spec = pose_spec_for(pose_signal)
    if crop_extent is not None:
        spec = spec.replace(crop_extent=crop_extent)
    if smplx_model is not None and _draws_mesh(spec):
        joints, vertices, faces = smplx_mesh(params, smplx_model)
        return pose_conditioning(spec, joints, cameras, size=size, mesh=(vertices, faces))
    return pose_conditioning(spec, joints_from_smplx_params(params), cameras, size=size)


def _draws_mesh(pose_signal: Any) -> bool:
    from hvg_bonemap.pose_codec import draws_mesh

    from hvg_model.pose_input import pose_spec_for, signal_class

    spec = pose_spec_for(pose_signal)
    return draws_mesh(spec, signal_class(spec.signal))


def smplx_mesh(
    params: dict[str, Any], smplx_model: str | os.PathLike[str], gender: str = "neutral"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Joints and mesh of SMPL-X parameters through the real SMPL-X body.

    Args:
        params: SMPL-X parameters ``(T, D)`` (THuman-style ``scale`` ``(T,)`` and
            ``translation`` ``(T, 3)`` are applied after the model).
        smplx_model: Folder (or ``.npz``) of the SMPL-X model files.
        gender: Which model file.

    Returns:
        ``joints (T, 55, 3)``, ``vertices (T, N, 3)`` float32 metres and ``faces (F, 3)``.

    Raises:
        MissingResourceError: No model file of that gender (``field="smplx_model"``).
        InputError: Parameters the body refuses (``field="smplx"``).
    """
    from hvg_bonemap._validation import BoneMapInputError
    from hvg_bonemap.bodies.smplx_body import MissingModelFileError, SMPLXBody
    from hvg_core.errors import InputError, MissingResourceError

    try:
        body = SMPLXBody(smplx_model, gender)
    except MissingModelFileError as error:
        raise MissingResourceError(str(error), path=smplx_model, field="smplx_model") from error
    except BoneMapInputError as error:
        raise InputError(str(error), path=smplx_model, field="smplx_model") from error
    try:
        joints, vertices = body.run(params)
    except BoneMapInputError as error:
        raise InputError(str(error), field="smplx") from error
    return joints.float(), vertices.float(), body.faces


def pose_conditioning(
    spec: Any,
    joints: torch.Tensor,
    cameras: Any,
    *,
    size: int,
    mesh: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> PoseConditioning:
    """Pose input of joints seen by cameras: view alignment, then the spec's signal.

    Args:
        spec: The network's ``hvg_bonemap.PoseSpec``.
        joints: ``(T, 55, 3)`` world joints.
        cameras: Uncropped ``hvg_bonemap.Cameras`` with batch ``(V,)``.
        size: Square output side.
        mesh: ``(vertices (T, N, 3), faces (F, 3))`` world body mesh, for signals drawn from
            it (``body_normal``).

    Returns:
        :class:`PoseConditioning` with ``pose_maps (1, V, T, C, size, size)``.

    Raises:
        InputError: See :func:`render_camera_pose`; a pelvis behind a camera.
    """
    from hvg_bonemap.alignment import align_cameras
    from hvg_core.errors import InputError

    from hvg_model.pose_input import render_pose_signal

    if mesh is None and _draws_mesh(spec):
        raise InputError(
            f"the {spec.signal} signal is drawn from the SMPL-X body mesh: give the SMPL-X model "
            "folder (smplx_model=DIR with SMPLX_NEUTRAL.npz, from https://smpl-x.is.tue.mpg.de), "
            "or render the maps elsewhere and pass them with --pose-maps",
            field="pose_signal",
        )
    if len(cameras.batch_shape) != 1:
        raise InputError(
            f"expected cameras with batch shape (V,), got {tuple(cameras.batch_shape)}",
            field="cameras",
        )
    try:
        aligned = align_cameras(cameras, joints[:, 0], spec.crop_extent, size)
    except ValueError as error:
        raise InputError(f"view alignment: {error}", field="cameras") from error
    if mesh is None:
        maps = render_pose_signal(joints[None], aligned[:, None], pose_signal=spec)
    else:
        from hvg_bonemap.pose_codec import pose_input

        from hvg_model.pose_input import signal_class

        vertices, faces = mesh
        maps = pose_input(
            spec,
            joints[None],
            aligned[:, None],
            signal_class(spec.signal),
            mesh=(vertices[None], faces),
        )
    return PoseConditioning(maps[None].float(), aligned.R[None].float(), aligned, spec)


def save_pose_maps(path: str | os.PathLike[str], pose: PoseConditioning) -> None:
    """Write conditioning as ``.npz`` for ``hvg-model generate --pose-maps``.

    Keys: ``pose_maps (V, T, C, H, W)`` float32, ``R (V, 3, 3)`` and, when known,
    ``pose_spec`` (the ``PoseSpec`` as a JSON string), which generate checks against the
    network's spec. Written atomically.
    """
    import json
    import tempfile

    import numpy as np

    arrays = {"pose_maps": pose.pose_maps[0].numpy(), "R": pose.rotations[0].numpy()}
    if pose.spec is not None:
        arrays["pose_spec"] = np.array(json.dumps(pose.spec.to_dict()))
    target = os.fspath(path)
    fd, temporary = tempfile.mkstemp(suffix=".npz", dir=os.path.dirname(target) or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def load_pose_spec(path: str | os.PathLike[str]) -> Any:
    """The ``PoseSpec`` recorded in a pose-map ``.npz`` (:func:`save_pose_maps`), or None.

    Raises:
        InputError: A ``pose_spec`` entry that is not a spec (``field="pose_spec.<field>"``).
    """
    import json

    import numpy as np
    from hvg_core.errors import InputError

    from hvg_model.pose_input import pose_spec_for

    with np.load(path, allow_pickle=False) as data:
        if "pose_spec" not in data.files:
            return None
        text = data["pose_spec"]
    try:
        spec = json.loads(str(text))
    except (TypeError, ValueError) as error:
        raise InputError(f"not a JSON pose spec: {error}", path=path, field="pose_spec") from error
    if not isinstance(spec, dict):
        raise InputError("expected a JSON object", path=path, field="pose_spec")
    return pose_spec_for(spec, path=path)


def load_pose_maps(path: str | os.PathLike[str]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Read precomputed conditioning from ``.npz``: ``pose_maps (V, T, C, H, W)``, optional ``R (V, 3, 3)``.

    The spec the maps were made with, if recorded, is read by :func:`load_pose_spec`.

    Raises:
        InputError: Missing file or field, or wrong shape (file and field named).
    """
    import zipfile

    import numpy as np
    from hvg_core.errors import InputError

    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise InputError(
                "expected a .npz archive (numpy.savez), got a single .npy array", path=path
            )
        with data:
            arrays = {key: np.asarray(data[key]) for key in data.files}
    except InputError:
        raise
    except FileNotFoundError as error:
        raise InputError("pose-map file not found", path=path) from error
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        # numpy's own text advises loading with allow_pickle=True, which would run code
        # from an untrusted file: name the problem without that advice.
        raise InputError(
            "cannot read pose maps: not a .npz archive of numeric arrays (corrupt, truncated, "
            "or holding pickled Python objects, which are never loaded)",
            path=path,
        ) from error
    if "pose_maps" not in arrays:
        raise InputError("missing array 'pose_maps' (V, T, C, H, W)", path=path, field="pose_maps")
    maps = torch.from_numpy(arrays["pose_maps"]).float()
    if maps.ndim != 5:
        raise InputError(
            f"expected (V, T, C, H, W), got shape {tuple(maps.shape)}", path=path, field="pose_maps"
        )
    if arrays["pose_maps"].dtype == np.uint8:
        maps = maps / 255.0
    rotations = None
    if "R" in arrays:
        rotations = torch.from_numpy(arrays["R"]).float()
        if rotations.shape != (maps.shape[0], 3, 3):
            raise InputError(
                f"expected (V, 3, 3) with V = {maps.shape[0]}, got {tuple(rotations.shape)}",
                path=path,
                field="R",
            )
    return maps[None], None if rotations is None else rotations[None]
