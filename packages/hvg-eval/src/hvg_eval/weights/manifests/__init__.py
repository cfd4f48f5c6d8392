"""Committed key/shape manifests of the reference weight files (no weights inside)."""
