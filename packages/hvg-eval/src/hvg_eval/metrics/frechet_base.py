"""Shared base of the Fréchet metrics (FID, FID-VID, FVD): unpaired, streaming statistics."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import torch

from hvg_eval.metrics.base import as_video_batch, to_uint8
from hvg_eval.ops.frechet import StreamingGaussian, frechet_distance_from_stats
from hvg_eval.protocols import Protocol, get_protocol
from hvg_eval.weights.loading import WeightRecord


class FrechetMetric:
    """Fréchet distance between the feature distributions of real and fake inputs.

    Subclasses set ``feature_dim`` and ``feature_network`` (the registry name of their
    reference network, built by :func:`hvg_eval.networks.load_feature_network`) and implement
    :meth:`features` (uint8 videos → ``(n, D)`` features).

    Args:
        protocol: Protocol name or object.
        weights_dir: Highest-priority weight directory.
        device: Torch device.
        allow_unverified_weights: Accept checksum mismatches (recorded as unverified).
        network: A ready network to use instead of the reference file (tests, custom nets);
            results then record no weight file.
        feature_network: Registry name of another feature network (``feature_networks`` kind,
            e.g. a plug-in's) to use instead of the reference one; its ``feature_dim`` attribute
            gives the feature size.
        per_view: Also keep per-view statistics for a per-view breakdown (``O(V·D²)`` memory).
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = False
    requires_weights: ClassVar[tuple[str, ...]] = ()
    paired: ClassVar[bool] = False
    feature_dim: ClassVar[int] = 0
    feature_network: ClassVar[str] = ""
    #: Constructor keywords of the reference network (``feature_network``) only.
    network_options: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        protocol: str | Protocol = "disco",
        *,
        weights_dir: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        allow_unverified_weights: bool = False,
        network: Any = None,
        feature_network: str | None = None,
        per_view: bool = False,
    ) -> None:
        self.protocol = get_protocol(protocol)
        self.device = torch.device(device)
        self.weights_dir = weights_dir
        self.allow_unverified_weights = allow_unverified_weights
        self.per_view = per_view
        self.records: list[WeightRecord] = []
        self.network_name = feature_network or type(self).feature_network
        if network is None:
            network = self._build()
            if self.network_name != type(self).feature_network:
                self.feature_dim = int(getattr(network, "feature_dim", type(self).feature_dim))
        else:
            self.network_name = "custom"
            # A custom network may have its own feature size (test stubs, other backbones).
            self.feature_dim = int(getattr(network, "feature_dim", type(self).feature_dim))
        self.network = network.to(self.device) if hasattr(network, "to") else network
        self.reset()

    def _build(self) -> Any:
        """The feature network named ``self.network_name``, weights loaded (registry lookup)."""
        from hvg_eval.networks import load_feature_network

        options = self.network_options if self.network_name == type(self).feature_network else {}
        network, records = load_feature_network(
            self.network_name,
            metric=f"{self.name.upper()} (protocol {self.protocol.name})",
            weights_dir=self.weights_dir,
            allow_unverified=self.allow_unverified_weights,
            **options,
        )
        self.records.extend(records)
        return network

    def features(self, videos: torch.Tensor) -> np.ndarray:
        """Features of uint8 videos ``(N, T, 3, H, W)``; returns ``(n, D)``."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all statistics."""
        self.real = StreamingGaussian(self.feature_dim)
        self.fake = StreamingGaussian(self.feature_dim)
        self.view_stats: dict[int, tuple[StreamingGaussian, StreamingGaussian]] = {}
        self.resolution: tuple[int, int] | None = None
        self._side = "real"
        self.counts = {"real_videos": 0, "fake_videos": 0, "real_frames": 0, "fake_frames": 0}

    def _add(self, videos: Any, side: str, argument: str, view_offset: int) -> None:
        batch = to_uint8(as_video_batch(videos, argument))
        b, views, frames = batch.shape[:3]
        self.resolution = (int(batch.shape[-2]), int(batch.shape[-1]))
        self.counts[f"{side}_videos"] += b * views
        self.counts[f"{side}_frames"] += b * views * frames
        stats = self.real if side == "real" else self.fake
        self._side = side
        with torch.inference_mode():
            for view in range(views):
                features = self.features(batch[:, view])
                stats.update(features)
                if self.per_view:
                    pair = self.view_stats.setdefault(
                        view_offset + view,
                        (StreamingGaussian(self.feature_dim), StreamingGaussian(self.feature_dim)),
                    )
                    pair[0 if side == "real" else 1].update(features)

    def update(self, real: Any, fake: Any, *, view_offset: int = 0) -> None:
        """Add real and fake videos ``(B, V, T, 3, H, W)`` in [0, 1] (``B`` may differ).

        Either may be ``None`` to add only one side.
        """
        if real is not None:
            self._add(real, "real", "real", view_offset)
        if fake is not None:
            self._add(fake, "fake", "fake", view_offset)

    def compute(self) -> float:
        """The Fréchet distance between all real and all fake features."""
        return frechet_distance_from_stats(self.real.stats(), self.fake.stats())

    def breakdown(self) -> dict[str, dict[int, float]]:
        """Per-view distances (only with ``per_view=True`` and ≥ 2 samples per view)."""
        per_view = {}
        for view, (real, fake) in sorted(self.view_stats.items()):
            if real.count >= 2 and fake.count >= 2:
                per_view[view] = frechet_distance_from_stats(real.stats(), fake.stats())
        return {"per_view": per_view, "per_frame": {}}

    def conventions(self) -> dict[str, Any]:
        """Conventions and counts, for result JSON."""
        return {
            "protocol": self.protocol.name,
            "quantisation": self.protocol.quantisation,
            "resolution": list(self.resolution) if self.resolution else None,
            "feature_dim": self.feature_dim,
            "feature_network": self.network_name,
            "samples": {"real": self.real.count, "fake": self.fake.count},
            **self.counts,
            "frechet": "scipy.linalg.sqrtm(S1 S2), float64 statistics, ddof=1",
            "rank_deficient": min(self.real.count, self.fake.count) <= self.feature_dim,
        }

    def weight_records(self) -> list[dict[str, Any]]:
        """Weight files used, with their SHA-256."""
        return [record.as_dict() for record in self.records]
