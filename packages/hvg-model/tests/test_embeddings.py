from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_model.embeddings import CameraEmbedding, relative_rotations, sinusoidal_encoding


def _rotation(axis_angle: torch.Tensor) -> torch.Tensor:
    x, y, z = axis_angle
    skew = torch.tensor([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]], dtype=torch.float64)
    return torch.linalg.matrix_exp(skew)


angles = st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3)


@settings(max_examples=30, deadline=None)
@given(views=st.lists(angles, min_size=1, max_size=4), world=angles)
def test_relative_rotations_ignore_a_global_world_rotation(views, world):
    rotations = torch.stack([_rotation(torch.tensor(a)) for a in views])[None]
    q = _rotation(torch.tensor(world))
    relative = relative_rotations(rotations)
    torch.testing.assert_close(relative[:, 0], torch.eye(3, dtype=torch.float64)[None])
    # Rotating the world (and the cameras with it: R_v → R_v Q) changes no relative rotation.
    torch.testing.assert_close(relative_rotations(rotations @ q), relative)


def test_relative_rotation_maps_camera_zero_to_camera_v():
    r0, r1 = _rotation(torch.tensor([0.0, 0.5, 0.0])), _rotation(torch.tensor([0.2, -1.0, 0.3]))
    point = torch.tensor([0.3, -0.2, 1.5], dtype=torch.float64)
    relative = relative_rotations(torch.stack([r0, r1])[None])[0, 1]
    torch.testing.assert_close(relative @ (r0 @ point), r1 @ point)


def test_sinusoidal_encoding_values():
    encoded = sinusoidal_encoding(torch.tensor([[0.25]]), 2)
    expected = torch.tensor(
        [[math.sin(math.pi / 4), math.sin(math.pi / 2), math.cos(math.pi / 4), 0.0]]
    )
    torch.testing.assert_close(encoded, expected, atol=1e-6, rtol=0)


def test_camera_embedding_is_zero_at_init_and_distinguishes_views_after():
    embedding = CameraEmbedding(64, 4)
    rotations = torch.stack([torch.eye(3), _rotation(torch.tensor([0.0, 1.0, 0.0])).float()])
    assert torch.equal(embedding(rotations), torch.zeros(2, 64))
    torch.nn.init.normal_(embedding.linear.weight)
    out = embedding(rotations)
    assert out.shape == (2, 64) and not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="3, 3"):
        embedding(torch.zeros(2, 9))
