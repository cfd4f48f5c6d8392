"""HVGReferenceNet: SVD's encoder half (conv_in, embeddings, down and mid blocks) as ReferenceNet.

AnimateAnyone's ReferenceNet is a UNet copy whose spatial self-attention inputs are handed to the
denoising UNet (research/model.md §3.1). HVG feeds them only to the down and mid blocks (paper
§3.2), so only that half is kept (≈ 0.67 B parameters at SVD-xt size instead of 1.5 B), down to
the mid block's attention: the mid block's last res-block would get no gradient.

The reference image is *clean*: in SVD's EDM parameterisation timestep 0 means σ = 1, so the
ReferenceNet runs at σ_min (c_noise = 0.25·ln 0.002 ≈ −1.55), not at timestep 0 (§0.5).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_3d_blocks import UNetMidBlockSpatioTemporal, get_down_block
from hvg_core.errors import InputError
from torch import nn

from hvg_model.denoising_net import adopt_transformers, call_context, hvg_transformers
from hvg_model.edm import edm_scalings
from hvg_model.transformer import CallContext

# Keys of an SVD UNet state dict that a ReferenceNet keeps.
REFERENCE_PREFIXES = (
    "conv_in.",
    "time_embedding.",
    "add_embedding.",
    "down_blocks.",
    "mid_block.",
)


class HVGReferenceNet(ModelMixin, ConfigMixin):
    """ReferenceNet writing the spatial attention inputs of SVD's down and mid transformers.

    Arguments are those of ``UNetSpatioTemporalConditionModel`` (an SVD UNet's config can be
    passed as is; the decoder-only ones are accepted and ignored) plus:

    Args:
        latent_scaling_factor: VAE scaling factor (0.18215) applied to the noise-free latent.
        reference_sigma: σ at which the clean reference is presented (SVD's σ_min).
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        down_block_types: tuple[str, ...] = (
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "DownBlockSpatioTemporal",
        ),
        up_block_types: tuple[str, ...] = (),
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 768,
        layers_per_block: int | tuple[int, ...] = 2,
        cross_attention_dim: int | tuple[int, ...] = 1024,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        num_attention_heads: int | tuple[int, ...] = (5, 10, 20, 20),
        num_frames: int = 25,
        latent_scaling_factor: float = 0.18215,
        reference_sigma: float = 0.002,
    ) -> None:
        super().__init__()
        count = len(down_block_types)

        def per_block(value: Any) -> list[Any]:
            return list(value) if isinstance(value, list | tuple) else [value] * count

        heads = per_block(num_attention_heads)
        cross = per_block(cross_attention_dim)
        layers = per_block(layers_per_block)
        transformer_layers = per_block(transformer_layers_per_block)
        time_embed_dim = block_out_channels[0] * 4

        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(block_out_channels[0], True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_embed_dim)
        self.add_time_proj = Timesteps(addition_time_embed_dim, True, downscale_freq_shift=0)
        self.add_embedding = TimestepEmbedding(
            projection_class_embeddings_input_dim, time_embed_dim
        )

        self.down_blocks = nn.ModuleList()
        output_channel = block_out_channels[0]
        for index, block_type in enumerate(down_block_types):
            input_channel = output_channel
            output_channel = block_out_channels[index]
            self.down_blocks.append(
                get_down_block(
                    block_type,
                    num_layers=layers[index],
                    transformer_layers_per_block=transformer_layers[index],
                    in_channels=input_channel,
                    out_channels=output_channel,
                    temb_channels=time_embed_dim,
                    add_downsample=index != count - 1,
                    resnet_eps=1e-5,
                    cross_attention_dim=cross[index],
                    num_attention_heads=heads[index],
                    resnet_act_fn="silu",
                )
            )
        self.mid_block = UNetMidBlockSpatioTemporal(
            block_out_channels[-1],
            temb_channels=time_embed_dim,
            transformer_layers_per_block=transformer_layers[-1],
            cross_attention_dim=cross[-1],
            num_attention_heads=heads[-1],
        )
        # The res-block after the mid attention feeds nothing that is read.
        self.mid_block.resnets = nn.ModuleList(
            self.mid_block.resnets[: len(self.mid_block.attentions)]
        )
        adopt_transformers(self, view_attention=False, reference_prefixes=())
        self.gradient_checkpointing = False

    @classmethod
    def tiny(cls, **overrides: Any) -> HVGReferenceNet:
        """A tiny random ReferenceNet matching ``HVGDenoisingNet.tiny()``."""
        from hvg_model.configs import tiny_unet_config

        return cls(**_unet_arguments({**tiny_unet_config(), **overrides}))

    @classmethod
    def from_config_of(cls, unet: nn.Module, **options: Any) -> HVGReferenceNet:
        """A randomly initialised ReferenceNet shaped like ``unet`` (no weights copied)."""
        config = {key: value for key, value in unet.config.items() if not key.startswith("_")}
        return cls(**_unet_arguments(config), **options)

    @classmethod
    def from_svd_unet(cls, unet: nn.Module, **options: Any) -> HVGReferenceNet:
        """Initialise from an SVD UNet (or an HVGDenoisingNet): copies its encoder half.

        Raises:
            ValueError: A key the ReferenceNet needs is missing from the UNet.
        """
        config = _unet_arguments(
            {key: value for key, value in unet.config.items() if not key.startswith("_")}
        )
        # Every parameter comes from the UNet: build on the meta device, then assign copies.
        with torch.device("meta"):
            net = cls(**config, **options)
        wanted = net.state_dict().keys()
        source = {key: value.clone() for key, value in unet.state_dict().items() if key in wanted}
        missing = [key for key in wanted if key not in source]
        if missing:
            raise InputError(f"the UNet lacks ReferenceNet weights: {missing[:5]}", field="unet")
        net.load_state_dict(source, strict=True, assign=True)
        meta = [
            name
            for name, tensor in [*net.named_parameters(), *net.named_buffers()]
            if tensor.is_meta
        ]
        if meta:
            raise RuntimeError(f"ReferenceNet tensors left on the meta device: {meta[:5]}")
        return net

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that influence the bank (the last transformer stops after its attn1 input).

        Pass these to the optimiser (or freeze the others) so that DDP sees no unused parameter.
        """
        last = list(hvg_transformers(self))[-1]
        final = len(last.transformer_blocks) - 1
        prefix = last.layer_name + "."
        # In the last transformer, the bank's final entry only depends on these.
        read = ["norm.", "proj_in.", f"transformer_blocks.{final}.norm1."]
        for layer in range(final):
            read += [f"transformer_blocks.{layer}.", f"temporal_transformer_blocks.{layer}."]
            read += ["time_pos_embed.", "time_mixer.", f"view_attention_blocks.{layer}."]
        return [
            parameter
            for name, parameter in self.named_parameters()
            if not name.startswith(prefix) or name[len(prefix) :].startswith(tuple(read))
        ]

    def layer_keys(self) -> list[str]:
        """Bank keys this network writes (equal to the DenoisingNet's reference readers)."""
        return [key for transformer in hvg_transformers(self) for key in transformer.layer_keys()]

    # The embedding, conv_in, down and mid part of diffusers' UNetSpatioTemporalConditionModel
    # .forward (diffusers.models.unets.unet_spatio_temporal_condition), copied and cut after the
    # last layer that writes the bank.
    def forward(
        self,
        latents: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Compute the reference bank of a clean image.

        Args:
            latents: ``(B, 4, h, w)`` VAE latent of the clean reference image, *unscaled*
                (``vae.encode(2x − 1).latent_dist.mode()``, as SVD's conditioning latent).
            encoder_hidden_states: ``(B, 1, D)`` CLIP image embedding of the reference.
            added_time_ids: ``(B, 3)`` SVD's fps − 1, motion bucket, noise augmentation.

        Returns:
            ``{layer key: (B, h_l·w_l, C_l)}``: the spatial self-attention inputs of the down and
            mid transformers, keyed like ``HVGDenoisingNet.reference_layer_keys()``.
        """
        if latents.ndim != 4:
            raise ValueError(f"latents must have shape (B, 4, h, w), got {tuple(latents.shape)}")
        batch = latents.shape[0]
        if encoder_hidden_states.shape[0] != batch or added_time_ids.shape[0] != batch:
            raise ValueError(
                f"encoder_hidden_states {tuple(encoder_hidden_states.shape)} and added_time_ids "
                f"{tuple(added_time_ids.shape)} must have B = {batch} rows"
            )
        # On the CPU even under a meta-device context (the memory plan runs this on meta).
        sigma = torch.tensor(self.config.reference_sigma, dtype=torch.float64, device="cpu")
        scalings = edm_scalings(sigma)
        c_in = float(scalings.c_in)
        dtype = self.conv_in.weight.dtype
        latents = latents.to(dtype)
        sample = torch.cat([c_in * self.config.latent_scaling_factor * latents, latents], dim=1)

        c_noise = torch.full((batch,), float(scalings.c_noise), device=latents.device)
        emb = self.time_embedding(self.time_proj(c_noise).to(dtype))
        time_embeds = self.add_time_proj(added_time_ids.flatten()).reshape(batch, -1)
        emb = emb + self.add_embedding(time_embeds.to(dtype))
        encoder_hidden_states = encoder_hidden_states.to(dtype)
        # One "frame" flagged image-only: the temporal branches are blended out (α = 1).
        indicator = torch.ones(batch, 1, dtype=dtype, device=latents.device)

        hidden = self.conv_in(sample)
        context = CallContext(written={}, stop_after=self.layer_keys()[-1])
        with call_context(self, context):
            for block in self.down_blocks:
                kwargs: dict[str, Any] = {"image_only_indicator": indicator}
                if getattr(block, "has_cross_attention", False):
                    kwargs["encoder_hidden_states"] = encoder_hidden_states
                hidden, _ = block(hidden_states=hidden, temb=emb, **kwargs)
            mid = self.mid_block
            hidden = self._run_resnet(mid.resnets[0], hidden, emb, indicator)
            for index, attention in enumerate(mid.attentions):
                hidden = attention(
                    hidden,
                    encoder_hidden_states=encoder_hidden_states,
                    image_only_indicator=indicator,
                    return_dict=False,
                )[0]
                if index + 1 < len(mid.resnets):
                    hidden = self._run_resnet(mid.resnets[index + 1], hidden, emb, indicator)
        assert context.written is not None
        return context.written

    def _run_resnet(
        self, resnet: nn.Module, hidden: torch.Tensor, emb: torch.Tensor, indicator: torch.Tensor
    ) -> torch.Tensor:
        if torch.is_grad_enabled() and self.mid_block.gradient_checkpointing:
            return self.mid_block._gradient_checkpointing_func(resnet, hidden, emb, indicator)
        return resnet(hidden, emb, image_only_indicator=indicator)


def _unet_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of a UNet/HVG config that ``HVGReferenceNet`` takes."""
    names = set(inspect.signature(HVGReferenceNet.__init__).parameters) - {"self"}
    return {key: value for key, value in config.items() if key in names}
