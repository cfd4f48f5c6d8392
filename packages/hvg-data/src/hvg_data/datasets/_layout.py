"""Helpers shared by adapters to find files under the folder names users actually have."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def first_existing_dir(candidates: Iterable[Path]) -> Path | None:
    """The first candidate that is a folder, or ``None``."""
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def numbered_subdirs(folder: Path, digits: int | None = None) -> list[str]:
    """Sorted names of sub-folders whose names are all digits (optionally of fixed width)."""
    if not folder.is_dir():
        return []
    names = [
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and entry.name.isdigit() and (digits is None or len(entry.name) == digits)
    ]
    return sorted(names)
