"""Weight files the metrics need: registry, search path, verification, loading.

Nothing here downloads anything. See :mod:`hvg_eval.weights.registry`.
"""

from hvg_eval.weights.registry import (
    WEIGHT_FILES,
    WeightFile,
    find_weight_file,
    resolve_weight_file,
    search_directories,
    verify_file,
)

__all__ = [
    "WEIGHT_FILES",
    "WeightFile",
    "find_weight_file",
    "resolve_weight_file",
    "search_directories",
    "verify_file",
]
