"""Training samples read from ``hvg-data`` shards through ``hvg_data.training.MultiViewDataset``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hvg_model.training.config import TrainConfig
from hvg_model.training.data import TrainSample


def run_pose_spec(config: TrainConfig) -> Any:
    """The ``hvg_bonemap.PoseSpec`` a run trains: ``model.variant``'s, drawn like its shards.

    The signal and channel layout come from the registered pose signal ``model.variant``; the
    geometry (bones, radii, view alignment) from the shards' manifest when the run reads shards
    that exist, so the network is saved with the spec its data was made with.
    """
    from hvg_bonemap.pose_spec import GEOMETRY_FIELDS

    from hvg_model.pose_input import pose_spec_for

    spec = pose_spec_for(config.model.variant)
    root = Path(config.data.path) if config.data.path else None
    if config.data.dataset == "procedural" or root is None:
        return spec
    if not (root / "manifest.json").is_file():
        return spec
    from hvg_data.shards import Manifest, manifest_pose_spec

    stored = manifest_pose_spec(Manifest.load(root), root)
    return spec.replace(**{name: getattr(stored, name) for name in GEOMETRY_FIELDS})


class ShardSource:
    """Stage 1 (views of a subject) or stage 2 (views × frame windows) samples from shards.

    One ``MultiViewDataset`` is opened per ``(views, frames)`` layout. Which views and frames a
    sample uses comes from the trainer's row seed (passed as the dataset's seed), so it is the
    same for any number of workers and after a resume. Samples that lack the views or frames of
    some layout are left out of every layout, so that an index means the same subject whatever
    the step's layout. Pose input is made by ``hvg_bonemap.pose_codec`` under ``pose_spec``
    inside the dataset (bone-map signals decoded from the stored maps, ``skeleton2d`` and other
    drawn signals from the stored joints and cameras, ``body_normal`` from the SMPL-X mesh
    rebuilt from the stored parameters with the model files in ``smplx_model``).

    Args:
        root: Shard directory (with ``manifest.json``).
        image_size: Side the images and bone maps are resized to.
        layouts: The ``[views, frames]`` layouts steps may use.
        view_sampling: ``hvg_data`` view choice (``"contiguous"``, ``"evenly"``, ``"random"``).
        pose_spec: The network's ``hvg_bonemap.PoseSpec`` (default: the shards' bone map).
        smplx_model: SMPL-X model folder, for signals drawn from the body mesh.

    Raises:
        InputError: The shards were drawn with other bones or windows than ``pose_spec``; a
            mesh signal without ``smplx_model`` or its model file (``field="data.smplx_model"``)
            or over shards not rendered with the SMPL-X body (``manifest.json``,
            ``field="config.body_model"``).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        image_size: int,
        layouts: list[list[int]],
        view_sampling: str = "random",
        pose_spec: Any = None,
        smplx_model: str | Path | None = None,
    ) -> None:
        from hvg_core.errors import InputError
        from hvg_data.training import MultiViewDataset

        from hvg_model.pose_input import signal_class

        self.root = Path(root)
        kind = None if pose_spec is None or pose_spec.from_bone_maps else pose_spec.signal
        try:
            self.datasets = {
                (int(v), int(t)): MultiViewDataset(
                    self.root,
                    views=int(v),
                    frames=int(t),
                    size=image_size,
                    view_sampling=view_sampling,
                    pose_spec=pose_spec,
                    signal_class=None if kind is None else signal_class(kind),
                    smplx_model=smplx_model,
                )
                for v, t in layouts
            }
        except InputError as error:
            if error.field != "smplx_model":
                raise
            # The trainer's name of the setting (config field and --smplx-model).
            raise type(error)(error.message, path=error.path, field="data.smplx_model") from error
        first = next(iter(self.datasets.values()))
        if pose_spec is None:
            for dataset in self.datasets.values():
                dataset.pose_spec = first.stored_spec
        self.pose_spec = first.pose_spec
        shared = set.intersection(
            *({(shard, group) for shard, group, _, _ in ds.items} for ds in self.datasets.values())
        )
        self.keys = [
            (shard, group) for shard, group, _, _ in first.items if (shard, group) in shared
        ]
        self.positions = {
            layout: {(shard, group): i for i, (shard, group, _, _) in enumerate(ds.items)}
            for layout, ds in self.datasets.items()
        }

    def __len__(self) -> int:
        return len(self.keys)

    def sample(self, index: int, *, views: int, frames: int, seed: int) -> TrainSample:
        """Read sample ``index`` with the views and frames ``seed`` chooses."""
        dataset = self.datasets[(views, frames)]
        dataset.seed, dataset.epoch = seed, 0
        item: dict[str, Any] = dataset[self.positions[(views, frames)][self.keys[index]]]
        return TrainSample(
            rgb=item["images"],
            reference=item["reference_image"],
            pose=item["pose"],
            rotation=item["R"],
        )
