import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_bonemap.rotations import axis_angle_to_matrix, matrix_to_axis_angle, rotation_aligning

vec = st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=3, max_size=3)


def test_axis_angle_closed_form():
    rot = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    expected = torch.tensor(
        [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64
    )
    assert torch.allclose(rot, expected, atol=1e-15)
    assert torch.equal(axis_angle_to_matrix(torch.zeros(2, 3)), torch.eye(3).expand(2, 3, 3))


@settings(max_examples=60, deadline=None)
@given(vec)
def test_axis_angle_roundtrip_and_orthonormal(v):
    aa = torch.tensor(v, dtype=torch.float64)
    rot = axis_angle_to_matrix(aa)
    assert torch.allclose(rot @ rot.T, torch.eye(3, dtype=torch.float64), atol=1e-12)
    assert abs(torch.linalg.det(rot).item() - 1.0) < 1e-12
    if aa.norm() < math.pi - 1e-3:
        assert torch.allclose(matrix_to_axis_angle(rot), aa, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(vec, vec)
def test_rotation_aligning_maps_source_to_target(a, b):
    src = torch.tensor(a, dtype=torch.float64)
    dst = torch.tensor(b, dtype=torch.float64)
    rot = rotation_aligning(src, dst)
    assert torch.allclose(rot @ rot.T, torch.eye(3, dtype=torch.float64), atol=1e-10)
    assert abs(torch.linalg.det(rot).item() - 1.0) < 1e-10
    if src.norm() > 1e-6 and dst.norm() > 1e-6:
        assert torch.allclose(rot @ (src / src.norm()), dst / dst.norm(), atol=1e-9)


def test_rotation_aligning_parallel_antiparallel_zero():
    up = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    targets = torch.tensor(
        [[0.0, 2.0, 0.0], [0.0, -3.0, 0.0], [0.0, 0.0, 0.0], [1e-12, -1.0, 0.0]],
        dtype=torch.float64,
    )
    rots = rotation_aligning(up.expand(4, 3), targets)
    assert torch.allclose(rots[0], torch.eye(3, dtype=torch.float64))
    assert torch.allclose(rots[1] @ up, -up)
    assert torch.allclose(rots[2], torch.eye(3, dtype=torch.float64))
    assert torch.allclose(
        rots[3] @ up, torch.tensor([1e-12, -1.0, 0.0], dtype=torch.float64), atol=1e-12
    )
    for r in rots:
        assert abs(torch.linalg.det(r).item() - 1.0) < 1e-12
