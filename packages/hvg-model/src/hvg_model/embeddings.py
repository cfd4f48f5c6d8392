"""Camera embedding: rotation relative to the reference view → sinusoids → one zero linear.

The paper (§3.2, "Embeddings") sets the first view's rotation to the identity, expresses the
other views relative to it, encodes the result with sinusoids, concatenates, applies one linear
layer and adds the result to the noise-timestep embedding. The nine entries of the relative
rotation lie in [-1, 1], so the frequencies are powers of two times π (NeRF style) rather than
the diffusion ``Timesteps`` spacing, whose 10000 max period would leave most channels constant on
that range (research/model.md §6, open questions).
"""

from __future__ import annotations

import torch
from torch import nn


def relative_rotations(rotations: torch.Tensor) -> torch.Tensor:
    """Rotations of every view relative to view 0: ``R_rel[v] = R[v] @ R[0]^T``.

    With OpenCV world-to-camera rotations (``x_cam = R x_world + t``), ``R_rel[v]`` maps
    coordinates in camera 0 to coordinates in camera ``v``; view 0 gets the identity.

    Args:
        rotations: World-to-camera rotations ``(B, V, 3, 3)`` (or ``(B, V, T, 3, 3)`` for
            cameras that move over time, relative to view 0 at the same frame).

    Returns:
        Relative rotations, same shape as ``rotations``.
    """
    if rotations.ndim not in (4, 5) or rotations.shape[-2:] != (3, 3):
        raise ValueError(
            f"rotations must have shape (B, V, 3, 3) or (B, V, T, 3, 3), got {tuple(rotations.shape)}"
        )
    first = rotations[:, :1]
    return rotations @ first.transpose(-1, -2)


def sinusoidal_encoding(values: torch.Tensor, num_frequencies: int) -> torch.Tensor:
    """Encode each scalar with ``sin(2^k π x)`` and ``cos(2^k π x)``, k = 0..num_frequencies-1.

    Args:
        values: ``(..., D)`` scalars.
        num_frequencies: Frequencies per scalar (L).

    Returns:
        ``(..., D · 2L)``, per scalar its L sines followed by its L cosines.
    """
    frequencies = torch.pi * 2.0 ** torch.arange(
        num_frequencies, device=values.device, dtype=torch.float32
    )
    angles = values.float()[..., None] * frequencies
    encoded = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return encoded.flatten(-2)


class CameraEmbedding(nn.Module):
    """Sinusoidal encoding of the 9 relative-rotation entries, then one zero-initialised linear.

    Args:
        embedding_dim: Width of the UNet time embedding it is added to (1280 for SVD-xt).
        num_frequencies: Sinusoid frequencies per rotation entry.
    """

    def __init__(self, embedding_dim: int, num_frequencies: int = 8) -> None:
        super().__init__()
        self.num_frequencies = num_frequencies
        self.linear = nn.Linear(9 * 2 * num_frequencies, embedding_dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, relative_rotation: torch.Tensor) -> torch.Tensor:
        """Embed relative rotations.

        Args:
            relative_rotation: ``(..., 3, 3)`` rotations relative to the reference view.

        Returns:
            ``(..., embedding_dim)`` in the linear layer's dtype.
        """
        if relative_rotation.shape[-2:] != (3, 3):
            raise ValueError(
                f"cameras must end in (3, 3) rotation matrices, got {tuple(relative_rotation.shape)}"
            )
        encoded = sinusoidal_encoding(relative_rotation.flatten(-2), self.num_frequencies)
        return self.linear(encoded.to(self.linear.weight.dtype))
