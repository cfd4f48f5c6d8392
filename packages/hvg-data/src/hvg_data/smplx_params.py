"""SMPL-X parameters as every dataset stores them, normalised to one dataclass.

Datasets disagree on ranks (batched ``(1, D)`` or not), hand-pose dimensions (PCA-6, PCA-12 or
45-D axis-angle), the hand mean, the gender of the model, and on where the global transform lives
(``global_orient``/``transl`` inside the model; THuman's ``scale``/``translation`` after it;
EasyMocap's ``Rh``/``Th`` about the origin; CustomHumans' pelvis-centred canonical frame).
:class:`SMPLXParams` keeps the parameters as the model consumes them and adds a *world transform*
applied after the model::

    x_world = scale * Rodrigues(world_rotation) @ (x_model - pelvis_offset) + world_translation

where ``pelvis_offset`` is the pelvis joint of the posed body when ``pelvis_to_origin`` is set and
zero otherwise. Every dataset's convention is one setting of these fields (see each adapter).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from hvg_core.errors import InputError

POSE_FIELDS = ("global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose")
HAND_FIELDS = ("left_hand_pose", "right_hand_pose")
GENDERS = ("neutral", "male", "female")


@dataclass(frozen=True)
class SMPLXParams:
    """SMPL-X parameters of ``T`` frames plus the dataset's world transform.

    Attributes:
        betas: (T, S) float32 shape coefficients (S = 10 usually; 300 in SMPL-X v1.1 fits).
        global_orient: (T, 3) float32 axis-angle root orientation (radians).
        body_pose: (T, 63) float32 axis-angle of the 21 body joints.
        left_hand_pose: (T, Dh) float32: PCA coefficients when ``hand_pca_components`` is set
            (Dh equals it), else 45-D axis-angle of the 15 finger joints.
        right_hand_pose: (T, Dh) float32, same layout as ``left_hand_pose``.
        jaw_pose: (T, 3) float32 axis-angle.
        leye_pose: (T, 3) float32 axis-angle.
        reye_pose: (T, 3) float32 axis-angle.
        expression: (T, E) float32 expression coefficients (E = 10 usually).
        transl: (T, 3) float32 translation inside the model (smplx ``transl``), metres.
        scale: (T,) float32 uniform scale applied after the model (THuman ``scale``).
        world_rotation: (T, 3) float32 axis-angle rotation about the origin applied after the
            model (EasyMocap ``Rh``); zeros for most datasets.
        world_translation: (T, 3) float32 translation applied last (THuman ``translation``,
            EasyMocap ``Th``), metres in the dataset's world frame.
        pelvis_to_origin: Subtract the posed pelvis joint before the world transform
            (CustomHumans' canonical frame).
        gender: Which model file the fit was made with: ``"neutral"``, ``"male"``, ``"female"``.
        hand_pca_components: Number of hand PCA components, or ``None`` for axis-angle hands.
        flat_hand_mean: Whether the fit used a zero hand mean (smplx ``flat_hand_mean``).
    """

    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    left_hand_pose: np.ndarray
    right_hand_pose: np.ndarray
    jaw_pose: np.ndarray
    leye_pose: np.ndarray
    reye_pose: np.ndarray
    expression: np.ndarray
    transl: np.ndarray
    scale: np.ndarray
    world_rotation: np.ndarray
    world_translation: np.ndarray
    pelvis_to_origin: bool = False
    gender: str = "neutral"
    hand_pca_components: int | None = None
    flat_hand_mean: bool = False

    @property
    def frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.global_orient.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """All array fields by name (for shards and body models)."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if isinstance(getattr(self, field.name), np.ndarray)
        }

    def settings(self) -> dict[str, Any]:
        """The non-array fields (model settings) by name."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if not isinstance(getattr(self, field.name), np.ndarray)
        }

    def frame(self, index: int | slice | np.ndarray) -> SMPLXParams:
        """A subset of frames (keeps the frame axis)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return dataclasses.replace(self, **{k: v[index] for k, v in self.arrays().items()})


