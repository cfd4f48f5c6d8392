"""Numerical building blocks shared by the metrics (no weights, no I/O)."""
