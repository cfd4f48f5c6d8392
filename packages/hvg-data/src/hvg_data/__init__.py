"""HVG data: dataset adapters, CPU scan renderer, resumable HDF5 shards, training datasets.

The public names are imported on first use (``hvg_core.lazy``): the registry imports this
package to read its plugin module, so ``import hvg_data`` must not pull in numpy, torch, ray,
h5py or embreex (``hvg --help`` and ``hvg plugins`` stay instant).
"""

from hvg_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "CaptureViews": "hvg_data.adapter",
        "DatasetAdapter": "hvg_data.adapter",
        "Sample": "hvg_data.adapter",
        "RenderConfig": "hvg_data.config",
        "SMPLXParams": "hvg_data.smplx_params",
        "TexturedMesh": "hvg_data.meshes",
        "load_mesh": "hvg_data.meshes",
        "load_obj": "hvg_data.meshes",
        "load_ply": "hvg_data.meshes",
    },
)
