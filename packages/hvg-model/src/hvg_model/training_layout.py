"""What a saved pipeline records about its training (``training_layout.json``), as a config.

The record is a :class:`hvg_core.config.Config` dataclass, so it is written and read like every
other HVG config: a ``version`` key, every key checked (an unknown one names itself), values
coerced to the field's type. Its ``views_frames`` set the sampler's window budget
(``HVGPipeline.window_budget``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hvg_core.config import Config
from hvg_core.errors import InputError

#: File name of the record inside a pipeline directory.
TRAINING_LAYOUT_FILE = "training_layout.json"


@dataclass
class TrainingLayout(Config):
    """How the network of a pipeline was trained.

    Attributes:
        stage: 1 (multi-view images) or 2 (multi-view multi-frame windows).
        views_frames: The ``[views, frames]`` layouts of a training sample.
        image_size: Square image side in pixels.
        drop_reference_image: CFG dropout of the reference image (``None``: not recorded).
        drop_reference_net: CFG dropout of the ReferenceNet features (``None``: not recorded).
        drop_pose: CFG dropout of the pose maps (``None``: not recorded).
    """

    CONFIG_VERSION: ClassVar[int] = 1

    stage: int = 1
    views_frames: list[list[int]] = field(default_factory=list)
    image_size: int | None = None
    drop_reference_image: float | None = None
    drop_reference_net: float | None = None
    drop_pose: float | None = None

    def check(self, *, source: str = "<dict>") -> TrainingLayout:
        """Return ``self`` when ``stage`` and ``views_frames`` make sense.

        Raises:
            InputError: A stage other than 1 or 2, or a layout that is not a pair of positive
                integers (naming the field).
        """
        if self.stage not in (1, 2):
            raise InputError(f"stage must be 1 or 2, got {self.stage}", path=source, field="stage")
        if not all(len(pair) == 2 and min(pair) > 0 for pair in self.views_frames):
            raise InputError(
                f"expected a list of [views, frames] positive integer pairs, got "
                f"{self.views_frames}",
                path=source,
                field="views_frames",
            )
        return self

    @classmethod
    def from_train_config(cls, config: Any) -> TrainingLayout:
        """The record of a run's ``hvg_model.training.config.TrainConfig``."""
        data, objective = config.data, config.objective
        layouts = [list(p) for p in data.views_frames] or [[int(data.views), int(data.frames)]]
        return cls(
            stage=int(data.stage),
            views_frames=[[int(v), int(t)] for v, t in layouts],
            image_size=int(data.image_size),
            drop_reference_image=float(objective.drop_reference_image),
            drop_reference_net=float(objective.drop_reference_net),
            drop_pose=float(objective.drop_pose),
        ).check()

    @classmethod
    def read(cls, root: str | os.PathLike[str]) -> TrainingLayout | None:
        """``root/training_layout.json``, checked, or ``None`` when there is none.

        Raises:
            InputError: Not JSON, a newer version, an unknown key or a malformed value.
        """
        path = Path(root) / TRAINING_LAYOUT_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read the training layout: {error}", path=path) from error
        return cls.from_dict(data, source=str(path)).check(source=str(path))

    def write(self, root: str | os.PathLike[str]) -> Path:
        """Write ``root/training_layout.json`` atomically (a temporary file, then a rename)."""
        target = Path(root) / TRAINING_LAYOUT_FILE
        staging = target.with_name(f".{TRAINING_LAYOUT_FILE}.tmp")
        staging.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        os.replace(staging, target)
        return target


__all__ = ["TRAINING_LAYOUT_FILE", "TrainingLayout"]
