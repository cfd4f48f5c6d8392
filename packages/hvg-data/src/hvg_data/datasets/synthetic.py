"""``synthetic``: procedural clothed people, so the whole pipeline runs with no download.

Each subject is drawn from ``(seed, subject index)``: an outfit (skin tone, top with short or long
sleeves in a plain/striped/checked pattern, trousers/shorts/skirt, shoes, hair), a body height
(the fit's ``scale``, 0.9-1.08) and a pose, or with ``frames > 1`` a short walk while turning
(stage-2 sequences). Meshes are built around the joints of ``hvg_bonemap``'s built-in body, so
render with ``body_model="builtin"`` (the default) for exact agreement between scan and bone maps.

Options:
    count: Number of subjects (default 16).
    frames: Frames per subject (default 1: static scans).
    motion: ``"pose"`` or ``"walk"`` (default ``"walk"`` when ``frames > 1``).
    seed: Base seed (default 0).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hvg_core.errors import InputError

from hvg_data.adapter import DatasetAdapter, Sample
from hvg_data.body import posed_joints
from hvg_data.synthetic_person import person_mesh, random_outfit, random_pose_params


class SyntheticAdapter(DatasetAdapter):
    """Procedural textured people with SMPL-X parameters (static or walking)."""

    name = "synthetic"
    description = "Procedural clothed people around the built-in body; no download needed."
    kind = "scan"
    needs_root = False
    fits_need_smplx_model = False

    def __init__(
        self,
        root: Any = None,
        *,
        count: int = 16,
        frames: int = 1,
        motion: str | None = None,
        seed: int = 0,
        **options: Any,
    ) -> None:
        motion = motion or ("walk" if frames > 1 else "pose")
        super().__init__(root, count=count, frames=frames, motion=motion, seed=seed, **options)
        if count < 1 or frames < 1:
            raise InputError("count and frames must be >= 1", field="count")
        if motion not in ("pose", "walk"):
            raise InputError("motion must be 'pose' or 'walk'", field="motion")
        self.count, self.frames, self.motion, self.seed = count, frames, motion, seed

    def config(self) -> dict[str, Any]:
        """Settings (no root: the data is generated)."""
        return {
            "dataset": self.name,
            "root": None,
            "options": {k: self.options[k] for k in sorted(self.options)},
        }

    def subjects(self) -> list[str]:
        """``"00000"``, ``"00001"``, ..."""
        return [f"{index:05d}" for index in range(self.count)]

    def load(self, subject: str) -> Sample:
        """Generate one subject (deterministic in ``(seed, subject)``)."""
        if subject not in self.subjects():
            raise self._unknown_subject(subject)
        index = int(subject)
        rng = np.random.default_rng([self.seed, index])
        outfit = random_outfit(rng)
        params = random_pose_params(rng, self.frames, motion=self.motion)
        height_scale = float(rng.uniform(0.9, 1.08))
        params = dataclasses.replace(params, scale=np.full(self.frames, height_scale, np.float32))
        joints = posed_joints(params, body_model="builtin")
        meshes = tuple(
            person_mesh(
                joints[frame], outfit, seed=self.seed * 100003 + index, part_scale=height_scale
            )
            for frame in range(self.frames)
        )
        return Sample(
            dataset=self.name,
            subject=subject,
            smplx=params,
            meshes=meshes,
            metadata={"outfit": dataclasses.asdict(outfit)},
        )
