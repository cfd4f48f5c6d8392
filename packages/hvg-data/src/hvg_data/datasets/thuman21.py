"""THuman2.1: ~2,445 scans (``0000``-``2444``), same per-subject files as THuman2.0.

Layout differences handled here (``research/datasets.md`` §2): scans usually sit one level deeper
(``THuman2.1_Release/model/<sid>/<sid>.obj``), the fits download extracts to
``THuman2.1_Smpl-X/<sid>/smplx_param.pkl`` and is often renamed to ``smplx/<sid>/``, and fits of
the newer subjects may hold 45-value hand poses, read here as 45 PCA components (the
maintainers' ``use_pca=True`` recipe; issues #22/#38). Hand dimensionality is inferred per file
from the array length. The fit is mapped onto the scan with ``scale * x + translation``, which
equals the maintainers' recipe of ``transl = translation / scale`` inside the model followed by
``* scale``.
"""

from __future__ import annotations

from typing import ClassVar

from hvg_data.datasets.thuman2 import Thuman2Adapter


class Thuman21Adapter(Thuman2Adapter):
    """THuman2.1 scans with SMPL-X fits (hand PCA-12 or PCA-45 inferred per file)."""

    name = "thuman21"
    description = "THuman2.1: ~2,445 textured OBJ scans (model/<sid>/) with SMPL-X fits."
    download_hint = (
        "Request THuman2.1 from https://github.com/ytrock/THuman2.0-Dataset, extract "
        "THuman2.1_Release_.7z (model/<sid>/<sid>.obj, material0.*) and the SMPL-X archive "
        "(THuman2.1_Smpl-X/<sid>/smplx_param.pkl) side by side, then pass --root THuman2.1_Release."
    )
    expected_layout = (
        "[THuman2.1_Release/]model/<sid>/<sid>.obj + material0.* (sid: 4 digits)",
        "THuman2.1_Smpl-X/<sid>/smplx_param.pkl beside it (or smplx/)",
    )
    scan_dir_names: ClassVar[tuple[str, ...]] = (
        "model",
        "",
        "THuman2.1_Release/model",
        "THuman2.1_Release",
        "scans",
    )
    fit_dir_names: ClassVar[tuple[str, ...]] = (
        "THuman2.1_Smpl-X",
        "THuman2.1_Release Smpl-X Paras_new",  # archive names, in case it unpacks to them
        "THuman2.1_Release Smpl-X Paras",
        "THUman2.0 SMPL-X Paras",
        "smplx",
        "THuman2.1_smplx",
        "THUman2.1_Smpl-X",
        "fits",
        "SMPL-X",
    )
    hand_pca_45 = True
