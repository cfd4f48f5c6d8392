"""Per-pixel view attention (HVG §3.2) and the joint view × spatial attention it replaces.

After each spatial transformer block, every pixel of every frame attends over the same pixel in
the other views. Views are folded into the batch as ``(B·V·T, HW, C)``; one reshape turns that
into ``(B·T·HW, V, C)``, so the attention matrix per sequence is ``V × V`` instead of
``(V·HW) × (V·HW)`` for Human4DiT-style joint attention. The pelvis-centred crop of
``hvg_bonemap`` is what makes "same pixel" mean "same body part" across views.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def fold_views(hidden_states: torch.Tensor, num_views: int, num_frames: int) -> torch.Tensor:
    """``(B·V·T, HW, C)`` ordered (B, V, T) → ``(B·T·HW, V, C)``: one sequence per pixel."""
    rows, pixels, dim = hidden_states.shape
    if rows % (num_views * num_frames) != 0:
        raise ValueError(
            f"hidden_states batch {rows} is not a multiple of num_views·num_frames "
            f"= {num_views}·{num_frames}"
        )
    return (
        hidden_states.view(-1, num_views, num_frames, pixels, dim)
        .permute(0, 2, 3, 1, 4)
        .reshape(-1, num_views, dim)
    )


def unfold_views(tokens: torch.Tensor, num_frames: int, pixels: int) -> torch.Tensor:
    """Inverse of :func:`fold_views`: ``(B·T·HW, V, C)`` → ``(B·V·T, HW, C)``."""
    _, num_views, dim = tokens.shape
    return (
        tokens.view(-1, num_frames, pixels, num_views, dim)
        .permute(0, 3, 1, 2, 4)
        .reshape(-1, pixels, dim)
    )


class _MultiHeadSelfAttention(nn.Module):
    """Pre-norm multi-head self-attention with a zero-initialised output projection."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.norm = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)
        # Zero output projection: the block starts as the identity, so the extended network
        # starts as the pretrained SVD.
        nn.init.zeros_(self.to_out.weight)
        nn.init.zeros_(self.to_out.bias)

    def attend(self, tokens: torch.Tensor) -> torch.Tensor:
        """Self-attention along dim 1 of ``(S, L, C)``; returns the residual ``(S, L, C)``."""
        sequences, length, dim = tokens.shape
        head_dim = dim // self.num_heads
        normed = self.norm(tokens)

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(sequences, length, self.num_heads, head_dim).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            heads(self.to_q(normed)), heads(self.to_k(normed)), heads(self.to_v(normed))
        )
        return self.to_out(out.transpose(1, 2).reshape(sequences, length, dim))


class ViewAttention(_MultiHeadSelfAttention):
    """HVG's view attention: at each (sample, frame, pixel), attention over the V views.

    Args:
        dim: Channels C of the tokens.
        num_heads: Attention heads (the spatial attention's count: head width 64 in SVD-xt).
    """

    def forward(self, hidden_states: torch.Tensor, num_views: int, num_frames: int) -> torch.Tensor:
        """Add the view-attention residual.

        Args:
            hidden_states: ``(B·V·T, HW, C)`` tokens, batch ordered (B, V, T).
            num_views: V.
            num_frames: T.

        Returns:
            ``(B·V·T, HW, C)``.
        """
        pixels = hidden_states.shape[1]
        tokens = fold_views(hidden_states, num_views, num_frames)
        return hidden_states + unfold_views(self.attend(tokens), num_frames, pixels)


class JointViewSpatialAttention(_MultiHeadSelfAttention):
    """Human4DiT-style "3-D" attention over all V·HW tokens of a frame (benchmark baseline).

    Same parameters as :class:`ViewAttention`; only the token grouping differs.
    """

    def forward(self, hidden_states: torch.Tensor, num_views: int, num_frames: int) -> torch.Tensor:
        """Add the joint-attention residual; shapes as in :meth:`ViewAttention.forward`."""
        rows, pixels, dim = hidden_states.shape
        tokens = (
            hidden_states.view(-1, num_views, num_frames, pixels, dim)
            .permute(0, 2, 1, 3, 4)
            .reshape(-1, num_views * pixels, dim)
        )
        attended = (
            self.attend(tokens)
            .view(-1, num_frames, num_views, pixels, dim)
            .permute(0, 2, 1, 3, 4)
            .reshape(rows, pixels, dim)
        )
        return hidden_states + attended


def view_attention_reference(
    module: ViewAttention, hidden_states: torch.Tensor, num_views: int, num_frames: int
) -> torch.Tensor:
    """Slow, loop-based oracle for :class:`ViewAttention` (tests only).

    For each sample b, frame t and pixel p it gathers the V tokens explicitly and applies the
    textbook softmax attention per head.
    """
    rows, pixels, dim = hidden_states.shape
    batch = rows // (num_views * num_frames)
    grid = hidden_states.view(batch, num_views, num_frames, pixels, dim)
    out = grid.clone()
    heads = module.num_heads
    head_dim = dim // heads
    for b in range(batch):
        for t in range(num_frames):
            for p in range(pixels):
                x = module.norm(grid[b, :, t, p])  # (V, C)
                q = module.to_q(x).view(num_views, heads, head_dim)
                k = module.to_k(x).view(num_views, heads, head_dim)
                v = module.to_v(x).view(num_views, heads, head_dim)
                scores = torch.einsum("ihd,jhd->hij", q, k) / head_dim**0.5
                mixed = torch.einsum("hij,jhd->ihd", scores.softmax(-1), v).reshape(num_views, dim)
                out[b, :, t, p] = grid[b, :, t, p] + module.to_out(mixed)
    return out.view(rows, pixels, dim)
