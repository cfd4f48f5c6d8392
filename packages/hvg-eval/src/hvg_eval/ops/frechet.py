"""Fréchet distance between Gaussians and streaming feature statistics (float64 throughout).

FID, FID-VID and FVD all reduce to ``‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)``. The square root
follows pytorch-fid / DisCo / StyleGAN-V: ``scipy.linalg.sqrtm`` of ``Σ1 Σ2``, retried with
``1e-6 I`` added to both covariances when not finite, real part kept when the imaginary diagonal
is below 1e-3. Statistics are float64 because float32 accumulation moves FD in the 5th digit
(research/metrics.md §4.13).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from hvg_core.errors import HVGError


@dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance of a feature set.

    Attributes:
        mean: float64 ``(D,)``.
        cov: float64 ``(D, D)``, sample covariance (``ddof=1``, as ``np.cov(rowvar=False)``).
        count: Number of feature vectors ``N``.
    """

    mean: np.ndarray
    cov: np.ndarray
    count: int


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    # scipy >= 1.16 deprecates ``disp``; its removal is scheduled for 1.18. The references pass
    # disp=False, which silences the singular-matrix warning: the result is checked below
    # (finite, small imaginary part) and rank deficiency is recorded with the result instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        return scipy.linalg.sqrtm(matrix)  # pyright: ignore[reportReturnType] (an array here)


def frechet_distance(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between ``N(mean1, cov1)`` and ``N(mean2, cov2)``.

    Args:
        mean1: ``(D,)`` mean of the first set (upcast to float64).
        cov1: ``(D, D)`` covariance of the first set.
        mean2: ``(D,)`` mean of the second set.
        cov2: ``(D, D)`` covariance of the second set.
        eps: Diagonal offset used only when ``cov1 @ cov2`` is numerically singular.

    Returns:
        The squared Fréchet distance (what the field calls FID/FVD).

    Raises:
        ValueError: Mismatched shapes.
        HVGError: The square root has a large imaginary part (broken statistics).
    """
    mu1 = np.atleast_1d(np.asarray(mean1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mean2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(cov1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(cov2, dtype=np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ValueError(f"means must both be (D,); got {mu1.shape} and {mu2.shape}")
    dims = mu1.shape[0]
    if sigma1.shape != (dims, dims) or sigma2.shape != (dims, dims):
        raise ValueError(
            f"covariances must be ({dims}, {dims}); got {sigma1.shape} and {sigma2.shape}"
        )
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(dims) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise HVGError(
                "Fréchet distance: the matrix square root has an imaginary component of "
                f"{np.max(np.abs(covmean.imag)):.3g}; the feature statistics are degenerate"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance_from_stats(first: GaussianStats, second: GaussianStats) -> float:
    """:func:`frechet_distance` of two :class:`GaussianStats`."""
    return frechet_distance(first.mean, first.cov, second.mean, second.cov)


class StreamingGaussian:
    """Running float64 mean and covariance of feature vectors, memory ``O(D²)``.

    Sums are taken around a shift (the first batch's mean) so that the one-pass formula keeps
    the accuracy of ``np.cov``'s two-pass one when features have a large common offset.

    Args:
        dims: Feature dimension ``D``.
    """

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.reset()

    def reset(self) -> None:
        """Forget every feature seen."""
        self.count = 0
        self._shift: np.ndarray | None = None
        self._sum = np.zeros(self.dims, dtype=np.float64)
        self._outer = np.zeros((self.dims, self.dims), dtype=np.float64)

    def update(self, features: np.ndarray) -> None:
        """Add feature vectors.

        Args:
            features: ``(N, D)`` array (any float dtype; accumulated in float64).
        """
        batch = np.asarray(features, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != self.dims:
            raise ValueError(f"features must be (N, {self.dims}); got {batch.shape}")
        if batch.shape[0] == 0:
            return
        if self._shift is None:
            self._shift = batch.mean(axis=0)
        centred = batch - self._shift
        self._sum += centred.sum(axis=0)
        self._outer += centred.T @ centred
        self.count += batch.shape[0]

    def stats(self) -> GaussianStats:
        """Mean and sample covariance of everything seen.

        Raises:
            HVGError: Fewer than two feature vectors (the covariance is undefined).
        """
        if self.count < 2 or self._shift is None:
            raise HVGError(f"a Fréchet distance needs at least 2 samples per set; got {self.count}")
        centred_mean = self._sum / self.count
        cov = (self._outer - self.count * np.outer(centred_mean, centred_mean)) / (self.count - 1)
        return GaussianStats(mean=centred_mean + self._shift, cov=cov, count=self.count)
