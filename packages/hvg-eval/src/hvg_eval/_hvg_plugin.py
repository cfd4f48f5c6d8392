"""Built-in parts of hvg-eval, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attr"`` string so that building the registry (and
``hvg-eval --help``) never imports torch. The tables list parts only: a metric's ``name``,
``description``, ``higher_is_better`` and ``requires_weights`` are read from its class, a feature
network's description from its docstring (docs/plugins.md).
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl

#: The seven metrics of the paper's tables, in table order.
METRICS = (
    "hvg_eval.metrics.fid:FID",
    "hvg_eval.metrics.ssim:SSIM",
    "hvg_eval.metrics.psnr:PSNR",
    "hvg_eval.metrics.lpips:LPIPS",
    "hvg_eval.metrics.l1:L1",
    "hvg_eval.metrics.fid_vid:FIDVID",
    "hvg_eval.metrics.fvd:FVD",
)

#: Registry name -> (network, weight files it loads). A weight file is a weight-registry name
#: loaded into the whole network, or ``{"file", "module", "keep_prefix"}`` for a submodule.
FEATURE_NETWORKS = {
    "fid-inception-v3": ("hvg_eval.networks.fid_inception:FIDInceptionV3", ["fid-inception-pt"]),
    "lpips-vgg": (
        "hvg_eval.networks.lpips_vgg:LPIPSVGG",
        [
            {"file": "lpips-vgg16", "module": "trunk", "keep_prefix": "features."},
            {"file": "lpips-lin-vgg", "module": "heads"},
        ],
    ),
    "i3d": ("hvg_eval.networks.i3d:InceptionI3d", ["i3d-pt"]),
    "resnet3d-50": ("hvg_eval.networks.resnet3d:ResNet3D50", ["r3d50-kinetics"]),
}


@hookimpl
def hvg_register_metrics(register: Register) -> None:
    """Register the seven metrics of the paper's tables, in table order."""
    for metric in METRICS:
        register(metric, builtin=True)


@hookimpl
def hvg_register_feature_networks(register: Register) -> None:
    """Register the plain-torch feature networks with the weight files they load."""
    for name, (network, weights) in FEATURE_NETWORKS.items():
        register(name, network, weights=weights)
