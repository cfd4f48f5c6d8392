"""LPIPS-VGG v0.1 per frame, paired.

Protocol ``disco`` feeds frames in [0, 1] unchanged, as DisCo does (``lpips_input=disco01``);
``clean``/``stylegan-v`` map them to [-1, 1] as LPIPS expects (``correct``). Native resolution,
no resize. Needs ``vgg16-397923af.pth`` (trunk) and the v0.1 ``vgg.pth`` heads.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from hvg_eval.metrics.base import PairedFrameMetric, to_uint8
from hvg_eval.protocols import Protocol
from hvg_eval.weights.loading import WeightRecord


def build_lpips_vgg(
    weights_dir: str | os.PathLike[str] | None = None,
    *,
    allow_unverified: bool = False,
    feature_network: str = "lpips-vgg",
) -> tuple[Any, list[WeightRecord]]:
    """LPIPS-VGG (or the registered ``feature_network``) with its weight files and records."""
    from hvg_eval.networks import load_feature_network

    return load_feature_network(
        feature_network, metric="LPIPS", weights_dir=weights_dir, allow_unverified=allow_unverified
    )


def lpips(
    network: Any, real: torch.Tensor, fake: torch.Tensor, *, lpips_input: str = "disco01"
) -> torch.Tensor:
    """LPIPS per frame pair.

    Args:
        network: An :class:`~hvg_eval.networks.lpips_vgg.LPIPSVGG` (or compatible) module.
        real: float ``(N, 3, H, W)`` in [0, 1] (or uint8).
        fake: Same shape.
        lpips_input: ``disco01`` (feed [0, 1]) or ``correct`` (feed [-1, 1]).

    Returns:
        float64 ``(N,)``.
    """
    real_f = to_uint8(real).float() / 255 if real.dtype != torch.uint8 else real.float() / 255
    fake_f = to_uint8(fake).float() / 255 if fake.dtype != torch.uint8 else fake.float() / 255
    if lpips_input == "correct":
        real_f, fake_f = 2 * real_f - 1, 2 * fake_f - 1
    with torch.inference_mode():
        return network(real_f, fake_f).to(torch.float64)


class LPIPS(PairedFrameMetric):
    """Streaming LPIPS (mean over frames).

    Args:
        protocol: Protocol name or object.
        weights_dir: Highest-priority weight directory.
        device: Torch device.
        allow_unverified_weights: Accept checksum mismatches.
        network: Ready network instead of the reference files (tests).
        feature_network: Registry name of another distance network (``feature_networks`` kind)
            with LPIPSVGG's call signature ``network(real, fake) -> (N,)``.
        batch_frames: Frame pairs per network call.
    """

    name = "lpips"
    higher_is_better = False
    requires_weights = ("lpips-vgg16", "lpips-lin-vgg")
    feature_network = "lpips-vgg"

    def __init__(
        self,
        protocol: str | Protocol = "disco",
        *,
        weights_dir: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        allow_unverified_weights: bool = False,
        network: Any = None,
        feature_network: str | None = None,
        batch_frames: int = 8,
    ) -> None:
        super().__init__(protocol, device=device, batch_frames=batch_frames)
        self.records: list[WeightRecord] = []
        self.network_name = (
            "custom" if network is not None else feature_network or type(self).feature_network
        )
        if network is None:
            network, self.records = build_lpips_vgg(
                weights_dir,
                allow_unverified=allow_unverified_weights,
                feature_network=self.network_name,
            )
        self.network = network.to(self.device) if hasattr(network, "to") else network

    def per_frame(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """LPIPS of ``(N, 3, H, W)`` frames in [0, 1]."""
        return lpips(self.network, real, fake, lpips_input=self.protocol.lpips_input)

    def conventions(self) -> dict[str, Any]:
        """LPIPS conventions, for result JSON."""
        return {
            **super().conventions(),
            "net": self.protocol.lpips_net,
            "feature_network": self.network_name,
            "version": "0.1",
            "input": self.protocol.lpips_input,
            "input_range": "[0, 1] fed unchanged (DisCo)"
            if self.protocol.lpips_input == "disco01"
            else "[-1, 1]",
            "resize": "none (native resolution)",
        }

    def weight_records(self) -> list[dict[str, Any]]:
        """Weight files used, with their SHA-256."""
        return [record.as_dict() for record in self.records]
