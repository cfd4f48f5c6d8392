"""HVG core."""
