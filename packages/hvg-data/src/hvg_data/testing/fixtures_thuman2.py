"""THuman2.0 fixture tree in the release layout (see ``hvg_data.datasets.thuman2``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hvg_data.meshes import save_obj
from hvg_data.testing._people import batched_fit, fixture_person, write_pickle
from hvg_data.testing.real_formats import write_thuman_fit

#: Folder the released fit archive ``THUman2.0 SMPL-X Paras.zip`` unpacks to.
THUMAN2_FITS_FOLDER = "THUman2.0 SMPL-X Paras"


def make_thuman2_fixture(
    base: str | Path,
    *,
    subjects: tuple[str, ...] = ("0000", "0001"),
    fit_dir_name: str = THUMAN2_FITS_FOLDER,
    release_name: str = "THuman2.0_Release",
    hand_dims: dict[str, int] | None = None,
    scale_shape: tuple[int, ...] = (),
    translation_shape: tuple[int, ...] = (3,),
    fit_format: str = "real",
    fits_inside_scan_dirs: bool = False,
    seed: int = 0,
) -> Path:
    """Write ``<base>/<release>/<sid>/<sid>.obj + material0.{mtl,jpeg}`` and the fits.

    Fits go to ``<base>/<fit_dir_name>/<sid>/smplx_param.pkl`` (or into the scan folders). With
    ``fit_format="real"`` (default) they are written exactly like the released archive: pickle
    protocol 3, a dict whose values are ``trimesh.caching.TrackedArray`` arrays rebuilt through
    ``numpy.core.multiarray._reconstruct``, batch-1 float32 pose arrays, PCA-12 hands, a 0-d
    ``scale`` and a ``(3,)`` ``translation``. ``fit_format="plain"`` writes plain ndarrays with
    protocol 2 (what re-saved copies look like). The scan is the fit's body mapped by
    ``scale * x + translation`` (scale 0.4-0.6, as THuman's fits are not metric).

    Args:
        base: Folder to create the tree in.
        subjects: Subject ids.
        fit_dir_name: Name of the fits folder beside the release.
        release_name: Name of the scans folder (``""`` = ``base`` itself).
        hand_dims: Hand-pose length per subject (default 12).
        scale_shape: Stored shape of ``scale`` (``()``, ``(1,)`` or ``(1, 1)``).
        translation_shape: Stored shape of ``translation`` (``(3,)`` or ``(1, 3)``).
        fit_format: ``"real"`` (TrackedArray, protocol 3) or ``"plain"`` (ndarray, protocol 2).
        fits_inside_scan_dirs: Put ``smplx_param.pkl`` next to the OBJ instead.
        seed: Base seed.

    Returns:
        The folder to pass as the adapter's ``root``.
    """
    if fit_format not in ("real", "plain"):
        raise ValueError(f"fit_format must be 'real' or 'plain', got {fit_format!r}")
    base = Path(base)
    release = base / release_name if release_name else base
    hand_dims = hand_dims or {}
    for number, sid in enumerate(subjects):
        rng = np.random.default_rng([seed, number])
        scale = float(rng.uniform(0.4, 0.6))
        translation = rng.uniform(-0.3, 0.3, 3)
        person = fixture_person(
            seed * 1000 + number,
            hand_pca=hand_dims.get(sid, 12),
            world=(scale, np.eye(3), translation),
            zero_transl=True,
        )
        folder = release / sid
        folder.mkdir(parents=True, exist_ok=True)
        save_obj(person.meshes[0], folder / f"{sid}.obj")
        fit = batched_fit(person.params)
        fit["scale"] = np.full(scale_shape, scale, np.float32)
        fit["translation"] = translation.astype(np.float32).reshape(translation_shape)
        fit_dir = folder if fits_inside_scan_dirs else base / fit_dir_name / sid
        if fit_format == "real":
            write_thuman_fit(fit_dir / "smplx_param.pkl", fit)
        else:
            write_pickle(fit_dir / "smplx_param.pkl", fit)
    return release
