"""Built-in parts of hvg-data, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attr"`` string so that listing datasets (and
``hvg-data --help``) imports neither torch nor ray.
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl

DATASETS = {
    "thuman2": (
        "hvg_data.datasets.thuman2:Thuman2Adapter",
        "THuman2.0: 526 textured OBJ scans with SMPL-X fits (male, PCA-12 hands).",
        "scan",
    ),
    "thuman21": (
        "hvg_data.datasets.thuman21:Thuman21Adapter",
        "THuman2.1: ~2,445 textured OBJ scans (model/<sid>/) with SMPL-X fits.",
        "scan",
    ),
    "2k2k": (
        "hvg_data.datasets.twok2k:TwoK2KAdapter",
        "2K2K: 2,050 vertex-coloured PLY scans, optional SMPL-X JSON fits.",
        "scan",
    ),
    "customhuman": (
        "hvg_data.datasets.customhuman:CustomHumanAdapter",
        "CustomHumans: 646 textured OBJ scans (pelvis-centred) with SMPL-X fits.",
        "scan",
    ),
    "mvhumannet": (
        "hvg_data.datasets.mvhumannet:MVHumanNetAdapter",
        "MVHumanNet: multi-view videos (~48 cameras) with EasyMocap SMPL-X fits.",
        "capture",
    ),
    "synthetic": (
        "hvg_data.datasets.synthetic:SyntheticAdapter",
        "Procedural clothed people around the built-in body; no download needed.",
        "scan",
    ),
}


@hookimpl
def hvg_register_datasets(register: Register) -> None:
    """Register the built-in dataset adapters."""
    for name, (target, description, kind) in DATASETS.items():
        register(name, target, description=description, kind=kind)


@hookimpl
def hvg_register_scan_renderers(register: Register) -> None:
    """Register the built-in scan renderers."""
    register(
        "embree",
        "hvg_data.renderers.embree:EmbreeScanRenderer",
        description="CPU ray casting with Embree (embreex) + bilinear texture lookup.",
    )
    register(
        "reference",
        "hvg_data.renderers.reference:ReferenceScanRenderer",
        description="Brute-force float64 ray casting; slow test oracle for tiny meshes.",
    )
