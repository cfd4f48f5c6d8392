"""hvg-eval: FID, FVD, FID-VID, LPIPS, SSIM, PSNR and L1 as the field's references compute them.

Importing the package is cheap (no torch). The pieces live in their own modules:

- metrics: :mod:`hvg_eval.metrics.fid`, ``.fvd``, ``.fid_vid``, ``.lpips``, ``.ssim``, ``.psnr``,
  ``.l1`` — streaming classes (``update``/``compute``/``reset``) and functional twins;
- :mod:`hvg_eval.protocols` — the ``disco`` (default), ``stylegan-v`` and ``clean`` conventions;
- :mod:`hvg_eval.weights` — the weight-file registry, search path and checksums (no downloads);
- :mod:`hvg_eval.networks` — feature networks in plain torch;
- :mod:`hvg_eval.inputs` and :func:`hvg_eval.evaluate.evaluate` — files on disk to results;
- :mod:`hvg_eval.testing` — the metric contract check for plugin authors.
"""

__all__: list[str] = []
