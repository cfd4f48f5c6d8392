"""HVG bonemap."""
