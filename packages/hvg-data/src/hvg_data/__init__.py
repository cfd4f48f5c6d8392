"""HVG data: dataset adapters, CPU scan renderer, resumable HDF5 shards, training datasets.

Importing this package pulls in numpy only; torch, ray, h5py and embreex are imported by the
functions that need them.
"""

from hvg_data.adapter import CaptureViews, DatasetAdapter, Sample
from hvg_data.config import RenderConfig
from hvg_data.meshes import TexturedMesh, load_mesh, load_obj, load_ply
from hvg_data.smplx_params import SMPLXParams

__all__ = [
    "CaptureViews",
    "DatasetAdapter",
    "RenderConfig",
    "SMPLXParams",
    "Sample",
    "TexturedMesh",
    "load_mesh",
    "load_obj",
    "load_ply",
]
