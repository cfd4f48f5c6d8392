"""Training samples: the source interface, a deterministic data order, and batching.

A :class:`SampleSource` hands out one subject's training sample by integer index, with the
views and frames a step asks for. :class:`DataOrder` decides which index every (step, row) of
the global batch reads, from the seed alone: an epoch-wise permutation, so resuming at step
``s`` needs only ``s`` (the data position saved in checkpoints is ``samples_consumed``), and any
split of rows over workers reads the same samples.

Sources: :class:`~hvg_model.training.shard_source.ShardSource` reads ``hvg-data`` shards
through ``hvg_data``'s training datasets, and :class:`ProceduralSource` draws simple synthetic
multi-view people in memory (coloured ellipsoid bodies seen from an orbit, with matching
normal and depth maps) for tests and for machines without ``hvg-data`` shards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor


@dataclass
class TrainSample:
    """One subject's training sample.

    Attributes:
        rgb: ``(V, T, 3, H, W)`` float32 in [0, 1], target images.
        reference: ``(3, H, W)`` float32 in [0, 1], the reference image.
        pose: ``(V, T, C, H, W)`` float32 in [0, 1], the network's pose input under the
            run's ``hvg_bonemap.PoseSpec`` (made by ``hvg_bonemap.pose_codec``).
        rotation: ``(V, 3, 3)`` float32 world-to-camera rotations ``R`` (OpenCV).
    """

    rgb: Tensor
    reference: Tensor
    pose: Tensor
    rotation: Tensor


@dataclass
class TrainBatch:
    """A stacked micro-batch; fields as in :class:`TrainSample` with a leading ``B`` axis."""

    rgb: Tensor
    reference: Tensor
    pose: Tensor
    rotation: Tensor

    def to(self, device: torch.device | str) -> TrainBatch:
        """Move every tensor to ``device``."""
        return TrainBatch(*(getattr(self, name).to(device) for name in _FIELDS))


_FIELDS = ("rgb", "reference", "pose", "rotation")


def collate(samples: Sequence[TrainSample]) -> TrainBatch:
    """Stack samples with equal shapes into a :class:`TrainBatch`."""
    return TrainBatch(*(torch.stack([getattr(s, name) for s in samples]) for name in _FIELDS))


@runtime_checkable
class SampleSource(Protocol):
    """Anything that yields training samples by index."""

    def __len__(self) -> int:
        """Number of distinct samples (subjects or clips)."""
        ...

    def sample(self, index: int, *, views: int, frames: int, seed: int) -> TrainSample:
        """Sample ``index`` with ``views`` views and ``frames`` frames.

        ``seed`` chooses which views/frames of the subject are used, deterministically.
        """
        ...


@dataclass(frozen=True)
class DataOrder:
    """Which sample index every (step, row) reads: epoch-wise permutations of the seed.

    Attributes:
        num_samples: Size of the source.
        global_batch_size: Rows per step.
        seed: Run seed.
    """

    num_samples: int
    global_batch_size: int
    seed: int

    def index(self, step: int, row: int) -> int:
        """Source index of ``row`` in ``step``."""
        position = step * self.global_batch_size + row
        epoch, offset = divmod(position, self.num_samples)
        return int(self._permutation(epoch)[offset])

    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch, 0x5EED]).permutation(self.num_samples)

    def samples_consumed(self, step: int) -> int:
        """Samples read before ``step`` (the data position stored in checkpoints)."""
        return step * self.global_batch_size


def layout_for_step(layouts: Sequence[Sequence[int]], seed: int, step: int) -> tuple[int, int]:
    """The ``(views, frames)`` layout of ``step``: same on every worker, independent of resume."""
    if len(layouts) == 1:
        return int(layouts[0][0]), int(layouts[0][1])
    choice = np.random.default_rng([seed, step, 0x1A70]).integers(len(layouts))
    return int(layouts[choice][0]), int(layouts[choice][1])


def row_seed(seed: int, step: int, row: int) -> int:
    """Seed for the view/frame choice of one row."""
    return int(np.random.SeedSequence([seed, step, row, 0xDA7A]).generate_state(1)[0])


class StepRowDataset(torch.utils.data.Dataset):
    """Map-style view of a source keyed by ``(step, row, views, frames)`` (for DataLoader workers)."""

    def __init__(self, source: SampleSource, order: DataOrder, seed: int) -> None:
        self.source = source
        self.order = order
        self.seed = seed

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int, int, int]) -> TrainSample:
        step, row, views, frames = key
        return self.source.sample(
            self.order.index(step, row),
            views=views,
            frames=frames,
            seed=row_seed(self.seed, step, row),
        )


class MicroBatchKeys(torch.utils.data.Sampler):
    """Yields, per micro-step, the ``(step, row, views, frames)`` keys of this worker's rows."""

    def __init__(
        self,
        *,
        start_step: int,
        max_steps: int,
        global_batch_size: int,
        grad_accumulation: int,
        rank: int,
        world_size: int,
        layouts: Sequence[Sequence[int]],
        seed: int,
    ) -> None:
        self.start_step = start_step
        self.max_steps = max_steps
        self.global_batch_size = global_batch_size
        self.grad_accumulation = grad_accumulation
        self.rank = rank
        self.world_size = world_size
        self.layouts = layouts
        self.seed = seed

    def __len__(self) -> int:
        return (self.max_steps - self.start_step) * self.grad_accumulation

    def __iter__(self) -> Iterator[list[tuple[int, int, int, int]]]:
        for step in range(self.start_step, self.max_steps):
            views, frames = layout_for_step(self.layouts, self.seed, step)
            for micro in range(self.grad_accumulation):
                rows = worker_rows(
                    self.global_batch_size,
                    self.grad_accumulation,
                    self.world_size,
                    micro,
                    self.rank,
                )
                yield [(step, row, views, frames) for row in rows]


