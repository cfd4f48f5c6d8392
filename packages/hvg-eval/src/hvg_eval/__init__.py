"""HVG eval."""
