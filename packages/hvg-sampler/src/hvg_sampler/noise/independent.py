"""Counter-based, prefix-stable Gaussian noise: one generator per (seed, item, frame, view)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

_MASK = (1 << 64) - 1


def _splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def image_seed(seed: int, item: int, frame: int, view: int) -> int:
    """A 63-bit seed for one latent image, a hash of its coordinates.

    Hashing (instead of ``seed + offset``) keeps neighbouring seeds' streams unrelated, and the
    result does not depend on how many frames, views or items are drawn: growing the video
    leaves the noise of existing images unchanged (DESIGN.md §4).
    """
    state = _splitmix64(int(seed) & _MASK)
    for part in (item, frame, view):
        state = _splitmix64(state ^ (int(part) & _MASK))
    return state >> 1


class IndependentNoise:
    """i.i.d. N(0, 1) noise where image ``(b, v, t)`` comes from its own seeded CPU generator.

    Drawing on the CPU makes the noise bit-identical on every device; it is then moved.
    """

    def __call__(
        self,
        shape: Sequence[int],
        *,
        seed: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Draw the initial noise.

        Args:
            shape: ``(B, V, T, C, h, w)``.
            seed: Base seed.
            device: Where the result goes.
            dtype: Result dtype (drawn in float32 first).

        Returns:
            ``(B, V, T, C, h, w)`` standard normal noise.
        """
        batch, views, frames, *image = (int(size) for size in shape)
        out = torch.empty((batch, views, frames, *image), dtype=torch.float32)
        generator = torch.Generator(device="cpu")
        for item in range(batch):
            for view in range(views):
                for frame in range(frames):
                    generator.manual_seed(image_seed(seed, item, self.source_frame(frame), view))
                    out[item, view, frame] = torch.randn(image, generator=generator)
        return out.to(device=device, dtype=dtype)

    def source_frame(self, frame: int) -> int:
        """The frame whose noise ``frame`` uses (itself; subclasses repeat frames)."""
        return frame

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
