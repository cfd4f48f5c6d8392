"""HVG sampler."""
