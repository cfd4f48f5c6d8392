"""Parameter counts of the full-size (SVD-xt) HVG networks, computed on the meta device.

Nothing is allocated: the networks are built under ``torch.device("meta")``, so counting the
1.5 B-parameter UNet takes a second and no memory. ``hvg-model params`` prints the table that
the README quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts of an HVG configuration (all fields are numbers of scalars).

    Attributes:
        svd_unet: The SVD UNet's own parameters inside the DenoisingNet.
        view_attention: All view-attention blocks (LayerNorm, q/k/v, zero output).
        pose_guiders: The guiders' convolutions (normal + depth for the bone map).
        pose_fusion: Guider-fusion cross-attention plus the zero output convolution.
        camera_embedding: The zero-initialised camera linear.
        reference_gates: One scalar gate per reference-reading layer.
        reference_net: The ReferenceNet (conv_in, embeddings, down blocks, mid block).
    """

    svd_unet: int
    view_attention: int
    pose_guiders: int
    pose_fusion: int
    camera_embedding: int
    reference_gates: int
    reference_net: int

    @property
    def denoising_net(self) -> int:
        """Every parameter of the DenoisingNet."""
        return (
            self.svd_unet
            + self.view_attention
            + self.pose_guiders
            + self.pose_fusion
            + self.camera_embedding
            + self.reference_gates
        )

    @property
    def trainable_total(self) -> int:
        """DenoisingNet + ReferenceNet (CLIP and VAE stay frozen)."""
        return self.denoising_net + self.reference_net


def count_parameters(**hvg_options: Any) -> ParameterCounts:
    """Count the parameters of the full-size networks (SVD-xt UNet + HVG options).

    Args:
        **hvg_options: Overrides of ``hvg_model.configs.svd_xt_unet_config`` and HVG options.
    """
    from hvg_model.configs import svd_xt_unet_config
    from hvg_model.denoising_net import HVGDenoisingNet
    from hvg_model.reference_net import HVGReferenceNet

    config = svd_xt_unet_config(**hvg_options)
    with torch.device("meta"):
        net = HVGDenoisingNet(**config)
        reference = HVGReferenceNet.from_config_of(net)

    groups = dict.fromkeys(
        (
            "svd_unet",
            "view_attention",
            "pose_guiders",
            "pose_fusion",
            "camera_embedding",
            "reference_gates",
        ),
        0,
    )
    for name, parameter in net.named_parameters():
        if ".view_attention_blocks." in name:
            key = "view_attention"
        elif name.startswith("pose_modulator.guiders."):
            key = "pose_guiders"
        elif name.startswith("pose_modulator."):
            key = "pose_fusion"
        elif name.startswith("camera_embedding."):
            key = "camera_embedding"
        elif name.endswith(".reference_gates"):
            key = "reference_gates"
        else:
            key = "svd_unet"
        groups[key] += parameter.numel()
    return ParameterCounts(**groups, reference_net=sum(p.numel() for p in reference.parameters()))


def format_counts(counts: ParameterCounts) -> str:
    """A Markdown table of the counts (millions, and exact numbers)."""
    rows = [
        ("SVD-xt UNet (inside the DenoisingNet)", counts.svd_unet),
        ("view attention (all blocks)", counts.view_attention),
        ("pose guiders (convolutions)", counts.pose_guiders),
        ("pose fusion attention + zero output conv", counts.pose_fusion),
        ("camera embedding", counts.camera_embedding),
        ("reference gates", counts.reference_gates),
        ("**DenoisingNet total**", counts.denoising_net),
        ("ReferenceNet (conv_in, embeddings, down, mid)", counts.reference_net),
        ("**trainable total**", counts.trainable_total),
    ]
    lines = ["| module | parameters | millions |", "|---|---:|---:|"]
    lines += [f"| {name} | {value:,} | {value / 1e6:.2f} M |" for name, value in rows]
    return "\n".join(lines)
