import numpy as np
import pytest
import scipy.linalg
from hvg_core.errors import HVGError

from hvg_eval.metrics.fid import fid_from_features
from hvg_eval.ops.frechet import StreamingGaussian, frechet_distance


def _eigh_reference(mu1, s1, mu2, s2):
    # Tr sqrt(S1 S2) = Tr sqrt(sqrt(S1) S2 sqrt(S1)), a symmetric PSD matrix: use eigh.
    values, vectors = np.linalg.eigh(s1)
    root = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    inner = np.linalg.eigvalsh(root @ s2 @ root)
    return float(
        ((mu1 - mu2) ** 2).sum()
        + np.trace(s1)
        + np.trace(s2)
        - 2 * np.sqrt(np.clip(inner, 0, None)).sum()
    )


def _scipy_reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 6))
    cov = a.T @ a / 50
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    assert frechet_distance(mu1, cov, mu2, cov) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-8)


def test_diagonal_covariances_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 3, 8), rng.uniform(0.1, 3, 8)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_one_dimensional_symmetric_and_translation_invariant():
    assert frechet_distance([1.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(4 + (2 - 1) ** 2)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 5)), rng.normal(1, 2, size=(300, 5))
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    forward = frechet_distance(x.mean(0), s1, y.mean(0), s2)
    assert frechet_distance(y.mean(0), s2, x.mean(0), s1) == pytest.approx(forward, rel=1e-9)
    shift = rng.normal(size=5)
    assert frechet_distance(x.mean(0) + shift, s1, y.mean(0) + shift, s2) == pytest.approx(
        forward, rel=1e-9
    )


@pytest.mark.parametrize(("samples", "dims"), [(2000, 64), (256, 100), (12, 40)])
def test_agrees_with_scipy_eigh_and_pytorch_fid(samples, dims):
    rng = np.random.default_rng(samples + dims)
    x = rng.normal(size=(samples, dims))
    y = rng.normal(0.2, 1.3, size=(samples, dims)) + 0.3 * x
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(_scipy_reference(mu1, s1, mu2, s2), rel=1e-6)
    assert ours == pytest.approx(_eigh_reference(mu1, s1, mu2, s2), rel=1e-6)
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    with pytest.warns(DeprecationWarning):  # pytorch-fid passes scipy's deprecated ``disp``
        reference = fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(reference, rel=1e-9)


def test_streaming_statistics_equal_numpy_two_pass_and_are_float64():
    rng = np.random.default_rng(3)
    features = (rng.normal(size=(500, 16)) + 1e4).astype(np.float32)
    stream = StreamingGaussian(16)
    for chunk in np.array_split(features, 7):
        stream.update(chunk)
    stats = stream.stats()
    assert stats.mean.dtype == np.float64 and stats.cov.dtype == np.float64 and stats.count == 500
    np.testing.assert_allclose(stats.mean, features.astype(np.float64).mean(0), rtol=1e-13)
    np.testing.assert_allclose(
        stats.cov, np.cov(features.astype(np.float64), rowvar=False), rtol=1e-9, atol=1e-12
    )


def test_order_invariance_of_the_feature_statistics():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(200, 8)), rng.normal(0.5, 1, size=(150, 8))
    reference = fid_from_features(real, fake)
    shuffled = fid_from_features(real[rng.permutation(200)], fake[rng.permutation(150)])
    assert shuffled == pytest.approx(reference, rel=1e-10)
    streams = [StreamingGaussian(8), StreamingGaussian(8)]
    for chunk in np.array_split(real[::-1], 3):
        streams[0].update(chunk)
    streams[1].update(fake)
    a, b = streams[0].stats(), streams[1].stats()
    assert frechet_distance(a.mean, a.cov, b.mean, b.cov) == pytest.approx(reference, rel=1e-9)
    assert fid_from_features(real, real) == pytest.approx(0.0, abs=1e-8)


def test_too_few_samples_and_bad_shapes_are_explained():
    stream = StreamingGaussian(3)
    stream.update(np.zeros((1, 3)))
    with pytest.raises(HVGError, match="at least 2 samples"):
        stream.stats()
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        stream.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
