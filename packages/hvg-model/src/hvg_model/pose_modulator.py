"""Pose modulator (HVG §3.2): per-signal conv guiders fused by cross-attention, added after conv_in.

Each guider is four 3×3 convolutions with SiLU (ControlNet's condition-encoder style) taking a
pose map at image resolution down to latent resolution. With two guiders (the bone map: depth
and normal) the normal features attend to the depth features (cross-attention over all latent
pixels of the same image, pre-norm, residual), then a zero-initialised convolution maps them to
the UNet's first block width so that the network starts as SVD. The paper's Table 3 ablations
are other guider sets. The guiders are the parts of the network's ``hvg_bonemap.PoseSpec``
layout, which comes from the registered pose signal (``pose_signals`` registry): no table here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from hvg_bonemap.pose_spec import PoseSpec

# With several guiders, this one's features are the fusion queries (the others are keys/values).
FUSION_QUERY = "normal"


def pose_signal_channels(pose_signal: str | Mapping[str, Any] | PoseSpec) -> int:
    """Channels of the ``pose_maps`` tensor a pose signal (or spec) expects (bonemap: 1 + 3)."""
    from hvg_model.pose_input import pose_spec_for

    return pose_spec_for(pose_signal).channels


class ConditionGuider(nn.Module):
    """Four 3×3 convolutions with SiLU: ``(N, C_in, H, W)`` → ``(N, C_g, H/s, W/s)``.

    Args:
        in_channels: Pose-map channels.
        channels: Output channels of the four convolutions; the last is C_g.
        strides: Strides of the four convolutions; their product s is the VAE factor (8).
    """

    def __init__(
        self, in_channels: int, channels: tuple[int, ...], strides: tuple[int, ...]
    ) -> None:
        super().__init__()
        if len(channels) != len(strides):
            raise ValueError(f"channels {channels} and strides {strides} differ in length")
        layers: list[nn.Module] = []
        previous = in_channels
        for width, stride in zip(channels, strides):
            layers += [nn.Conv2d(previous, width, 3, stride=stride, padding=1), nn.SiLU()]
            previous = width
        self.layers = nn.Sequential(*layers)
        self.downscale = math.prod(strides)

    def forward(self, pose_map: torch.Tensor) -> torch.Tensor:
        """Encode ``(N, C_in, H, W)`` maps to ``(N, C_g, H/s, W/s)`` features."""
        return self.layers(pose_map)


class GuiderFusion(nn.Module):
    """Cross-attention: the first guider's tokens attend to the other guiders' tokens.

    Args:
        dim: Guider feature width C_g.
        num_heads: Attention heads.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm_query = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Fuse ``(N, C, h, w)`` query features with ``(N, C, h', w')`` context features."""
        n, dim, height, width = query.shape
        q_tokens = query.flatten(2).transpose(1, 2)  # (N, hw, C)
        c_tokens = context.flatten(2).transpose(1, 2)
        head_dim = dim // self.num_heads

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(n, -1, self.num_heads, head_dim).transpose(1, 2)

        normed_context = self.norm_context(c_tokens)
        out = F.scaled_dot_product_attention(
            heads(self.to_q(self.norm_query(q_tokens))),
            heads(self.to_k(normed_context)),
            heads(self.to_v(normed_context)),
        )
        out = self.to_out(out.transpose(1, 2).reshape(n, -1, dim))
        return query + out.transpose(1, 2).reshape(n, dim, height, width)


def guider_strides_for(vae_factor: int, convolutions: int = 4) -> tuple[int, ...]:
    """Strides of the guider convolutions whose product is the VAE's downscale factor.

    One stride-2 convolution per halving, then stride 1: ``8 -> (2, 2, 2, 1)`` (SVD-xt, the
    paper's guider), ``4 -> (2, 2, 1, 1)``.

    Raises:
        InputError: A factor that is not a power of two, or needs more halvings than there are
            convolutions.
    """
    from hvg_core.errors import InputError

    halvings = int(vae_factor).bit_length() - 1
    if vae_factor < 1 or 2**halvings != vae_factor or halvings > convolutions:
        raise InputError(
            f"the VAE factor must be a power of two up to {2**convolutions}, got {vae_factor}",
            field="vae.block_out_channels",
        )
    return (2,) * halvings + (1,) * (convolutions - halvings)


class PoseModulator(nn.Module):
    """Encode pose maps into a residual for the output of ``conv_in``.

    Args:
        pose_signal: A registered pose-signal name (``"bonemap"`` is the paper's full model; the
            others are Table 3's ablations), or a ``PoseSpec`` (or its dict): one guider per
            part of its layout.
        out_channels: Width of the UNet's first block (320 for SVD-xt).
        guider_channels: Output channels of the four guider convolutions.
        guider_strides: Their strides (product = VAE downscale factor).
        fusion_heads: Heads of the fusion cross-attention (used with two or more guiders).
    """

    def __init__(
        self,
        pose_signal: str | Mapping[str, Any] | PoseSpec,
        out_channels: int,
        guider_channels: tuple[int, ...] = (16, 32, 64, 128),
        guider_strides: tuple[int, ...] = (2, 2, 2, 1),
        fusion_heads: int = 4,
    ) -> None:
        super().__init__()
        from hvg_model.pose_input import pose_spec_for

        self.spec = pose_spec_for(pose_signal)
        self.pose_signal = self.spec.signal
        self.in_channels = self.spec.channels
        self.splits = [channels for _, channels in self.spec.layout]
        self.guiders = nn.ModuleDict(
            {
                name: ConditionGuider(channels, tuple(guider_channels), tuple(guider_strides))
                for name, channels in self.spec.layout
            }
        )
        width = guider_channels[-1]
        self.fusion = GuiderFusion(width, fusion_heads) if len(self.splits) > 1 else None
        self.conv_out = nn.Conv2d(width, out_channels, 3, padding=1)
        # Zero output: at initialisation the pose residual is exactly 0.
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.downscale = math.prod(guider_strides)

    def forward(self, pose_maps: torch.Tensor) -> torch.Tensor:
        """Encode ``(N, C_pose, H, W)`` maps into ``(N, out_channels, H/s, W/s)``."""
        if pose_maps.ndim != 4 or pose_maps.shape[1] != self.in_channels:
            raise ValueError(
                f"pose_maps must have shape (N, {self.in_channels}, H, W) for pose_signal "
                f"{self.pose_signal!r}, got {tuple(pose_maps.shape)}"
            )
        parts = torch.split(pose_maps, self.splits, dim=1)
        features = {name: guider(part) for (name, guider), part in zip(self.guiders.items(), parts)}
        query_name = FUSION_QUERY if FUSION_QUERY in features else next(iter(features))
        fused = features.pop(query_name)
        if self.fusion is not None:
            context = torch.cat([f.flatten(2) for f in features.values()], dim=2)
            fused = self.fusion(fused, context.unsqueeze(-1))
        return self.conv_out(fused)
