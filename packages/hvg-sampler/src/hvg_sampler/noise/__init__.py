"""Initial-noise strategies. Every draw is derived from (seed, batch item, frame, view)."""

from hvg_sampler.noise.independent import IndependentNoise, image_seed
from hvg_sampler.noise.tile_repeat import TileRepeatNoise

__all__ = ["IndependentNoise", "TileRepeatNoise", "image_seed"]
