"""HVG data."""