def as_param_array(
    value: Any,
    *,
    field: str,
    path: str | PathLike[str] | None,
    width: int | None = None,
    frames: int | None = None,
) -> np.ndarray:
    """Coerce one stored parameter to a finite float32 ``(T, D)`` array.

    Accepts lists, numpy arrays of any float/int dtype, unbatched ``(D,)``, batched ``(1, D)`` or
    ``(T, D)``, and ``(T, J, 3)`` joint-major layouts (flattened to ``(T, J*3)``).

    Args:
        value: The stored value.
        field: Field name, for error messages.
        path: File the value came from, for error messages.
        width: Required ``D``, if fixed.
        frames: Required ``T``, if known; a single frame is broadcast to it.

    Raises:
        InputError: Non-numeric, wrong width, NaN/inf (names the file and field).
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"not a numeric array ({error})", path=path, field=field) from error
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array[None]
    elif array.ndim > 2:
        array = array.reshape(array.shape[0], -1)
    if width is not None and array.shape[1] != width:
        raise InputError(
            f"expected {width} values per frame, got shape {tuple(np.shape(value))}",
            path=path,
            field=field,
        )
    if not np.all(np.isfinite(array)):
        raise InputError("contains NaN or infinite values", path=path, field=field)
    if frames is not None and array.shape[0] != frames:
        if array.shape[0] != 1:
            raise InputError(
                f"has {array.shape[0]} frames where {frames} were expected",
                path=path,
                field=field,
            )
        array = np.repeat(array, frames, axis=0)
    return array.astype(np.float32)


def hand_components_from_width(width: int, *, pca_45: bool, field: str, path: Any) -> int | None:
    """Infer the hand representation from the stored length.

    Args:
        width: Values per hand.
        pca_45: Whether a 45-value hand is 45 PCA coefficients (THuman2.1 recipe) rather than
            axis-angle of the 15 finger joints (2K2K, ``use_pca=False``).
        field: Field name for errors.
        path: File for errors.

    Returns:
        The number of PCA components, or ``None`` for axis-angle.
    """
    if width == 45 and not pca_45:
        return None
    if 1 <= width <= 45:
        return width
    raise InputError(
        f"a hand pose has {width} values; expected PCA coefficients (1-45) or 45-D axis-angle",
        path=path,
        field=field,
    )


def params_from_mapping(
    data: Mapping[str, Any],
    *,
    path: str | PathLike[str] | None,
    gender: str,
    flat_hand_mean: bool,
    hand_pca_45: bool = False,
    hands_are_pca: bool = True,
    scale_key: str | None = None,
    translation_key: str | None = None,
    pelvis_to_origin: bool = False,
) -> SMPLXParams:
    """Build :class:`SMPLXParams` from a dict of stored arrays (pickle or JSON).

    Missing optional fields (jaw/eyes/expression/transl/global_orient) become zeros; ``betas``
    and ``body_pose`` are required. The frame count is the largest leading dimension found.

    Args:
        data: Mapping of field name to array-like.
        path: Source file, for errors.
        gender: Model gender the dataset's fits were made with.
        flat_hand_mean: The dataset's ``flat_hand_mean``.
        hand_pca_45: Interpret a 45-value hand as PCA-45 (else axis-angle).
        hands_are_pca: If False, hands are always axis-angle and must have 45 values.
        scale_key: Key of a post-model uniform scale (THuman ``scale``), if the format has one.
        translation_key: Key of a post-model translation (THuman ``translation``), if any.
        pelvis_to_origin: The dataset stores bodies with the pelvis at the origin.

    Raises:
        InputError: A required field is missing or a field is malformed (file and field named).
    """
    if not isinstance(data, Mapping):
        raise InputError(
            f"expected a mapping of SMPL-X parameters, got {type(data).__name__}", path=path
        )
    if gender not in GENDERS:
        raise InputError(f"unknown gender {gender!r}; use one of {GENDERS}", field="gender")
    for required in ("betas", "body_pose"):
        if required not in data:
            raise InputError("required SMPL-X field is missing", path=path, field=required)
    raw = {
        key: as_param_array(value, field=key, path=path)
        for key, value in data.items()
        if key in {"betas", "expression", "transl", *POSE_FIELDS, *HAND_FIELDS}
    }
    frames = max(array.shape[0] for array in raw.values())

    def get(key: str, width: int) -> np.ndarray:
        if key not in raw:
            return np.zeros((frames, width), np.float32)
        return as_param_array(raw[key], field=key, path=path, width=width, frames=frames)

    betas = as_param_array(raw["betas"], field="betas", path=path, frames=frames)
    expression = (
        as_param_array(raw["expression"], field="expression", path=path, frames=frames)
        if "expression" in raw
        else np.zeros((frames, 10), np.float32)
    )
    hand_width = raw["left_hand_pose"].shape[1] if "left_hand_pose" in raw else 45
    if "right_hand_pose" in raw and raw["right_hand_pose"].shape[1] != hand_width:
        raise InputError(
            f"right hand has {raw['right_hand_pose'].shape[1]} values but the left hand "
            f"{hand_width}",
            path=path,
            field="right_hand_pose",
        )
    if hands_are_pca:
        components = hand_components_from_width(
            hand_width, pca_45=hand_pca_45, field="left_hand_pose", path=path
        )
    else:
        if hand_width != 45:
            raise InputError(
                f"axis-angle hands need 45 values, got {hand_width}",
                path=path,
                field="left_hand_pose",
            )
        components = None
    scale = np.ones(frames, np.float32)
    if scale_key is not None and scale_key in data:
        scale = as_param_array(data[scale_key], field=scale_key, path=path, width=1, frames=frames)
        scale = scale[:, 0]
        if np.any(scale <= 0):
            raise InputError("scale must be positive", path=path, field=scale_key)
    world_translation = np.zeros((frames, 3), np.float32)
    if translation_key is not None and translation_key in data:
        world_translation = as_param_array(
            data[translation_key], field=translation_key, path=path, width=3, frames=frames
        )
    return SMPLXParams(
        betas=betas,
        global_orient=get("global_orient", 3),
        body_pose=get("body_pose", 63),
        left_hand_pose=get("left_hand_pose", hand_width),
        right_hand_pose=get("right_hand_pose", hand_width),
        jaw_pose=get("jaw_pose", 3),
        leye_pose=get("leye_pose", 3),
        reye_pose=get("reye_pose", 3),
        expression=expression,
        transl=get("transl", 3),
        scale=scale,
        world_rotation=np.zeros((frames, 3), np.float32),
        world_translation=world_translation,
        pelvis_to_origin=pelvis_to_origin,
        gender=gender,
        hand_pca_components=components,
        flat_hand_mean=flat_hand_mean,
    )


def stack_frames(params: list[SMPLXParams]) -> SMPLXParams:
    """Concatenate single- or multi-frame parameters along the frame axis.

    Raises:
        InputError: The model settings or array widths differ between the parts.
    """
    if not params:
        raise InputError("no SMPL-X frames to stack")
    first = params[0]
    for other in params[1:]:
        if other.settings() != first.settings():
            raise InputError(
                f"SMPL-X settings differ between frames: {first.settings()} vs {other.settings()}"
            )
    arrays = {}
    for key in first.arrays():
        parts = [getattr(p, key) for p in params]
        widths = {part.shape[1:] for part in parts}
        if len(widths) != 1:
            raise InputError(f"SMPL-X field widths differ between frames: {widths}", field=key)
        arrays[key] = np.concatenate(parts, axis=0)
    return dataclasses.replace(first, **arrays)
