"""Training samples read from ``hvg-data`` shards through ``hvg_data.training.MultiViewDataset``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hvg_model.training.data import TrainSample


class ShardSource:
    """Stage 1 (views of a subject) or stage 2 (views × frame windows) samples from shards.

    One ``MultiViewDataset`` is opened per ``(views, frames)`` layout. Which views and frames a
    sample uses comes from the trainer's row seed (passed as the dataset's seed), so it is the
    same for any number of workers and after a resume. Samples that lack the views or frames of
    some layout are left out of every layout, so that an index means the same subject whatever
    the step's layout.

    Args:
        root: Shard directory (with ``manifest.json``).
        image_size: Side the images and bone maps are resized to.
        layouts: The ``[views, frames]`` layouts steps may use.
        view_sampling: ``hvg_data`` view choice (``"contiguous"``, ``"evenly"``, ``"random"``).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        image_size: int,
        layouts: list[list[int]],
        view_sampling: str = "random",
    ) -> None:
        from hvg_data.training import MultiViewDataset

        self.root = Path(root)
        self.datasets = {
            (int(v), int(t)): MultiViewDataset(
                self.root, views=int(v), frames=int(t), size=image_size, view_sampling=view_sampling
            )
            for v, t in layouts
        }
        shared = set.intersection(
            *({(shard, group) for shard, group, _, _ in ds.items} for ds in self.datasets.values())
        )
        first = next(iter(self.datasets.values()))
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
        rotation, translation = item["R"], item["t"]
        centres = -(rotation.transpose(1, 2) @ translation[..., None])[..., 0]  # (V, 3)
        pelvis = item["joints"][:, 0]  # (T, 3)
        return TrainSample(
            rgb=item["images"],
            reference=item["reference_image"],
            normal=item["normal"],
            depth=item["depth"],
            rotation=rotation,
            pelvis_distance=(pelvis[None] - centres[:, None]).norm(dim=-1),
        )
