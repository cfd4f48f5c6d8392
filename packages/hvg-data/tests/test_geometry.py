from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hvg_data.body import apply_world_transform, posed_joints
from hvg_data.crop import crop_intrinsics, pick_cameras_around, project
from hvg_data.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hvg_data.synthetic_person import random_pose_params

vectors = arrays(np.float64, 3, elements=st.floats(-3.0, 3.0))


@settings(max_examples=60, deadline=None)
@given(vectors)
def test_axis_angle_round_trip(vector):
    matrix = axis_angle_to_matrix(vector)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(matrix) == pytest.approx(1.0)
    np.testing.assert_allclose(
        axis_angle_to_matrix(matrix_to_axis_angle(matrix)), matrix, atol=1e-6
    )


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (5, 3), elements=st.floats(-1, 1)),
    st.floats(10, 400),
    st.floats(10, 400),
    st.floats(5, 300),
    st.integers(8, 600),
)
def test_crop_intrinsics_equal_crop_then_resize(points, x0, y0, side, size):
    K = np.array([[[600.0, 0, 320], [0, 610, 250], [0, 0, 1]]])
    R, t = np.eye(3)[None], np.array([[0.0, 0.0, 4.0]])
    box = np.array([[x0, y0, x0 + side, y0 + side]])
    before, _ = project(K, R, t, points)
    after, _ = project(crop_intrinsics(K, box, size), R, t, points)
    np.testing.assert_allclose(after[0], (before[0] - [x0, y0]) * size / side, rtol=1e-9, atol=1e-7)


def test_world_transform_order():
    params = random_pose_params(np.random.default_rng(0))
    import dataclasses

    params = dataclasses.replace(
        params,
        scale=np.array([2.0], np.float32),
        world_rotation=np.array([[0.0, np.pi / 2, 0.0]], np.float32),
        world_translation=np.array([[1.0, 0.0, 0.0]], np.float32),
        pelvis_to_origin=True,
    )
    joints = np.zeros((1, 2, 3))
    joints[0, 1] = [1.0, 0.0, 0.0]
    out = apply_world_transform(params, joints)
    # pelvis -> origin, rotate +90 degrees about y (x -> -z), scale 2, then translate.
    np.testing.assert_allclose(out[0], [[1.0, 0, 0], [1.0, 0, -2.0]], atol=1e-6)


def test_builtin_body_warns_about_pca_hands():
    params = random_pose_params(np.random.default_rng(1), hand_pca_components=12)
    import dataclasses

    flat = posed_joints(params)
    curled = dataclasses.replace(params, left_hand_pose=np.ones((1, 12), np.float32))
    with pytest.warns(UserWarning, match="no hand PCA basis"):
        joints = posed_joints(curled)
    np.testing.assert_allclose(joints, flat)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        posed_joints(params)  # zero PCA coefficients: nothing to warn about


def test_cameras_are_picked_evenly_from_the_front():
    angles = np.radians(np.arange(0, 360, 30))  # 12 cameras on a ring, world Y up
    Rs, ts = [], []
    for angle in angles:
        eye = 3 * np.array([np.sin(angle), 0.0, np.cos(angle)])
        z = -eye / 3
        x = np.cross(z, [0.0, 1.0, 0.0])
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        Rs.append(R)
        ts.append(-R @ eye)
    # The body faces +x (yaw +90 degrees): the front camera is the one at 90 degrees.
    chosen = pick_cameras_around(
        np.stack(Rs), np.stack(ts), np.zeros(3), np.array([0.0, np.pi / 2, 0.0]), 4
    )
    assert chosen.tolist() == [3, 6, 9, 0]
