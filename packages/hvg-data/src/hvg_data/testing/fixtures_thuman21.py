"""THuman2.1 fixture tree: ``THuman2.1_Release/model/<sid>/`` plus ``THuman2.1_Smpl-X/<sid>/``."""

from __future__ import annotations

from pathlib import Path

from hvg_data.testing.fixtures_thuman2 import make_thuman2_fixture


def make_thuman21_fixture(
    base: str | Path,
    *,
    subjects: tuple[str, ...] = ("0000", "0527"),
    fit_dir_name: str = "THuman2.1_Smpl-X",
    seed: int = 1,
) -> Path:
    """Write a THuman2.1 tree; subjects >= 0526 get 45-value hand poses (the known variant).

    Fits are written like the released archive (pickle protocol 3, ``TrackedArray`` arrays via
    ``_reconstruct``), with the ``(1, 1)`` ``scale`` and ``(1, 3)`` ``translation`` ranks some
    2.1 fits use.

    Returns:
        ``<base>/THuman2.1_Release`` (holding ``model/``), the adapter's ``root``.
    """
    base = Path(base)
    release = base / "THuman2.1_Release"
    hands = {sid: (45 if int(sid) >= 526 else 12) for sid in subjects}
    make_thuman2_fixture(
        base,
        subjects=subjects,
        fit_dir_name=fit_dir_name,
        release_name="THuman2.1_Release/model",
        hand_dims=hands,
        scale_shape=(1, 1),
        translation_shape=(1, 3),
        seed=seed,
    )
    return release
