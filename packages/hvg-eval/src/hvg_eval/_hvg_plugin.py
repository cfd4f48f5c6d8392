"""Built-in parts of hvg-eval, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attr"`` string so that building the registry (and
``hvg-eval --help``) never imports torch.
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl

_METRICS = (
    ("fid", "hvg_eval.metrics.fid:FID", "Fréchet Inception Distance over frames (unpaired).", False, ("fid-inception-pt",)),
    ("ssim", "hvg_eval.metrics.ssim:SSIM", "SSIM per frame on OpenCV grey (skimage conventions).", True, ()),
    ("psnr", "hvg_eval.metrics.psnr:PSNR", "PSNR per frame on 0-255 values.", True, ()),
    ("lpips", "hvg_eval.metrics.lpips:LPIPS", "LPIPS-VGG v0.1 per frame.", False, ("lpips-vgg16", "lpips-lin-vgg")),
    ("l1", "hvg_eval.metrics.l1:L1", "L1 per frame (DisCo: MAE/(H·W)).", False, ()),
    ("fid-vid", "hvg_eval.metrics.fid_vid:FIDVID", "FID-VID: Fréchet distance of 3-D ResNet-50 video features.", False, ("r3d50-kinetics",)),
    ("fvd", "hvg_eval.metrics.fvd:FVD", "Fréchet Video Distance of I3D logits.", False, ("i3d-pt",)),
)  # fmt: skip

_FEATURE_NETWORKS = (
    ("fid-inception-v3", "hvg_eval.networks.fid_inception:FIDInceptionV3", "pytorch-fid's FID Inception-v3 (pool3, 2048-d).", "fid-inception-pt"),
    ("lpips-vgg", "hvg_eval.networks.lpips_vgg:LPIPSVGG", "VGG16 trunk + LPIPS v0.1 linear heads.", "lpips-vgg16"),
    ("i3d", "hvg_eval.networks.i3d:InceptionI3d", "Inception-I3D Kinetics-400 (FVD).", "i3d-pt"),
    ("resnet3d-50", "hvg_eval.networks.resnet3d:ResNet3D50", "3-D ResNet-50 Kinetics, shortcut B (FID-VID).", "r3d50-kinetics"),
)  # fmt: skip


@hookimpl
def hvg_register_metrics(register: Register) -> None:
    """Register the seven metrics of the paper's tables, in table order."""
    for name, target, description, higher_is_better, weights in _METRICS:
        register(
            name,
            target,
            description=description,
            higher_is_better=higher_is_better,
            requires_weights=list(weights),
            builtin=True,
        )


@hookimpl
def hvg_register_feature_networks(register: Register) -> None:
    """Register the plain-torch feature networks."""
    for name, target, description, weights in _FEATURE_NETWORKS:
        register(name, target, description=description, weights=weights)
