"""Shared pieces of the fixture generators: a posed person with a mesh in a dataset's frame."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hvg_data.body import model_space_joints_builtin
from hvg_data.meshes import TexturedMesh
from hvg_data.smplx_params import SMPLXParams
from hvg_data.synthetic_person import person_mesh, random_outfit, random_pose_params


@dataclass(frozen=True)
class FixturePerson:
    """A fixture subject.

    Attributes:
        params: The fit as the dataset stores it (model-space parameters).
        model_joints: (T, 55, 3) joints of the built-in body before any world transform.
        meshes: One mesh per frame, already in the dataset's world frame.
    """

    params: SMPLXParams
    model_joints: np.ndarray
    meshes: tuple[TexturedMesh, ...]


def fixture_person(
    seed: int,
    *,
    frames: int = 1,
    hand_pca: int | None = 12,
    world: tuple[float, np.ndarray, np.ndarray] = (1.0, np.eye(3), np.zeros(3)),
    zero_root: bool = False,
    zero_transl: bool = False,
    lon: int = 12,
    lat: int = 8,
) -> FixturePerson:
    """Pose a person and build its meshes in a world frame.

    Args:
        seed: Determines pose and outfit.
        frames: Frames (a walk when > 1).
        hand_pca: Hand PCA dimension stored in the fit (zeros), or ``None`` for 45-D axis-angle.
        world: ``(scale, rotation (3, 3), translation (3,))`` from model to dataset world.
        zero_root: Zero ``global_orient`` and ``transl`` (canonical-frame datasets).
        zero_transl: Zero ``transl`` only (formats without an in-model translation).
        lon: Mesh resolution (longitude segments per part).
        lat: Mesh resolution (latitude segments per part).
    """
    rng = np.random.default_rng(seed)
    outfit = random_outfit(rng)
    params = random_pose_params(
        rng, frames, motion="walk" if frames > 1 else "pose", hand_pca_components=hand_pca
    )
    if zero_root:
        params = replace(
            params,
            global_orient=np.zeros_like(params.global_orient),
            transl=np.zeros_like(params.transl),
        )
    elif zero_transl:
        params = replace(params, transl=np.zeros_like(params.transl))
    joints = model_space_joints_builtin(params)
    scale, rotation, translation = world
    world_joints = scale * joints @ np.asarray(rotation).T + np.asarray(translation)
    meshes = tuple(
        person_mesh(world_joints[f], outfit, seed=seed, lon=lon, lat=lat, part_scale=scale)
        for f in range(frames)
    )
    return FixturePerson(params, joints, meshes)


def batched_fit(params: SMPLXParams, frame: int = 0) -> dict[str, np.ndarray]:
    """The model-space fields of one frame with a leading batch dimension of 1 (THuman pickles)."""
    keys = (
        "betas",
        "global_orient",
        "body_pose",
        "left_hand_pose",
        "right_hand_pose",
        "jaw_pose",
        "leye_pose",
        "reye_pose",
        "expression",
    )
    return {key: getattr(params, key)[frame : frame + 1].astype(np.float32) for key in keys}


def write_pickle(path: Path, obj: object) -> None:
    """Write a pickle (protocol 2, like the original Python-2-era releases)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)


def vertex_colored(mesh: TexturedMesh) -> TexturedMesh:
    """Bake a UV-textured mesh into per-vertex colours (2K2K-style PLY)."""
    from hvg_data.renderers.base import bilinear_lookup

    assert mesh.uv is not None and mesh.face_uv is not None and mesh.texture is not None
    uv_of_vertex = np.zeros((len(mesh.vertices), 2), np.float32)
    uv_of_vertex[mesh.faces.ravel()] = mesh.uv[mesh.face_uv.ravel()]
    colors = bilinear_lookup(mesh.texture, uv_of_vertex)
    return TexturedMesh(mesh.vertices, mesh.faces, vertex_colors=colors)
