"""Posed SMPL-X joints of :class:`~hvg_data.smplx_params.SMPLXParams` in the dataset's world.

Two body models are built in:

* ``"builtin"``: ``hvg_bonemap``'s anthropometric skeleton, needing no licensed file. It poses with
  SMPL-X's kinematics but ignores ``betas``; PCA hand poses need the model's hand basis, so with
  this body they are rendered as the flat hand (a warning says so). Fine for the synthetic
  dataset (made with it) and for previews.
* ``"smplx"``: the real SMPL-X model through the ``smplx`` package, built with each dataset's
  settings (gender, PCA components, ``flat_hand_mean``); needs the user's model files
  (``--smplx-model-dir DIR`` holding ``SMPLX_NEUTRAL.npz``/``SMPLX_MALE.npz``/...
  or ``smplx/SMPLX_*.npz``).

Any other name is looked up in the ``body_models`` registry kind (``hvg_bonemap.bodies.body_model``,
e.g. a plug-in's), built with ``model_path=--smplx-model-dir`` and the fit's ``gender`` when its
constructor takes them.

The dataset's world transform is applied after the model:
``x = scale * R(world_rotation) @ (x_model - pelvis_offset) + world_translation``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError, MissingResourceError

from hvg_data.rotations import axis_angle_to_matrix
from hvg_data.smplx_params import SMPLXParams

BODY_MODELS = ("builtin", "smplx")
"""hvg-data's own names: ``builtin`` is hvg-bonemap's ``anthropometric`` body with the warning
about PCA hands, ``smplx`` the real model built with each dataset's settings."""


def model_space_joints_builtin(params: SMPLXParams) -> np.ndarray:
    """(T, 55, 3) joints from the built-in skeleton, before the world transform."""
    import torch
    from hvg_bonemap.bodies.anthropometric import joints_from_smplx_params

    arrays: dict[str, Any] = {
        key: torch.from_numpy(getattr(params, key))
        for key in ("global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose", "transl")
    }
    if params.hand_pca_components is None:
        arrays["left_hand_pose"] = torch.from_numpy(params.left_hand_pose)
        arrays["right_hand_pose"] = torch.from_numpy(params.right_hand_pose)
    elif np.any(params.left_hand_pose != 0) or np.any(params.right_hand_pose != 0):
        warnings.warn(
            "the built-in body has no hand PCA basis: PCA hand poses are drawn as flat hands "
            "(pass --smplx-model-dir to use the real SMPL-X hands)",
            stacklevel=2,
        )
    with torch.no_grad():
        joints = joints_from_smplx_params(arrays, dtype=torch.float64)
    return joints.numpy()


@lru_cache(maxsize=16)
def _smplx_body(
    model_dir: str,
    gender: str,
    hand_pca: int | None,
    flat_hand_mean: bool,
    num_betas: int,
    num_expression: int,
) -> Any:
    from hvg_bonemap._validation import BoneMapInputError
    from hvg_bonemap.bodies.smplx_body import MissingModelFileError, SMPLXBody

    try:
        return SMPLXBody(
            model_dir,
            gender,
            use_pca=hand_pca is not None,
            flat_hand_mean=flat_hand_mean,
            num_betas=num_betas,
            num_expression_coeffs=num_expression,
        )
    except MissingModelFileError as error:
        raise MissingResourceError(
            f"{error} The fits of this dataset were made with the {gender} SMPL-X model; "
            "alternatively render with --body-model builtin (approximate joints: no shape, "
            "no PCA hands).",
            path=model_dir,
        ) from error
    except BoneMapInputError as error:
        raise InputError(str(error), path=model_dir) from error


def model_space_joints_smplx(params: SMPLXParams, model_dir: str | Path) -> np.ndarray:
    """(T, 55, 3) joints from the real SMPL-X model, before the world transform.

    Uses ``hvg_bonemap``'s SMPL-X body, which reads the model file without unpickling.
    """
    import torch
    from hvg_bonemap._validation import BoneMapInputError

    body = _smplx_body(
        str(model_dir),
        params.gender,
        params.hand_pca_components,
        params.flat_hand_mean,
        params.betas.shape[1],
        params.expression.shape[1],
    )
    inputs = {
        key: torch.from_numpy(getattr(params, key))
        for key in (
            "betas",
            "global_orient",
            "body_pose",
            "left_hand_pose",
            "right_hand_pose",
            "jaw_pose",
            "leye_pose",
            "reye_pose",
            "expression",
            "transl",
        )
    }
    try:
        joints = body(inputs)
    except BoneMapInputError as error:
        raise InputError(str(error), field="smplx") from error
    return joints.double().numpy()


def model_space_joints_registered(
    params: SMPLXParams, name: str, model_dir: str | Path | None
) -> np.ndarray:
    """(T, 55, 3) joints from the body model registered as ``name``, before the world transform."""
    import torch
    from hvg_bonemap._validation import BoneMapInputError
    from hvg_bonemap.bodies import body_model

    try:
        body = body_model(name, model_path=model_dir, gender=params.gender)
    except BoneMapInputError as error:
        raise InputError(
            f"{error} (hvg-data also accepts {', '.join(BODY_MODELS)})", field="body_model"
        ) from error
    keys = ("betas", "global_orient", "body_pose", "left_hand_pose", "right_hand_pose")
    keys += ("jaw_pose", "leye_pose", "reye_pose", "expression", "transl")
    with torch.no_grad():
        joints = body({key: torch.from_numpy(getattr(params, key)) for key in keys})
    return joints.double().numpy()


def posed_joints(
    params: SMPLXParams, *, body_model: str = "builtin", model_dir: str | Path | None = None
) -> np.ndarray:
    """World-space joints of every frame.

    Args:
        params: The fit.
        body_model: ``"builtin"``, ``"smplx"`` or another registered body model.
        model_dir: Folder of SMPL-X model files (``"smplx"``; passed to others as
            ``model_path``).

    Returns:
        (T, 55, 3) float32 joints, metres in the dataset's world frame.

    Raises:
        MissingResourceError: ``"smplx"`` without (usable) model files.
    """
    if body_model == "builtin":
        joints = model_space_joints_builtin(params)
    elif body_model == "smplx":
        if model_dir is None:
            raise MissingResourceError(
                "--body-model smplx needs --smplx-model-dir DIR: a folder with the SMPL-X model "
                "files (SMPLX_NEUTRAL.npz, SMPLX_MALE.npz, SMPLX_FEMALE.npz) from "
                "https://smpl-x.is.tue.mpg.de"
            )
        joints = model_space_joints_smplx(params, model_dir)
    else:
        joints = model_space_joints_registered(params, body_model, model_dir)
    return apply_world_transform(params, joints)


def apply_world_transform(params: SMPLXParams, joints: np.ndarray) -> np.ndarray:
    """``scale * R @ (joints - pelvis_offset) + world_translation`` per frame.

    Args:
        params: Supplies the world transform (``T`` frames).
        joints: (T, J, 3) model-space joints (joint 0 = pelvis).

    Returns:
        (T, J, 3) float32 world joints.
    """
    joints = np.asarray(joints, np.float64)
    if params.pelvis_to_origin:
        joints = joints - joints[:, :1]
    rotation = axis_angle_to_matrix(params.world_rotation)  # (T, 3, 3)
    world = np.einsum("tij,tkj->tki", rotation, joints) * params.scale[:, None, None]
    return (world + params.world_translation[:, None]).astype(np.float32)
