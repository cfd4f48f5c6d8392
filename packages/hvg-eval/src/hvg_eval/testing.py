"""Helpers for testing metrics — hvg-eval's own and third-party plugins'.

``check_metric_contract(MyMetric)`` proves a metric honours the contract of
:mod:`hvg_eval.metrics.base` the same way the built-ins do::

    from hvg_eval.testing import check_metric_contract

    def test_my_metric_contract():
        check_metric_contract(MyMetric)

The fixture writers build small inputs in the real on-disk layouts (frame folders, MP4/GIF,
HDF5 shards) so that command-line tests need no data set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def random_videos(
    seed: int,
    shape: tuple[int, int, int, int, int] = (2, 2, 3, 24, 24),
    *,
    noise: float = 0.1,
) -> tuple[Any, Any]:
    """A reproducible pair of float video batches ``(B, V, T, 3, H, W)`` in [0, 1].

    ``fake`` is ``real`` plus clipped Gaussian noise of standard deviation ``noise``; both are
    quantised to multiples of 1/255 so file round trips are exact.
    """
    import torch

    batch, views, frames, height, width = shape
    generator = torch.Generator().manual_seed(seed)
    real = torch.rand(batch, views, frames, 3, height, width, generator=generator)
    fake = (real + noise * torch.randn(real.shape, generator=generator)).clamp(0, 1)
    return torch.round(real * 255) / 255, torch.round(fake * 255) / 255


def check_metric_contract(
    metric_factory: Callable[[], Any],
    *,
    shape: tuple[int, int, int, int, int] = (2, 2, 3, 24, 24),
    tolerance: float = 1e-6,
) -> None:
    """Assert that a metric follows the hvg-eval metric contract.

    Checks: ``name`` (non-empty str) and ``higher_is_better`` (bool) attributes; ``update`` on
    ``(B, V, T, 3, H, W)`` float [0, 1] tensors; ``compute`` returns a finite float or a mapping
    with a float ``"value"``; determinism (same inputs → same value); streaming (two half
    updates equal one full update within ``tolerance``, relative); ``reset`` forgets everything;
    identical real and fake give the metric's "perfect" side (not worse than different inputs).

    Args:
        metric_factory: Zero-argument callable returning a fresh metric (the class itself, or
            a ``functools.partial`` that injects a test network).
        shape: ``(B, V, T, H, W)`` of the test videos (``B ≥ 2`` so it can be split).
        tolerance: Relative tolerance of the streaming check.

    Raises:
        AssertionError: Naming the clause that failed.
    """
    metric = metric_factory()
    name = getattr(metric, "name", None)
    assert isinstance(name, str) and name, "metric.name must be a non-empty string"
    assert isinstance(getattr(metric, "higher_is_better", None), bool), (
        f"{name}: higher_is_better must be a bool"
    )
    for method in ("update", "compute", "reset"):
        assert callable(getattr(metric, method, None)), f"{name}: missing {method}()"
    real, fake = random_videos(0, shape)

    def value_of(result: Any) -> float:
        if isinstance(result, dict):
            assert "value" in result, f"{name}: compute() mapping needs a 'value' entry"
            result = result["value"]
        number = float(result)
        assert math.isfinite(number), f"{name}: compute() returned {number}"
        return number

    metric.update(real, fake)
    full = value_of(metric.compute())
    again = metric_factory()
    again.update(real, fake)
    assert value_of(again.compute()) == full, f"{name}: not deterministic"

    half = shape[0] // 2
    metric.reset()
    metric.update(real[:half], fake[:half])
    metric.update(real[half:], fake[half:])
    streamed = value_of(metric.compute())
    assert abs(streamed - full) <= tolerance * max(1.0, abs(full)), (
        f"{name}: two half updates give {streamed}, one full update {full}"
    )

    metric.reset()
    other_real, other_fake = random_videos(1, shape)
    metric.update(other_real, other_fake)
    after_reset = value_of(metric.compute())
    fresh = metric_factory()
    fresh.update(other_real, other_fake)
    assert after_reset == value_of(fresh.compute()), f"{name}: reset() kept state"

    if getattr(metric, "paired", True):
        perfect = metric_factory()
        perfect.update(real, real)
        same = value_of(perfect.compute())
        if metric.higher_is_better:
            assert same >= full, f"{name}: identical inputs score {same} < {full}"
        else:
            assert same <= full, f"{name}: identical inputs score {same} > {full}"


def write_frame_folders(
    root: str | os.PathLike[str], videos: np.ndarray, *, names: list[str] | None = None
) -> list[Path]:
    """Write uint8 videos ``(N, T, H, W, 3)`` as ``root/<name>/<frame:04d>.png``."""
    from PIL import Image

    folders = []
    for index, video in enumerate(videos):
        folder = Path(root) / (names[index] if names else f"video_{index:03d}")
        folder.mkdir(parents=True, exist_ok=True)
        for frame_index, frame in enumerate(video):
            Image.fromarray(frame).save(folder / f"{frame_index:04d}.png")
        folders.append(folder)
    return folders


def write_hdf5_shard(path: str | os.PathLike[str], samples: dict[str, np.ndarray]) -> Path:
    """Write a shard with one group per sample holding ``rgb`` uint8 ``(V, T, H, W, 3)``.

    A ``mask`` dataset and attributes are added too, as real shards carry extra keys.
    """
    import h5py

    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp{os.getpid()}")
    with h5py.File(temporary, "w") as handle:
        handle.attrs["schema_version"] = 1
        for name, rgb in samples.items():
            group = handle.create_group(name)
            group.create_dataset("rgb", data=rgb)
            group.create_dataset("mask", data=rgb[..., 0] > 0)
            group.attrs["dataset"] = "synthetic"
    os.replace(temporary, target)
    return target
