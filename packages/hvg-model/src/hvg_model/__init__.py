"""HVG model."""
