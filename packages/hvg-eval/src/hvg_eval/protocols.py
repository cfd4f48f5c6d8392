"""Evaluation protocols: every convention that changes a number, named and recorded.

- ``disco`` (default, the paper's Tables 1-3): DisCo's ``gen_eval.sh`` conventions — L1 is the
  0-255 MAE divided by H·W, SSIM on OpenCV grey with skimage defaults, PSNR per frame in float
  with peak 255 (100 dB for identical frames), LPIPS-VGG fed [0, 1] images (DisCo's deviation),
  FID as pytorch-fid, FID-VID with the 3-D ResNet-50, FVD with I3D over the whole video.
- ``stylegan-v``: FVD as StyleGAN-V ``fvd2048_16f`` (TorchScript I3D, 16 consecutive frames, real
  clips at a seeded random offset, fake clips from frame 0) and FID as clean-fid; the per-frame
  metrics use the "correct" variants of ``clean``.
- ``clean``: FID as clean-fid (TorchScript Inception, PIL-bicubic resize); LPIPS fed [-1, 1];
  PSNR per frame (inf for identical frames, skimage semantics); SSIM per Wang et al. 2004
  (Gaussian σ=1.5, population covariance); L1 as the plain MAE on [0, 1].

See research/metrics.md §2 and §6.2 for the sources of each convention.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hvg_core.errors import InputError

_CHOICES: dict[str, tuple[str, ...]] = {
    "ssim_window": ("uniform7", "gaussian11"),
    "ssim_covariance": ("sample", "population"),
    "psnr_variant": ("disco", "skimage", "legacy-uint8"),
    "lpips_input": ("disco01", "correct"),
    "l1_variant": ("disco", "mae"),
    "fid_backend": ("pytorch-fid", "clean-fid"),
    "fvd_backend": ("i3d-pt", "i3d-torchscript"),
    "fvd_clip": ("whole-video", "16f-consecutive", "16f-stride1"),
    "fid_vid_clip": ("16f-segments-mean", "16f-stride1"),
}


@dataclass(frozen=True)
class Protocol:
    """A complete set of evaluation conventions.

    Attributes:
        name: Protocol name (``disco``, ``stylegan-v``, ``clean``).
        quantisation: How float [0, 1] frames become 0-255 values: ``round(x * 255)``.
        ssim_color: Colour handling for SSIM: OpenCV's exact uint8 grey conversion.
        ssim_window: ``uniform7`` (skimage default) or ``gaussian11`` (σ=1.5, Wang 2004).
        ssim_covariance: ``sample`` (N/(N-1), skimage default) or ``population``.
        ssim_data_range: Dynamic range of the grey values (255).
        psnr_variant: ``disco`` (float, peak 255, 100 dB if identical), ``skimage`` (inf if
            identical) or ``legacy-uint8`` (DisCo before 2024-04-10: uint8 wrap-around, buggy).
        lpips_net: LPIPS trunk (``vgg``).
        lpips_input: ``disco01`` feeds [0, 1] images unchanged, ``correct`` maps them to [-1, 1].
        l1_variant: ``disco`` = MAE on 0-255 divided by H·W; ``mae`` = MAE on [0, 1].
        fid_backend: ``pytorch-fid`` (state dict, torch bilinear resize to 299) or ``clean-fid``
            (TorchScript, PIL-bicubic float resize).
        fvd_backend: ``i3d-pt`` (state dict) or ``i3d-torchscript`` (StyleGAN-V).
        fvd_clip: ``whole-video`` (DisCo's video path), ``16f-stride1`` (DisCo's frame-folder
            path: every 16-frame window) or ``16f-consecutive`` (StyleGAN-V).
        fvd_real_offset_seed: Seed of the random real-clip offset for ``16f-consecutive``.
        fid_vid_clip: ``16f-segments-mean`` (16-frame segments, last frame repeated to pad,
            features averaged per video) or ``16f-stride1`` (every 16-frame window a sample).
    """

    name: str
    quantisation: str = "round(x*255)"
    ssim_color: str = "opencv-gray"
    ssim_window: str = "uniform7"
    ssim_covariance: str = "sample"
    ssim_data_range: int = 255
    psnr_variant: str = "disco"
    lpips_net: str = "vgg"
    lpips_input: str = "disco01"
    l1_variant: str = "disco"
    fid_backend: str = "pytorch-fid"
    fvd_backend: str = "i3d-pt"
    fvd_clip: str = "whole-video"
    fvd_real_offset_seed: int = 0
    fid_vid_clip: str = "16f-segments-mean"

    def __post_init__(self) -> None:
        for field_name, choices in _CHOICES.items():
            value = getattr(self, field_name)
            if value not in choices:
                raise InputError(f"{value!r} is not one of {', '.join(choices)}", field=field_name)

    def with_overrides(self, **overrides: Any) -> Protocol:
        """A copy with some conventions changed (``None`` values are ignored)."""
        changes = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise InputError(f"unknown protocol conventions: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Every convention, for result JSON."""
        return dataclasses.asdict(self)


PROTOCOLS: dict[str, Protocol] = {
    "disco": Protocol(name="disco"),
    "stylegan-v": Protocol(
        name="stylegan-v",
        ssim_window="gaussian11",
        ssim_covariance="population",
        psnr_variant="skimage",
        lpips_input="correct",
        l1_variant="mae",
        fid_backend="clean-fid",
        fvd_backend="i3d-torchscript",
        fvd_clip="16f-consecutive",
    ),
    "clean": Protocol(
        name="clean",
        ssim_window="gaussian11",
        ssim_covariance="population",
        psnr_variant="skimage",
        lpips_input="correct",
        l1_variant="mae",
        fid_backend="clean-fid",
    ),
}


def get_protocol(protocol: str | Protocol) -> Protocol:
    """A :class:`Protocol` by name (or passed through).

    Raises:
        InputError: Unknown name, listing the known ones.
    """
    if isinstance(protocol, Protocol):
        return protocol
    try:
        return PROTOCOLS[protocol]
    except KeyError:
        raise InputError(
            f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}", field="protocol"
        ) from None