def worker_rows(
    global_batch: int, accumulation: int, world_size: int, micro: int, rank: int
) -> list[int]:
    """Global rows a worker processes in one micro-step (contiguous blocks, rank-major)."""
    per_micro = global_batch // accumulation
    per_worker = per_micro // world_size
    start = micro * per_micro + rank * per_worker
    return list(range(start, start + per_worker))


def _orbit_rotation(azimuth: Tensor, elevation: float = 0.1) -> Tensor:
    """World-to-camera rotations of cameras on a Y-up orbit looking at the origin, ``(V, 3, 3)``."""
    cos_a, sin_a = azimuth.cos(), azimuth.sin()
    zeros, ones = torch.zeros_like(azimuth), torch.ones_like(azimuth)
    yaw = torch.stack(
        [cos_a, zeros, -sin_a, zeros, ones, zeros, sin_a, zeros, cos_a], dim=-1
    ).reshape(-1, 3, 3)
    ce, se = math.cos(elevation), math.sin(elevation)
    pitch = torch.tensor([[1.0, 0.0, 0.0], [0.0, ce, -se], [0.0, se, ce]])
    # OpenCV camera: y down, so flip y and z of a Y-up, looking-down-+z frame.
    flip = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
    return flip @ pitch @ yaw


class ProceduralSource:
    """In-memory synthetic multi-view subjects: ellipsoid bodies with per-subject colours.

    Every subject is a torso, a head and two arms (ellipsoids) of its own colours; frames swing
    the arms, views orbit the subject. Images are ray-cast analytically, so the normal and depth
    maps match the RGB exactly. It is small, deterministic and has learnable structure (the
    denoiser can learn colour statistics and the pose → silhouette relation).

    Args:
        num_subjects: Number of distinct subjects.
        image_size: Square image side in pixels.
        total_views: Views on the orbit that ``sample`` chooses from.
        total_frames: Frames of the motion that ``sample`` chooses windows from.
        seed: Seed of the subjects' colours and proportions.
        pose_spec: The run's ``hvg_bonemap.PoseSpec`` (default: the bone map); only signals
            made from bone maps (``bonemap``, ``depth``, ``normal``): these bodies have no joints.

    Raises:
        InputError: A pose spec not made from bone maps (``field="model.variant"``).
    """

    def __init__(
        self,
        num_subjects: int = 4,
        image_size: int = 32,
        total_views: int = 16,
        total_frames: int = 16,
        seed: int = 0,
        pose_spec: Any = None,
    ) -> None:
        from hvg_bonemap.pose_spec import DEFAULT_POSE_SPEC
        from hvg_core.errors import InputError

        if num_subjects < 1:
            raise InputError("num_subjects must be at least 1", field="num_subjects")
        self.pose_spec = DEFAULT_POSE_SPEC if pose_spec is None else pose_spec
        if not self.pose_spec.from_bone_maps:
            raise InputError(
                f"the procedural source draws bone maps only, not {self.pose_spec.signal!r}; "
                "train it on shards (data.dataset=synthetic)",
                field="model.variant",
            )
        self.num_subjects = num_subjects
        self.image_size = image_size
        self.distance = 2.5
        self.total_views = total_views
        self.total_frames = total_frames
        generator = torch.Generator().manual_seed(seed)
        self.colours = torch.rand(num_subjects, 4, 3, generator=generator) * 0.8 + 0.1
        self.build = torch.rand(num_subjects, 2, generator=generator) * 0.3 + 0.85

    def __len__(self) -> int:
        return self.num_subjects

    def sample(self, index: int, *, views: int, frames: int, seed: int) -> TrainSample:
        """Render ``views`` consecutive orbit views × ``frames`` consecutive frames of ``index``."""
        if not 0 <= index < self.num_subjects:
            raise IndexError(f"index {index} out of range for {self.num_subjects} subjects")
        rng = np.random.default_rng(seed)
        first_view = int(rng.integers(self.total_views))
        first_frame = int(rng.integers(max(1, self.total_frames - frames + 1)))
        view_ids = (
            first_view + torch.arange(views) * max(1, self.total_views // views)
        ) % self.total_views
        azimuth = view_ids.float() * (2 * math.pi / self.total_views)
        phase = (first_frame + torch.arange(frames)).float() * (2 * math.pi / self.total_frames)
        rotation = _orbit_rotation(azimuth)
        from hvg_bonemap.pose_codec import decode

        rgb, normal, depth = self._render(index, rotation, phase)
        reference_rgb, _, _ = self._render(index, _orbit_rotation(torch.zeros(1)), phase[:1])
        # Cameras orbit the origin, where the torso (and so the pelvis) is centred.
        pose = decode(self.pose_spec, depth, normal, torch.full((views, frames), self.distance))
        return TrainSample(rgb=rgb, reference=reference_rgb[0, 0], pose=pose, rotation=rotation)

    def _ellipsoids(self, index: int, phase: Tensor) -> tuple[Tensor, Tensor]:
        """Centres ``(T, 4, 3)`` and radii ``(4, 3)`` of torso, head, left and right arm."""
        width, height = self.build[index].tolist()
        swing = 0.25 * phase.sin()
        centres = torch.zeros(phase.shape[0], 4, 3)
        centres[:, 1, 1] = 0.62 * height
        centres[:, 2, 0], centres[:, 2, 1], centres[:, 2, 2] = -0.32 * width, 0.05, swing
        centres[:, 3, 0], centres[:, 3, 1], centres[:, 3, 2] = 0.32 * width, 0.05, -swing
        radii = torch.tensor(
            [
                [0.2 * width, 0.42 * height, 0.14],
                [0.13, 0.15, 0.13],
                [0.07, 0.35, 0.07],
                [0.07, 0.35, 0.07],
            ]
        )
        return centres, radii

    def _render(self, index: int, rotation: Tensor, phase: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        size = self.image_size
        frames = phase.shape[0]
        # Pinhole camera at distance 2.5 m with a 40° field of view.
        distance, focal = self.distance, 0.5 * size / math.tan(math.radians(20))
        pixel = (torch.arange(size, dtype=torch.float32) + 0.5 - size / 2) / focal
        ys, xs = torch.meshgrid(pixel, pixel, indexing="ij")
        directions_cam = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1)
        directions_cam = directions_cam / directions_cam.norm(dim=-1, keepdim=True)
        # World-space camera centres and ray directions: x_world = Rᵀ (x_cam − t), t = (0, 0, d).
        rt = rotation.transpose(1, 2)  # (V, 3, 3)
        origin = -(rt @ torch.tensor([0.0, 0.0, distance]))  # (V, 3)
        directions = torch.einsum("vij,hwj->vhwi", rt, directions_cam)  # (V, H, W, 3)
        centres, radii = self._ellipsoids(index, phase)  # (T, 4, 3), (4, 3)
        # Ray-ellipsoid intersection in the ellipsoid's scaled frame, all parts at once.
        o = (
            origin[:, None, None, None, None, :] - centres[None, :, None, None, :, :]
        ) / radii  # V,T,1,1,4,3
        d = directions[:, None, :, :, None, :] / radii  # V,1,H,W,4,3
        a = d.square().sum(-1)
        b = 2 * (o * d).sum(-1)
        c = o.square().sum(-1) - 1
        disc = b.square() - 4 * a * c
        hit_t = (-b - disc.clamp_min(0).sqrt()) / (2 * a)
        hit_t = torch.where((disc > 0) & (hit_t > 0), hit_t, torch.full_like(hit_t, float("inf")))
        nearest_t, part = hit_t.min(dim=-1)  # (V, T, H, W)
        mask = nearest_t.isfinite()
        nearest_t = torch.where(mask, nearest_t, torch.zeros_like(nearest_t))
        point = origin[:, None, None, None, :] + nearest_t[..., None] * directions[:, None]
        centre = centres[torch.arange(frames)[None, :, None, None], part]  # (V, T, H, W, 3)
        normal_world = (point - centre) / radii[part].square()
        normal_world = normal_world / normal_world.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        normal_cam = torch.einsum("vij,vthwj->vthwi", rotation, normal_world)
        shade = (-normal_cam[..., 2]).clamp(0, 1) * 0.7 + 0.3
        colour = self.colours[index][part] * shade[..., None]
        background = torch.full_like(colour, 0.5)
        rgb = torch.where(mask[..., None], colour, background).permute(0, 1, 4, 2, 3)
        normal = torch.where(mask[..., None], normal_cam, torch.zeros_like(normal_cam))
        depth = (nearest_t * mask)[:, :, None]
        return rgb.contiguous(), normal.permute(0, 1, 4, 2, 3).contiguous(), depth.contiguous()
