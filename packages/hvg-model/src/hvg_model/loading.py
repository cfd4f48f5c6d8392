"""Loading SVD-xt components and HVG checkpoints from local diffusers-format directories.

No weight is ever downloaded: every loader passes ``local_files_only=True`` and checks the
directory layout first, so that a missing folder gives one paragraph saying what is expected
(``hvg_core.errors.MissingResourceError``) rather than a hub traceback.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError, MissingResourceError

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

VAE_CLASS = "AutoencoderKLTemporalDecoder"
"""The diffusers class of SVD's VAE, the only one HVG encodes and decodes with."""

VAE_WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
"""Weight files diffusers' ``from_pretrained`` reads from a model directory, preferred first."""

VAE_HELP = (
    "HVG needs a diffusers AutoencoderKLTemporalDecoder directory (config.json plus "
    "diffusion_pytorch_model.safetensors, as save_pretrained writes them), such as the VAE "
    "`hvg demo` trains (out/demo/vae/, hvg_model.training.vae.train_vae) or the vae/ folder of "
    "an SVD-xt directory."
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


def check_vae_dir(path: str | os.PathLike[str], *, field: str = "model.vae_dir") -> dict[str, Any]:
    """Check a diffusers ``AutoencoderKLTemporalDecoder`` directory and return its config.

    Only files are read (the config and the weight file's header), no weights are loaded.

    Args:
        path: The VAE directory (``config.json`` + ``diffusion_pytorch_model.safetensors``).
        field: The config field or option that named it, for the error message.

    Returns:
        The parsed ``config.json`` (with ``latent_channels`` and ``block_out_channels``).

    Raises:
        MissingResourceError: No such directory, or its config or weights are missing.
        InputError: The config is not an ``AutoencoderKLTemporalDecoder``'s, or the weight
            file is not a safetensors file.
    """
    root = Path(path)
    expected = VAE_HELP
    if not root.is_dir():
        what = "a file, not a directory" if root.exists() else "no VAE directory here"
        raise MissingResourceError(f"{what}. {expected}", path=root, field=field)
    config_file = root / "config.json"
    weights = [root / name for name in VAE_WEIGHT_FILES if (root / name).is_file()]
    if not config_file.is_file() or not weights:
        missing = "config.json" if not config_file.is_file() else VAE_WEIGHT_FILES[0]
        raise MissingResourceError(
            f"this VAE directory is incomplete: missing {missing}. {expected}",
            path=root,
            field=field,
        )
    config = _read_vae_config(config_file, expected, field)
    if weights[0].suffix == ".safetensors":
        _check_safetensors_header(weights[0], expected, field)
    return config


def _read_vae_config(config_file: Path, expected: str, field: str) -> dict[str, Any]:
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"config.json is not a JSON model config ({error}). {expected}",
            path=config_file,
            field=field,
        ) from error
    if not isinstance(config, dict) or config.get("_class_name") != VAE_CLASS:
        found = config.get("_class_name") if isinstance(config, dict) else type(config).__name__
        raise InputError(
            f"config.json describes {found!r}, not an {VAE_CLASS}. {expected}",
            path=config_file,
            field=field,
        )
    absent = [key for key in ("latent_channels", "block_out_channels") if key not in config]
    if absent:
        raise InputError(
            f"config.json lacks {', '.join(absent)}. {expected}", path=config_file, field=field
        )
    return config


def _check_safetensors_header(weights: Path, expected: str, field: str) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as handle:
            handle.keys()
    except (SafetensorError, OSError) as error:
        raise InputError(
            f"the weight file is not a readable safetensors file ({error}). {expected}",
            path=weights,
            field=field,
        ) from error


