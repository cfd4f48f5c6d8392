"""Pose modulator (HVG §3.2): per-signal conv guiders fused by cross-attention, added after conv_in.

Each guider is four 3×3 convolutions with SiLU (ControlNet's condition-encoder style) taking a
pose map at image resolution down to latent resolution. With two guiders (the bone map: depth
and normal) the normal features attend to the depth features (cross-attention over all latent
pixels of the same image, pre-norm, residual), then a zero-initialised convolution maps them to
the UNet's first block width so that the network starts as SVD. The paper's Table 3 ablations
are other guider sets, chosen by name with ``pose_signal``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Guider inputs per pose signal, in the channel order of the ``pose_maps`` tensor. Names and
# channel order are those of hvg_bonemap's registered pose signals (``hvg_register_pose_signals``):
# the bone map is the depth code (1 channel) followed by the normal code (3 channels).
POSE_SIGNALS: dict[str, tuple[tuple[str, int], ...]] = {
    "bonemap": (("depth", 1), ("normal", 3)),
    "depth": (("depth", 1),),
    "normal": (("normal", 3),),
    "skeleton2d": (("skeleton2d", 3),),
    "body_normal": (("body_normal", 3),),
}

# With several guiders, this one's features are the fusion queries (the others are keys/values).
FUSION_QUERY = "normal"


def pose_signal_channels(pose_signal: str) -> int:
    """Channels of the ``pose_maps`` tensor a pose signal expects (bonemap: 3 normal + 1 depth)."""
    if pose_signal not in POSE_SIGNALS:
        raise ValueError(
            f"unknown pose_signal {pose_signal!r}; choose one of {sorted(POSE_SIGNALS)}"
        )
    return sum(channels for _, channels in POSE_SIGNALS[pose_signal])


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


class PoseModulator(nn.Module):
    """Encode pose maps into a residual for the output of ``conv_in``.

    Args:
        pose_signal: A key of :data:`POSE_SIGNALS` (``"bonemap"`` is the paper's full model; the
            others are Table 3's ablations).
        out_channels: Width of the UNet's first block (320 for SVD-xt).
        guider_channels: Output channels of the four guider convolutions.
        guider_strides: Their strides (product = VAE downscale factor).
        fusion_heads: Heads of the fusion cross-attention (used with two or more guiders).
    """

    def __init__(
        self,
        pose_signal: str,
        out_channels: int,
        guider_channels: tuple[int, ...] = (16, 32, 64, 128),
        guider_strides: tuple[int, ...] = (2, 2, 2, 1),
        fusion_heads: int = 4,
    ) -> None:
        super().__init__()
        self.pose_signal = pose_signal
        self.in_channels = pose_signal_channels(pose_signal)
        self.splits = [channels for _, channels in POSE_SIGNALS[pose_signal]]
        self.guiders = nn.ModuleDict(
            {
                name: ConditionGuider(channels, tuple(guider_channels), tuple(guider_strides))
                for name, channels in POSE_SIGNALS[pose_signal]
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
