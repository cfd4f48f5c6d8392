"""The real SMPL-X model through the ``smplx`` package (extra ``[smplx]``; needs model files).

The model file is read without unpickling: the arrays SMPL-X needs are copied with
``allow_pickle=False`` into a private ``.npz`` that ``smplx`` then loads, so an untrusted file
cannot run code (``smplx`` itself would ``np.load(..., allow_pickle=True)``).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from hvg_bonemap._validation import BoneMapInputError
from hvg_bonemap.bodies.params import POSE_KEYS, scale_and_translation

MODEL_KEYS_REQUIRED = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table",
                       "hands_componentsl", "hands_componentsr", "hands_meanl", "hands_meanr",
                       "lmk_faces_idx", "lmk_bary_coords")  # fmt: skip
MODEL_KEYS_OPTIONAL = ("dynamic_lmk_faces_idx", "dynamic_lmk_bary_coords")


class MissingModelFileError(FileNotFoundError):
    """The SMPL-X model file (or the ``smplx`` package) is not available."""


def _model_file(model_path: str | os.PathLike[str], gender: str) -> Path:
    path = Path(model_path)
    if path.is_dir():
        for candidate in (
            path / f"SMPLX_{gender.upper()}.npz",
            path / "smplx" / f"SMPLX_{gender.upper()}.npz",
        ):
            if candidate.is_file():
                return candidate
        raise MissingModelFileError(
            f"SMPL-X model file SMPLX_{gender.upper()}.npz not found in {path} (or {path / 'smplx'}). "
            "Download the SMPL-X model (https://smpl-x.is.tue.mpg.de, licence required) and put "
            f"SMPLX_{gender.upper()}.npz there, or use the built-in 'anthropometric' body which needs no file."
        )
    if not path.is_file():
        raise MissingModelFileError(
            f"SMPL-X model file {path} does not exist. Download the SMPL-X model "
            "(https://smpl-x.is.tue.mpg.de, licence required) and pass the path of SMPLX_<GENDER>.npz "
            "or of its folder, or use the built-in 'anthropometric' body which needs no file."
        )
    if path.suffix != ".npz":
        raise BoneMapInputError(
            f"{path}: expected the .npz SMPL-X model file (the .pkl variant is not supported)"
        )
    return path


def sanitized_model_copy(path: Path, directory: Path) -> Path:
    """Copies the arrays SMPL-X needs from ``path`` into ``directory`` without unpickling anything."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in (*MODEL_KEYS_REQUIRED, *MODEL_KEYS_OPTIONAL):
                if key not in data.files:
                    if key in MODEL_KEYS_REQUIRED:
                        raise BoneMapInputError(
                            f"{path}: field '{key}' missing; not an SMPL-X model file"
                        )
                    continue
                try:
                    arrays[key] = np.asarray(data[key])
                except ValueError as error:
                    raise BoneMapInputError(
                        f"{path}: field '{key}' is a pickled object, refusing to unpickle it"
                    ) from error
    except (OSError, ValueError) as error:
        if isinstance(error, BoneMapInputError):
            raise
        raise BoneMapInputError(f"{path}: cannot read as an .npz SMPL-X model ({error})") from error
    joints = arrays["J_regressor"].shape[0] if arrays["J_regressor"].ndim == 2 else -1
    if joints != 55 or arrays["kintree_table"].shape != (2, 55):
        raise BoneMapInputError(
            f"{path}: field 'J_regressor'/'kintree_table': expected 55 joints (SMPL-X)"
        )
    out = directory / path.name
    np.savez(out, **arrays)
    return out


