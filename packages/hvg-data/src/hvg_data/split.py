"""Subject-disjoint train/test sets as in the paper (§4 "Dataset").

The paper trains on "the first 500 videos from THuman2.0, the first 1,900 from THuman2.1, the
first 625 from CustomHuman, and the first 1,980 from 2K2K", then "to avoid subject overlap
between training and inference, we remove any videos featuring the same subjects as those in
the training set and randomly select 50 videos from the remaining pool" (Table 1); Table 2
tests on 25 randomly selected MVHumanNet videos. :func:`build_split` does exactly that from
each adapter's sorted subject ids and records the result (``hvg-data split``).

"The same subject" needs an identity per subject id. The built-in rules
(:func:`default_identity`) are this project's reading of the datasets, overridable with an
explicit map:

- ``thuman2`` and ``thuman21`` share one namespace: THuman2.1 includes THuman2.0's scans under
  the same numbers, so THuman2.1's ``0042`` is THuman2.0's ``0042``;
- ``customhuman`` folders ``PPPP_…`` share the person ``PPPP`` (several outfits and poses);
- every other dataset: each subject id is its own identity.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError

#: Version of the recorded split file.
SPLIT_VERSION = 1

#: The paper's training counts ("the first N videos") per dataset.
PAPER_TRAIN_COUNTS = {"thuman2": 500, "thuman21": 1900, "customhuman": 625, "2k2k": 1980}


@dataclass(frozen=True)
class SplitSource:
    """One dataset's subjects and how many of the first ones train.

    Attributes:
        dataset: Registry name of the dataset.
        subjects: Its subject ids (sorted by the adapter).
        train_count: The first ``train_count`` subjects are the training set.
        root: Where the dataset lives (recorded only).
    """

    dataset: str
    subjects: tuple[str, ...]
    train_count: int
    root: str | None = None


def default_identity(dataset: str, subject: str) -> str:
    """The person a subject shows (see the module docstring for the rules)."""
    if dataset in ("thuman2", "thuman21"):
        return f"thuman:{subject}"
    if dataset == "customhuman":
        return f"customhuman:{subject.split('_', 1)[0]}"
    return f"{dataset}:{subject}"


def build_split(
    sources: Sequence[SplitSource],
    *,
    test_count: int,
    seed: int = 0,
    identity: Callable[[str, str], str] = default_identity,
) -> dict[str, Any]:
    """Train on the first subjects of each dataset; test on a seeded draw of the rest.

    A subject is eligible for testing when it is not in the training set and its identity is
    not the identity of any training subject (of any dataset).

    Args:
        sources: The datasets.
        test_count: Test subjects to draw from the eligible pool.
        seed: Seed of the draw (``random.Random(seed).sample`` over the pool in source order).
        identity: ``(dataset, subject) -> person id``.

    Returns:
        The split record: ``train`` and ``test`` lists of ``{"dataset", "subject",
        "identity"}``, counts of the pool and of the subjects excluded for a shared identity,
        the sources and the seed.

    Raises:
        InputError: A train count above the subjects available, a duplicate dataset, or a pool
            smaller than ``test_count``.
    """
    names = [source.dataset for source in sources]
    if len(set(names)) != len(names):
        raise InputError(f"each dataset may appear once, got {names}", field="--dataset")
    if test_count < 0:
        raise InputError(f"test count must be >= 0, got {test_count}", field="--test-count")
    train, rest = [], []
    for source in sources:
        subjects = list(source.subjects)
        if not 0 <= source.train_count <= len(subjects):
            raise InputError(
                f"{source.dataset}: cannot train on the first {source.train_count} of "
                f"{len(subjects)} subjects",
                path=source.root,
                field="--dataset",
            )
        for index, subject in enumerate(subjects):
            entry = {
                "dataset": source.dataset,
                "subject": subject,
                "identity": identity(source.dataset, subject),
            }
            (train if index < source.train_count else rest).append(entry)
    train_identities = {entry["identity"] for entry in train}
    pool = [entry for entry in rest if entry["identity"] not in train_identities]
    if test_count > len(pool):
        raise InputError(
            f"only {len(pool)} subjects remain after removing the training subjects and their "
            f"identities; cannot draw {test_count} test subjects",
            field="--test-count",
        )
    test = random.Random(seed).sample(pool, test_count)
    return {
        "version": SPLIT_VERSION,
        "seed": seed,
        "rule": (
            "train: the first train_count subjects of each dataset (sorted ids); test: a seeded "
            "random draw from the other subjects whose identity no training subject shares"
        ),
        "sources": [
            {
                "dataset": source.dataset,
                "root": source.root,
                "subjects": len(source.subjects),
                "train_count": source.train_count,
            }
            for source in sources
        ],
        "pool": len(pool),
        "excluded_shared_identity": len(rest) - len(pool),
        "train": train,
        "test": test,
    }


def identity_map_function(mapping: Mapping[str, str]) -> Callable[[str, str], str]:
    """An identity rule from ``{"dataset/subject": identity}``; unlisted ids use the default."""

    def identity(dataset: str, subject: str) -> str:
        return mapping.get(f"{dataset}/{subject}", default_identity(dataset, subject))

    return identity


def read_identity_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a JSON object ``{"dataset/subject": identity}``.

    Raises:
        InputError: Unreadable file or not an object of strings.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the identity map: {error}", path=path) from error
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InputError(
            'expected a JSON object {"dataset/subject": "identity"}', path=path, field="identities"
        )
    return data


def write_split(record: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the split record as JSON atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    staging.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(staging, target)
    return target