def vae_config(
    path: str | os.PathLike[str], *, vae_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Config of the VAE a run uses: ``vae_dir``'s when given, else the ``vae/`` of ``path``.

    Raises:
        MissingResourceError: The VAE directory (or ``path/vae``) is missing.
        InputError: ``vae_dir`` is not an ``AutoencoderKLTemporalDecoder`` directory.
    """
    if vae_dir is not None:
        return check_vae_dir(vae_dir)
    root = check_model_dir(path, ("vae",))
    return json.loads((root / "vae" / "config.json").read_text(encoding="utf-8"))


def vae_scale_factor(
    path: str | os.PathLike[str], *, vae_dir: str | os.PathLike[str] | None = None
) -> int:
    """Downscale factor of a diffusers VAE: ``2 ** (len(block_out_channels) - 1)``.

    Read from ``vae_dir/config.json`` when given, else from ``path/vae/config.json`` (8 for
    SVD-xt), as diffusers' pipelines compute it.

    Raises:
        MissingResourceError: The directory or its ``vae`` is missing.
    """
    return 2 ** (len(vae_config(path, vae_dir=vae_dir)["block_out_channels"]) - 1)


def check_latent_channels(
    svd_dir: str | os.PathLike[str], *, vae_dir: str | os.PathLike[str] | None = None
) -> int:
    """Check that the UNet of ``svd_dir`` denoises the latents of the VAE used (2·C in, C out).

    Returns:
        C, the VAE's ``latent_channels``.

    Raises:
        InputError: The UNet's input/output channels do not match, naming both numbers and the
            field (``model.vae_dir`` when a separate VAE is given, else ``model.svd_dir``).
    """
    channels = int(vae_config(svd_dir, vae_dir=vae_dir)["latent_channels"])
    root = check_model_dir(svd_dir, ("unet",))
    unet = json.loads((root / "unet" / "config.json").read_text(encoding="utf-8"))
    unet_in, unet_out = int(unet["in_channels"]), int(unet["out_channels"])
    if (unet_in, unet_out) == (2 * channels, channels):
        return channels
    which = "model.vae_dir" if vae_dir is not None else "model.svd_dir"
    raise InputError(
        f"the VAE has {channels} latent channels but the UNet of model.svd_dir "
        f"({root / 'unet'}) takes {unet_in} input channels and gives {unet_out}: it must take "
        f"2·{channels} = {2 * channels} (noisy latent + reference latent) and give {channels}. "
        f"Use a VAE with {unet_out} latent channels, or an SVD directory whose UNet matches this "
        "VAE (`hvg demo` builds one as out/demo/svd/; model.tiny without model.svd_dir builds "
        "a random tiny one)",
        path=vae_dir if vae_dir is not None else root / "vae",
        field=which,
    )


def load_vae(path: str | os.PathLike[str], *, field: str = "model.vae_dir") -> Any:
    """Load a frozen ``AutoencoderKLTemporalDecoder`` from a VAE directory (checked first).

    Raises:
        MissingResourceError: The directory, its config or its weights are missing.
        InputError: Not an ``AutoencoderKLTemporalDecoder`` directory, or weights that do not
            fit its config.
    """
    from diffusers import AutoencoderKLTemporalDecoder

    check_vae_dir(path, field=field)
    try:
        vae = AutoencoderKLTemporalDecoder.from_pretrained(path, local_files_only=True)
    except (ValueError, RuntimeError, OSError) as error:  # shapes or keys that do not fit
        raise InputError(
            f"cannot load this VAE ({error}). {VAE_HELP}", path=path, field=field
        ) from error
    return vae.eval().requires_grad_(False)


def load_frozen_components(
    path: str | os.PathLike[str],
    *,
    kind: str = "SVD-xt",
    vae_dir: str | os.PathLike[str] | None = None,
) -> FrozenComponents:
    """Load ``vae``, ``image_encoder``, ``feature_extractor`` and ``scheduler`` from a directory.

    Works for an SVD-xt directory and for an HVG checkpoint directory (same subfolders).

    Args:
        path: The model directory.
        kind: What it is, for error messages.
        vae_dir: A separate VAE directory (``model.vae_dir``, ``hvg-model train --vae``) used
            instead of ``path/vae``, which then need not exist.
    """
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    others = ("image_encoder", "feature_extractor", "scheduler")
    root = check_model_dir(path, others if vae_dir is not None else ("vae", *others), kind=kind)
    if vae_dir is not None:
        vae = load_vae(vae_dir)
    else:
        vae = AutoencoderKLTemporalDecoder.from_pretrained(
            root, subfolder="vae", local_files_only=True
        )
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