class SMPLXBody(torch.nn.Module):
    """Body model ``forward(**smplx_params) -> joints (..., 55, 3)`` using the real SMPL-X model.

    Hand poses: 45 values are axis-angle, fewer are PCA coefficients (THuman: 12), unless
    ``use_pca`` forces one reading (THuman 2.1 stores 45 PCA coefficients: ``use_pca=True``).
    THuman-style ``scale`` and ``translation`` give ``joints * scale + translation``.

    Args:
        model_path: ``SMPLX_<GENDER>.npz`` or a folder holding it (or its ``smplx/`` sub-folder).
        gender: ``"neutral"``, ``"male"`` or ``"female"``.
        use_pca: Hand pose reading, ``None`` = by length.
        flat_hand_mean: SMPL-X's ``flat_hand_mean`` (False adds the mean hand pose).
        num_betas: Shape coefficients used.
        num_expression_coeffs: Expression coefficients used.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        gender: str = "neutral",
        *,
        use_pca: bool | None = None,
        flat_hand_mean: bool = False,
        num_betas: int = 10,
        num_expression_coeffs: int = 10,
    ) -> None:
        super().__init__()
        try:
            import smplx  # noqa: F401
        except ImportError as error:
            raise MissingModelFileError(
                "the real SMPL-X body needs the 'smplx' package: pip install 'hvg-bonemap[smplx]'"
            ) from error
        self.source = _model_file(model_path, gender)
        self.gender = gender
        self.use_pca = use_pca
        self.flat_hand_mean = flat_hand_mean
        self.num_betas = num_betas
        self.num_expression_coeffs = num_expression_coeffs
        self._tmp = tempfile.TemporaryDirectory(prefix="hvg_smplx_")
        self._clean = sanitized_model_copy(self.source, Path(self._tmp.name))
        self._models = torch.nn.ModuleDict()

    def _model(self, hand_dim: int) -> torch.nn.Module:
        import smplx

        pca = self.use_pca if self.use_pca is not None else hand_dim != 45
        key = f"pca{hand_dim}" if pca else "axis_angle"
        if key not in self._models:
            if pca and not 1 <= hand_dim <= 45:
                raise BoneMapInputError(
                    f"left_hand_pose: expected 1..45 PCA coefficients, got {hand_dim}"
                )
            self._models[key] = smplx.create(
                str(self._clean),
                model_type="smplx",
                gender=self.gender,
                use_pca=pca,
                num_pca_comps=hand_dim if pca else 6,
                flat_hand_mean=self.flat_hand_mean,
                num_betas=self.num_betas,
                num_expression_coeffs=self.num_expression_coeffs,
                ext="npz",
            )
        return self._models[key]

    @property
    def faces(self) -> torch.Tensor:
        """``(F, 3)`` int64 triangle indices of the mesh."""
        return torch.as_tensor(np.asarray(self._model(45).faces, dtype=np.int64))

    def forward(
        self, params: Mapping[str, object] | None = None, /, **kwargs: object
    ) -> torch.Tensor:
        """Posed joints ``(..., 55, 3)`` in metres."""
        return self.run(params, **kwargs)[0]

    def vertices(
        self, params: Mapping[str, object] | None = None, /, **kwargs: object
    ) -> torch.Tensor:
        """Posed mesh vertices ``(..., V, 3)`` in metres."""
        return self.run(params, **kwargs)[1]

    def run(
        self, params: Mapping[str, object] | None = None, /, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Joints ``(..., 55, 3)`` and vertices ``(..., V, 3)`` from SMPL-X parameters."""
        merged: dict[str, object] = dict(params or {})
        merged.update(kwargs)
        tensors: dict[str, torch.Tensor] = {}
        for key in (*POSE_KEYS, "transl", "betas", "expression"):
            if merged.get(key) is not None:
                value = torch.as_tensor(merged[key], dtype=torch.float32)
                if not bool(torch.isfinite(value).all()):
                    raise BoneMapInputError(f"{key}: contains NaN or infinite values")
                tensors[key] = value
        hand_dims = {
            tensors[k].shape[-1] for k in ("left_hand_pose", "right_hand_pose") if k in tensors
        }
        if len(hand_dims) > 1:
            raise BoneMapInputError(
                f"left_hand_pose/right_hand_pose: lengths differ {sorted(hand_dims)}"
            )
        hand_dim = hand_dims.pop() if hand_dims else 45
        model = self._model(hand_dim)
        sizes = {"global_orient": 3, "body_pose": 63, "jaw_pose": 3, "leye_pose": 3, "reye_pose": 3,
                 "left_hand_pose": hand_dim, "right_hand_pose": hand_dim, "transl": 3,
                 "betas": self.num_betas, "expression": self.num_expression_coeffs}  # fmt: skip
        batch: tuple[int, ...] = ()
        for key, value in tensors.items():
            size = sizes[key]
            if key in ("betas", "expression") and value.shape[-1] < size:
                value = torch.nn.functional.pad(value, (0, size - value.shape[-1]))
                tensors[key] = value
            elif key in ("betas", "expression"):
                value = value[..., :size]
                tensors[key] = value
            if value.ndim == 0 or value.shape[-1] != size:
                raise BoneMapInputError(
                    f"{key}: expected shape (..., {size}), got {tuple(value.shape)}"
                )
            batch = torch.broadcast_shapes(batch, value.shape[:-1])
        n = math.prod(batch)
        args = {
            k: v.expand(*batch, v.shape[-1]).reshape(n, v.shape[-1]) for k, v in tensors.items()
        }
        for key, size in sizes.items():
            if key not in args:
                args[key] = torch.zeros(n, size)
        with torch.no_grad():
            out = model(**args, return_verts=True)
        joints = out.joints[:, :55].reshape(*batch, 55, 3)
        vertices = out.vertices.reshape(*batch, -1, 3)
        scale, translation = scale_and_translation(merged, joints.dtype, joints.device)
        if scale is not None:
            joints, vertices = joints * scale, vertices * scale
        if translation is not None:
            joints, vertices = joints + translation, vertices + translation
        return joints, vertices
