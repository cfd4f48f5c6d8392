"""Loading SVD-xt components and HVG checkpoints from local diffusers-format directories.

No weight is ever downloaded: every loader passes ``local_files_only=True`` and checks the
directory layout first, so that a missing folder gives one paragraph saying what is expected
(``hvg_core.errors.MissingResourceError``) rather than a hub traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_core.errors import MissingResourceError

SVD_COMPONENTS = ("unet", "vae", "image_encoder", "feature_extractor", "scheduler")
"""Subfolders of ``stabilityai/stable-video-diffusion-img2vid-xt`` that HVG reads."""

HVG_COMPONENTS = (
    "denoising_net",
    "reference_net",
    "vae",
    "image_encoder",
    "feature_extractor",
    "scheduler",
)
"""Subfolders of an HVG checkpoint directory (``HVGPipeline.save_pretrained``)."""

_COMPONENT_FILES = {
    "unet": "config.json",
    "denoising_net": "config.json",
    "reference_net": "config.json",
    "vae": "config.json",
    "image_encoder": "config.json",
    "feature_extractor": "preprocessor_config.json",
    "scheduler": "scheduler_config.json",
}

SVD_HELP = (
    "Download stabilityai/stable-video-diffusion-img2vid-xt from the Hugging Face Hub on a "
    "machine with network access (e.g. `huggingface-cli download "
    "stabilityai/stable-video-diffusion-img2vid-xt --local-dir svd-xt`), copy the folder here "
    "and pass its path."
)


def check_model_dir(
    path: str | os.PathLike[str],
    components: tuple[str, ...] = SVD_COMPONENTS,
    *,
    kind: str = "SVD-xt",
    help_text: str = SVD_HELP,
) -> Path:
    """Check that a diffusers-format directory holds the given components.

    Raises:
        MissingResourceError: Naming the directory, every missing component and its file.
    """
    root = Path(path)
    if not root.is_dir():
        raise MissingResourceError(
            f"no {kind} model directory here. HVG needs a local diffusers-format directory with "
            f"the subfolders {', '.join(c + '/' for c in components)}. {help_text}",
            path=root,
        )
    missing = [
        f"{component}/{_COMPONENT_FILES[component]}"
        for component in components
        if not (root / component / _COMPONENT_FILES[component]).is_file()
    ]
    if missing:
        raise MissingResourceError(
            f"this {kind} model directory is incomplete: missing {', '.join(missing)}. HVG needs "
            f"the subfolders {', '.join(c + '/' for c in components)} in diffusers format "
            f"(config plus .safetensors weights). {help_text}",
            path=root,
        )
    return root


def load_svd_unet(path: str | os.PathLike[str]) -> Any:
    """Load the ``unet`` of a local SVD-xt directory as a ``UNetSpatioTemporalConditionModel``.

    The plain SVD class is loaded (all its keys are in the file), so diffusers' meta-device
    pitfall for new parameters (research/model.md §0.4) cannot occur; HVG's modules are added
    afterwards by ``HVGDenoisingNet.from_svd_unet``.
    """
    from diffusers import UNetSpatioTemporalConditionModel

    root = check_model_dir(path, ("unet",))
    return UNetSpatioTemporalConditionModel.from_pretrained(
        root, subfolder="unet", local_files_only=True
    )


@dataclass
class FrozenComponents:
    """SVD's frozen encoders/decoder and scheduler, as loaded from a model directory.

    Attributes:
        vae: ``AutoencoderKLTemporalDecoder`` (scaling factor 0.18215, factor-8 latents).
        image_encoder: ``CLIPVisionModelWithProjection`` (projection width = cross-attention).
        feature_extractor: ``CLIPImageProcessor`` (its ``image_mean``/``image_std`` are used).
        scheduler: ``EulerDiscreteScheduler`` with SVD's EDM settings (σ_min, σ_max).
    """

    vae: Any
    image_encoder: Any
    feature_extractor: Any
    scheduler: Any


def vae_scale_factor(path: str | os.PathLike[str]) -> int:
    """Downscale factor of the ``vae/`` of a diffusers directory: ``2 ** (len(blocks) - 1)``.

    Read from ``vae/config.json`` (8 for SVD-xt), as diffusers' pipelines compute it.

    Raises:
        MissingResourceError: The directory or its ``vae`` is missing.
    """
    import json

    root = check_model_dir(path, ("vae",))
    config = json.loads((root / "vae" / "config.json").read_text(encoding="utf-8"))
    return 2 ** (len(config["block_out_channels"]) - 1)


def load_frozen_components(
    path: str | os.PathLike[str], *, kind: str = "SVD-xt"
) -> FrozenComponents:
    """Load ``vae``, ``image_encoder``, ``feature_extractor`` and ``scheduler`` from a directory.

    Works for an SVD-xt directory and for an HVG checkpoint directory (same subfolders).
    """
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    root = check_model_dir(
        path, ("vae", "image_encoder", "feature_extractor", "scheduler"), kind=kind
    )
    vae = AutoencoderKLTemporalDecoder.from_pretrained(root, subfolder="vae", local_files_only=True)
    image_encoder = CLIPVisionModelWithProjection.from_pretrained(
        root / "image_encoder", local_files_only=True
    )
    feature_extractor = CLIPImageProcessor.from_pretrained(
        root / "feature_extractor", local_files_only=True
    )
    scheduler = EulerDiscreteScheduler.from_pretrained(
        root, subfolder="scheduler", local_files_only=True
    )
    for module in (vae, image_encoder):
        module.eval().requires_grad_(False)
    return FrozenComponents(vae, image_encoder, feature_extractor, scheduler)
