"""HVG model: the DenoisingNet on SVD-xt (pose modulator, view attention, ReferenceNet) and pipeline.

Attributes are imported lazily so that ``import hvg_model`` (and ``hvg-model --help``) does not
import torch or diffusers.
"""

from __future__ import annotations

from hvg_core.lazy import lazy_exports

_EXPORTS = {
    "HVGDenoisingNet": "hvg_model.denoising_net",
    "HVGReferenceNet": "hvg_model.reference_net",
    "HVGPipeline": "hvg_model.pipeline",
    "HVGPipelineOutput": "hvg_model.pipeline",
    "ReferenceConditioning": "hvg_model.conditioning",
    "encode_reference": "hvg_model.conditioning",
    "edm_scalings": "hvg_model.edm",
    "tiny_unet_config": "hvg_model.configs",
    "build_tiny_svd_dir": "hvg_model.testing",
    "PoseConditioning": "hvg_model.pose_rendering",
    "motion_parameters": "hvg_model.pose_rendering",
    "render_orbit_pose": "hvg_model.pose_rendering",
    "render_camera_pose": "hvg_model.pose_rendering",
    "load_pose_maps": "hvg_model.pose_rendering",
    "load_reference_image": "hvg_model.reference_image",
    "write_video": "hvg_model.video_io",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
