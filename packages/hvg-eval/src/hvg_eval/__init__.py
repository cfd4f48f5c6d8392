"""hvg-eval: FID, FVD, FID-VID, LPIPS, SSIM, PSNR and L1 as the field's references compute them.

Public API (imported on first use: ``import hvg_eval`` imports neither torch nor a network)::

    import hvg_eval

    hvg_eval.list_metrics()                         # registered metrics, with descriptions
    hvg_eval.compute_metric("psnr", real, fake)     # tensors (B, V, T, 3, H, W) in [0, 1]
    hvg_eval.compute_metric("fid", "gt/", "gen/")   # frame folders, videos or HDF5 shards
    hvg_eval.evaluate(["fid", "ssim"], "gt/", "gen/")  # the full result document
    fid = hvg_eval.FID(protocol="disco")            # streaming: update(real, fake), compute()
    net, records = hvg_eval.load_feature_network("i3d", metric="FVD")  # reference weights

The pieces: streaming metric classes and functional twins (:mod:`hvg_eval.metrics`), the
``disco`` / ``stylegan-v`` / ``clean`` protocols (:mod:`hvg_eval.protocols`), the weight-file
registry and search path, never downloading (:mod:`hvg_eval.weights`), feature networks found
through the ``feature_networks`` registry kind (:mod:`hvg_eval.networks`), files on disk to
results (:mod:`hvg_eval.evaluate`), and the metric contract check for plugin authors
(:mod:`hvg_eval.testing`).
"""

from hvg_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "compute_metric": "hvg_eval.api",
        "list_metrics": "hvg_eval.api",
        "evaluate": "hvg_eval.evaluate",
        "build_metric": "hvg_eval.evaluate",
        "Protocol": "hvg_eval.protocols",
        "get_protocol": "hvg_eval.protocols",
        "PROTOCOLS": "hvg_eval.protocols",
        "FID": "hvg_eval.metrics.fid",
        "FVD": "hvg_eval.metrics.fvd",
        "FIDVID": "hvg_eval.metrics.fid_vid",
        "LPIPS": "hvg_eval.metrics.lpips",
        "SSIM": "hvg_eval.metrics.ssim",
        "PSNR": "hvg_eval.metrics.psnr",
        "L1": "hvg_eval.metrics.l1",
        "ssim": "hvg_eval.metrics.ssim",
        "psnr": "hvg_eval.metrics.psnr",
        "l1": "hvg_eval.metrics.l1",
        "lpips": "hvg_eval.metrics.lpips",
        "load_feature_network": "hvg_eval.networks",
        "feature_network_names": "hvg_eval.networks",
        "WEIGHT_FILES": "hvg_eval.weights.registry",
        "find_weight_file": "hvg_eval.weights.registry",
        "search_directories": "hvg_eval.weights.registry",
    },
)
