import pytest
import torch
from hvg_core.errors import HVGError
from hvg_core.registry import get_registry

from hvg_sampler.testing import FusionWeightContract, check_fusion_weight
from hvg_sampler.weights import (
    cosine_weights,
    evaluate_weights,
    flat_weights,
    gaussian_weights,
    overlap_linear_weights,
    pyramid_weights,
    triangular_weights,
)

BUILTINS = [
    "flat",
    "pyramid",
    "triangular",
    "gaussian",
    "gaussian-sigma",
    "cosine",
    "overlap-linear",
]


def test_builtins_registered():
    assert set(BUILTINS) <= set(get_registry().names("fusion_weights"))


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("length", [1, 2, 3, 5, 6, 7, 24, 25])
def test_length_positive_symmetric(name, length):
    # research §8 #5/#6: odd lengths gave L+1 weights in ADE and diffusers.
    values = evaluate_weights(get_registry().load("fusion_weights", name), length)
    assert values.shape == (length,)
    assert bool((values > 0).all())
    assert torch.allclose(values, values.flip(0), rtol=0, atol=1e-12)


def test_pyramid_values():
    assert pyramid_weights(5).tolist() == [1, 2, 3, 2, 1]
    assert pyramid_weights(6).tolist() == [1, 2, 3, 3, 2, 1]


def test_triangular_is_mimicmotion_formula():
    for length in (5, 16, 72):
        k = torch.arange(length, dtype=torch.float64)
        mimic = torch.minimum((k + 0.5) * 2 / length, 2 - (k + 0.5) * 2 / length)
        assert torch.allclose(triangular_weights(length), mimic, rtol=0, atol=1e-15)
        alt = (2 * pyramid_weights(length) - 1) / length
        assert torch.allclose(triangular_weights(length), alt, rtol=0, atol=1e-15)


def test_cosine_and_gaussian_values():
    assert torch.allclose(cosine_weights(2), torch.full((2,), 2**-0.5, dtype=torch.float64))
    # length 3: std = 0.75, positions -1, 0, 1
    edge = torch.exp(torch.tensor(-0.5 / 0.75**2, dtype=torch.float64))
    assert torch.allclose(
        gaussian_weights(3), torch.stack([edge, torch.ones((), dtype=torch.float64), edge])
    )
    assert flat_weights(4).tolist() == [1, 1, 1, 1]


def test_overlap_linear_crossfade_sums_to_one():
    a = overlap_linear_weights(8, overlap_before=0, overlap_after=3)
    b = overlap_linear_weights(8, overlap_before=3, overlap_after=0)
    assert torch.allclose(a[-3:] + b[:3], torch.ones(3, dtype=torch.float64))
    assert a[:5].tolist() == [1] * 5
    assert bool((a > 0).all())


def test_overlap_linear_receives_actual_overlaps():
    from hvg_sampler.plan import _neighbour_overlaps

    assert _neighbour_overlaps(((0, 1, 2, 3), (2, 3, 4, 5), (3, 4, 5, 6)), False) == [
        (0, 2),
        (2, 3),
        (3, 0),
    ]
    assert _neighbour_overlaps(((0, 1, 2), (2, 3, 0)), True) == [(2, 2), (2, 2)]


class TestPyramidContract(FusionWeightContract):
    weight = staticmethod(pyramid_weights)


class TestOverlapLinearContract(FusionWeightContract):
    weight = staticmethod(overlap_linear_weights)


def test_contract_catches_odd_length_bug():
    def sawtooth(length):  # ADE's delayed_reverse_sawtooth shape bug: L+1 values for odd L
        m = (length + 1) // 2
        return torch.tensor([0.01] * m + list(range(m, 0, -1)), dtype=torch.float64)[
            : length + (length % 2)
        ]

    with pytest.raises(HVGError, match="shape"):
        check_fusion_weight(sawtooth)


def test_contract_catches_zero_weight():
    with pytest.raises(HVGError, match="non-positive"):
        check_fusion_weight(lambda length: torch.zeros(length))


def test_sigma_keyword_passed_only_when_declared():
    seen = {}

    def weight(length, *, sigma=None):
        seen["sigma"] = sigma
        return torch.ones(length)

    evaluate_weights(weight, 3, sigma=2.5)
    assert seen["sigma"] == 2.5
    evaluate_weights(lambda length: torch.ones(length), 3, sigma=2.5, overlap_before=1)


def test_gaussian_sigma_widens_with_noise():
    from hvg_sampler.weights import gaussian_sigma_weights

    late = gaussian_sigma_weights(9, sigma=0.0)
    early = gaussian_sigma_weights(9, sigma=100.0)
    assert float(late[0] / late[4]) < float(early[0] / early[4])
    assert torch.equal(early, gaussian_sigma_weights(9, sigma=4.0))  # ADE clamps σ at 4
    assert torch.equal(gaussian_sigma_weights(9), early)
    assert float(late[0]) == pytest.approx(float(torch.exp(torch.tensor(-0.5 * 16.0))))


def test_sigma_dependent_weight_changes_fusion_by_step():
    from hvg_sampler import build_sampler
    from hvg_sampler.testing import WindowMeanDenoiser

    sampler = build_sampler(
        "temporal",
        frame_window=6,
        frame_overlap=3,
        fusion_weight="gaussian-sigma",
        max_guidance_scale=1.0,
    )
    x = torch.randn(1, 2, 15, 1, 2, 2)
    high = sampler.predict(WindowMeanDenoiser(), x, 50.0)
    low = sampler.predict(WindowMeanDenoiser(), x, 0.01)
    assert not torch.allclose(high, low)
    assert torch.allclose(sampler.predict(WindowMeanDenoiser(), x, 50.0), high)
