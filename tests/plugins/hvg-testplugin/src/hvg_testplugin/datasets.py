"""A dataset adapter: ``testplugin-blocks``, people made of coloured boxes along the bones.

It needs no files: each subject is the built-in body in a slightly different arm pose, wrapped
in one vertex-coloured box per bone. It shows the smallest complete adapter a third-party
package can write against ``hvg_data.DatasetAdapter``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hvg_bonemap import PARENTS
from hvg_data import DatasetAdapter, Sample
from hvg_data.body import posed_joints
from hvg_data.meshes import TexturedMesh
from hvg_data.smplx_params import params_from_mapping

# Corners of a unit cube and its 12 triangles (outward winding).
_CORNERS = np.array(
    [[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float32
)
_TRIANGLES = np.array(
    [
        [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
        [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],
    ],
    dtype=np.int32,
)  # fmt: skip


def bone_boxes(joints: np.ndarray, half_width: float = 0.06) -> TexturedMesh:
    """One axis-aligned box around each body bone of ``joints`` (55, 3), vertex-coloured."""
    vertices, faces, colors = [], [], []
    for child in range(1, 22):  # body joints only: hands and face would add nothing here
        parent = PARENTS[child]
        low = np.minimum(joints[child], joints[parent]) - half_width
        high = np.maximum(joints[child], joints[parent]) + half_width
        centre, half = (low + high) / 2, (high - low) / 2
        faces.append(_TRIANGLES + 8 * len(vertices))
        vertices.append(centre + _CORNERS * half)
        hue = child / 22
        colors.append(np.tile((255 * np.array([hue, 1 - hue, 0.5])).astype(np.uint8), (8, 1)))
    return TexturedMesh(
        vertices=np.concatenate(vertices).astype(np.float32),
        faces=np.concatenate(faces).astype(np.int32),
        vertex_colors=np.concatenate(colors),
    )


class BlocksAdapter(DatasetAdapter):
    """People made of coloured boxes; ``count`` subjects (option), no files needed."""

    name = "testplugin-blocks"
    description = "People made of coloured boxes along the bones (test plugin)."
    kind = "scan"
    needs_root = False
    fits_need_smplx_model = False

    def __init__(self, root: Any = None, *, count: int = 2, **options: Any) -> None:
        super().__init__(root, count=count, **options)
        self.count = int(count)

    def config(self) -> dict[str, Any]:
        """Settings that change the rendered data."""
        return {"dataset": self.name, "root": None, "options": {"count": self.count}}

    def subjects(self) -> list[str]:
        """``"block-0"``, ``"block-1"``, ..."""
        return [f"block-{index}" for index in range(self.count)]

    def load(self, subject: str) -> Sample:
        """The subject's box person and its SMPL-X fit (arms lowered by a subject angle)."""
        if subject not in self.subjects():
            raise self._unknown_subject(subject)
        index = int(subject.split("-")[1])
        body_pose = np.zeros((1, 63), np.float32)
        body_pose[0, 3 * 15 + 2] = -1.0 + 0.2 * index  # left shoulder (joint 16) about z
        body_pose[0, 3 * 16 + 2] = 1.0 - 0.2 * index  # right shoulder (joint 17)
        params = params_from_mapping(
            {"betas": np.zeros((1, 10)), "body_pose": body_pose},
            path=None,
            gender="neutral",
            flat_hand_mean=True,
            hands_are_pca=False,
        )
        joints = posed_joints(params, body_model="builtin")[0]
        return Sample(
            dataset=self.name, subject=subject, smplx=params, meshes=(bone_boxes(joints),)
        )
