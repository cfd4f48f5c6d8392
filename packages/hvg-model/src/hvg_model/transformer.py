"""SVD's spatio-temporal transformer with HVG's view attention and gated reference attention.

Order inside each layer (HVG §3.2 "each sampling layer"): spatial self-attention (+ the gated
reference attention in down and mid blocks), CLIP cross-attention and feed-forward; then view
attention across the V views at each pixel; then SVD's frame-index embedding, temporal attention
and AlphaBlender. The SVD weights keep their state-dict keys; the new parameters are
``view_attention_blocks.*`` and ``reference_gates``.

Per-call inputs that diffusers' down/mid/up blocks do not pass through (number of views, the
reference feature bank) reach each transformer through :class:`CallContext`, which
``HVGDenoisingNet`` and ``HVGReferenceNet`` set for the duration of one forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.transformers.transformer_temporal import (
    TransformerSpatioTemporalModel,
    TransformerTemporalModelOutput,
)
from torch import nn

from hvg_model.view_attention import ViewAttention


@dataclass
class CallContext:
    """Side inputs of one network call, shared by all HVG transformers.

    Attributes:
        num_views: V; the transformer batch is ordered (B, V, T).
        reference_features: Reference bank to read, ``{layer key: (B, S, C)}``, or None.
        written: When not None, each transformer stores its spatial attention input here
            (``{layer key: (B·V·T, HW, C)}``): the ReferenceNet's write mode.
        stop_after: Layer key after whose write the transformer returns at once (its output
            is not used: the ReferenceNet's last bank entry).
        read_keys: Filled with the keys of the bank entries that were read.
    """

    num_views: int = 1
    reference_features: dict[str, torch.Tensor] | None = None
    written: dict[str, torch.Tensor] | None = None
    stop_after: str | None = None
    read_keys: set[str] = field(default_factory=set)


def reference_attention(
    attn: nn.Module, norm_hidden_states: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    """Attention of the spatial tokens to the reference tokens, with the block's own attn1 weights.

    Every query row of sample b attends to the same reference tokens, so the queries of all
    V·T images of a sample form one sequence: the bank is never repeated in memory.

    Args:
        attn: The block's ``attn1`` (diffusers ``Attention``).
        norm_hidden_states: ``(B·V·T, HW, C)`` the input of attn1 (after norm1).
        reference: ``(B, S, C)`` ReferenceNet tokens of the same layer.

    Returns:
        ``(B·V·T, HW, C)``.
    """
    rows, pixels, dim = norm_hidden_states.shape
    batch = reference.shape[0]
    if rows % batch != 0 or reference.shape[-1] != dim:
        raise ValueError(
            f"reference features {tuple(reference.shape)} do not match hidden states "
            f"{tuple(norm_hidden_states.shape)}: expected (B, S, {dim}) with B dividing {rows}"
        )
    heads = attn.heads
    head_dim = dim // heads
    reference = reference.to(norm_hidden_states.dtype)
    query = attn.to_q(norm_hidden_states).reshape(batch, -1, heads, head_dim).transpose(1, 2)
    key = attn.to_k(reference).view(batch, -1, heads, head_dim).transpose(1, 2)
    value = attn.to_v(reference).view(batch, -1, heads, head_dim).transpose(1, 2)
    out = F.scaled_dot_product_attention(query, key, value)
    out = out.transpose(1, 2).reshape(rows, pixels, dim)
    out = attn.to_out[0](out)
    return attn.to_out[1](out)


def spatial_block_forward(
    block: BasicTransformerBlock,
    hidden_states: torch.Tensor,
    encoder_hidden_states: torch.Tensor | None,
    reference: torch.Tensor | None,
    gate: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``BasicTransformerBlock.forward`` for SVD's configuration, plus the reference read.

    Returns:
        The block output ``(N, HW, C)`` and the attn1 input ``(N, HW, C)`` (the bank entry a
        ReferenceNet writes).
    """
    norm_hidden_states = block.norm1(hidden_states)
    attn_output = block.attn1(norm_hidden_states)
    if reference is not None and gate is not None:
        attn_output = attn_output + torch.tanh(gate) * reference_attention(
            block.attn1, norm_hidden_states, reference
        )
    hidden_states = attn_output + hidden_states
    if block.attn2 is not None:
        hidden_states = (
            block.attn2(block.norm2(hidden_states), encoder_hidden_states=encoder_hidden_states)  # pyright: ignore[reportOptionalCall]
            + hidden_states
        )
    normed = block.norm3(hidden_states)  # pyright: ignore[reportOptionalCall]
    if block._chunk_size is not None:
        ff_output = torch.cat(
            [block.ff(chunk) for chunk in normed.split(block._chunk_size, dim=block._chunk_dim)],
            dim=block._chunk_dim,
        )
    else:
        ff_output = block.ff(normed)
    return ff_output + hidden_states, norm_hidden_states


class HVGTransformerSpatioTemporal(TransformerSpatioTemporalModel):
    """``TransformerSpatioTemporalModel`` + view attention + gated reference attention.

    Instances are made from diffusers' own transformers with :meth:`adopt`, so the SVD weights
    keep their keys and are never re-initialised.
    """

    view_attention_blocks: nn.ModuleList | None
    reference_gates: nn.Parameter | None
    layer_name: str
    call_context: CallContext | None

    @classmethod
    def adopt(
        cls,
        base: TransformerSpatioTemporalModel,
        *,
        layer_name: str,
        view_attention: bool,
        reference_attention: bool,
    ) -> HVGTransformerSpatioTemporal:
        """Turn a diffusers transformer into an HVG transformer in place and return it.

        Args:
            base: A ``TransformerSpatioTemporalModel`` of an SVD UNet.
            layer_name: Its module path in the UNet (``"down_blocks.0.attentions.0"``), the
                prefix of its reference-bank keys.
            view_attention: Add zero-initialised view attention after each spatial block.
            reference_attention: Add a reference-attention gate (initialised to 0) per layer.
        """
        for block in base.transformer_blocks:
            if (
                block.norm_type != "layer_norm"
                or block.pos_embed is not None
                or block.only_cross_attention
            ):
                raise ValueError(
                    f"{layer_name}: only SVD's spatial blocks (layer_norm, no positional "
                    "embedding, self- then cross-attention) are supported"
                )
        base.__class__ = cls
        hvg = base  # the same object, now with HVG's forward
        assert isinstance(hvg, cls)
        dim = hvg.inner_dim
        param = next(hvg.parameters())
        hvg.layer_name = layer_name
        hvg.call_context = None
        hvg.view_attention_blocks = (
            nn.ModuleList(
                ViewAttention(dim, hvg.num_attention_heads) for _ in hvg.transformer_blocks
            ).to(device=param.device, dtype=param.dtype)
            if view_attention
            else None
        )
        hvg.reference_gates = (
            nn.Parameter(
                torch.zeros(len(hvg.transformer_blocks), device=param.device, dtype=param.dtype)
            )
            if reference_attention
            else None
        )
        return hvg

    def layer_keys(self) -> list[str]:
        """Reference-bank keys of this transformer's layers."""
        return [
            f"{self.layer_name}.transformer_blocks.{i}" for i in range(len(self.transformer_blocks))
        ]

    def _checkpointed(self, function, *args):
        if torch.is_grad_enabled() and self.gradient_checkpointing:
            return self._gradient_checkpointing_func(function, *args)
        return function(*args)

    # Copied from diffusers: TransformerSpatioTemporalModel.forward
    # (diffusers.models.transformers.transformer_temporal), with view attention and reference
    # attention added between the spatial and temporal blocks.
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        image_only_indicator: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> TransformerTemporalModelOutput | tuple[torch.Tensor]:
        """Same inputs and outputs as ``TransformerSpatioTemporalModel.forward``.

        Args:
            hidden_states: ``(B·V·T, C, H, W)``.
            encoder_hidden_states: ``(B·V·T, 1, D)`` CLIP tokens.
            image_only_indicator: ``(B·V, T)``; 1 switches temporal mixing off for a frame.
            return_dict: Return a ``TransformerTemporalModelOutput`` rather than a tuple.
        """
        if encoder_hidden_states is None or image_only_indicator is None:
            raise ValueError("HVG transformers need encoder_hidden_states and image_only_indicator")
        context = self.call_context or CallContext()
        batch_frames, _, height, width = hidden_states.shape
        num_frames = image_only_indicator.shape[-1]
        batch_size = batch_frames // num_frames

        time_context = encoder_hidden_states
        time_context_first_timestep = time_context[None, :].reshape(
            batch_size, num_frames, -1, time_context.shape[-1]
        )[:, 0]
        time_context = time_context_first_timestep[:, None].broadcast_to(
            batch_size, height * width, time_context.shape[-2], time_context.shape[-1]
        )
        time_context = time_context.reshape(batch_size * height * width, -1, time_context.shape[-1])

        residual = hidden_states
        hidden_states = self.norm(hidden_states)
        inner_dim = hidden_states.shape[1]
        hidden_states = hidden_states.permute(0, 2, 3, 1).reshape(
            batch_frames, height * width, inner_dim
        )
        hidden_states = self.proj_in(hidden_states)

        frame_index = torch.arange(num_frames, device=hidden_states.device).repeat(batch_size, 1)
        frame_emb = self.time_proj(frame_index.reshape(-1)).to(dtype=hidden_states.dtype)
        frame_emb = self.time_pos_embed(frame_emb)[:, None, :]

        for index, (block, temporal_block) in enumerate(
            zip(self.transformer_blocks, self.temporal_transformer_blocks)
        ):
            key = f"{self.layer_name}.transformer_blocks.{index}"
            reference = None
            gate = None
            if context.reference_features is not None and self.reference_gates is not None:
                reference = context.reference_features.get(key)
                if reference is not None:
                    gate = self.reference_gates[index]
                    context.read_keys.add(key)

            def spatial(h, ctx, ref, g, _block=block):
                return spatial_block_forward(_block, h, ctx, ref, g)

            hidden_states, attn_input = self._checkpointed(
                spatial, hidden_states, encoder_hidden_states, reference, gate
            )
            if context.written is not None:
                context.written[key] = attn_input
                if key == context.stop_after:
                    # Nothing downstream is read: skip the rest of the network's last layer.
                    return (
                        (residual,)
                        if not return_dict
                        else TransformerTemporalModelOutput(sample=residual)
                    )

            if self.view_attention_blocks is not None:
                view_block = self.view_attention_blocks[index]

                def view(h, _view_block=view_block):
                    return _view_block(h, context.num_views, num_frames)

                hidden_states = self._checkpointed(view, hidden_states)

            def temporal(h, emb, tctx, indicator, _temporal_block=temporal_block):
                mixed = _temporal_block(h + emb, num_frames=num_frames, encoder_hidden_states=tctx)
                return self.time_mixer(
                    x_spatial=h, x_temporal=mixed, image_only_indicator=indicator
                )

            hidden_states = self._checkpointed(
                temporal, hidden_states, frame_emb, time_context, image_only_indicator
            )

        hidden_states = self.proj_out(hidden_states)
        hidden_states = (
            hidden_states.reshape(batch_frames, height, width, inner_dim)
            .permute(0, 3, 1, 2)
            .contiguous()
        )
        output = hidden_states + residual
        if not return_dict:
            return (output,)
        return TransformerTemporalModelOutput(sample=output)
