"""Fusion weights: positive per-position weights of one window along one axis.

Contract (also for third-party plugins, see ``hvg_sampler.testing.check_fusion_weight``)::

    def weights(length: int) -> torch.Tensor:  # shape (length,), finite, > 0

A weight may also accept any of the keyword-only arguments ``overlap_before``,
``overlap_after`` (the window's actual overlap with its neighbours on that axis) and ``sigma``
(the current noise level); the sampler passes only the ones the signature names
(:func:`evaluate_weights`).
"""

from hvg_sampler.weights._evaluate import evaluate_weights, fusion_weight_by_name
from hvg_sampler.weights.cosine import cosine_weights
from hvg_sampler.weights.flat import flat_weights
from hvg_sampler.weights.gaussian import gaussian_weights
from hvg_sampler.weights.gaussian_sigma import gaussian_sigma_weights
from hvg_sampler.weights.overlap_linear import overlap_linear_weights
from hvg_sampler.weights.pyramid import pyramid_weights
from hvg_sampler.weights.triangular import triangular_weights

__all__ = [
    "cosine_weights",
    "evaluate_weights",
    "flat_weights",
    "fusion_weight_by_name",
    "gaussian_sigma_weights",
    "gaussian_weights",
    "overlap_linear_weights",
    "pyramid_weights",
    "triangular_weights",
]
