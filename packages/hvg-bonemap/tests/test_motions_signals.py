import numpy as np
import pytest
import torch

from hvg_bonemap import (
    BoneMapInputError,
    ellipsoids_from_joints,
    joints_from_smplx_params,
    orbit_cameras,
    render,
)
from hvg_bonemap.meshes import icosphere
from hvg_bonemap.motions import MOTIONS, arm_raise, load_motion, turn, walk
from hvg_bonemap.signals import (
    BodyNormalSignal,
    BoneMapSignal,
    DepthSignal,
    NormalSignal,
    Skeleton2DSignal,
)
from hvg_bonemap.signals.body_normal import render_mesh_normals
from hvg_bonemap.skeleton import JOINT_INDEX


@pytest.mark.parametrize("name", sorted(MOTIONS))
def test_motions_are_valid_smplx_sequences(name):
    params = MOTIONS[name](10)
    assert params["body_pose"].shape == (10, 63) and params["transl"].shape == (10, 3)
    joints = joints_from_smplx_params(params)
    assert joints.shape == (10, 55, 3) and torch.isfinite(joints).all()
    feet = joints[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]], 1]
    assert (feet < joints[:, :1, 1]).all()  # feet stay below the pelvis


def test_motion_semantics():
    joints = joints_from_smplx_params(walk(24))
    lz = joints[:, JOINT_INDEX["left_ankle"], 2] - joints[:, 0, 2]
    rz = joints[:, JOINT_INDEX["right_ankle"], 2] - joints[:, 0, 2]
    assert (
        lz.max() > 0.15
        and lz.min() < -0.15
        and float(torch.corrcoef(torch.stack([lz, rz]))[0, 1]) < -0.9
    )
    head = joints_from_smplx_params(turn(4, degrees=180.0))[:, JOINT_INDEX["left_hip"], 0]
    assert head[0] > 0 and head[2] < 0  # after a half turn the left hip is on the other side
    raised = joints_from_smplx_params(arm_raise(8))
    assert raised[4, JOINT_INDEX["left_wrist"], 1] > raised[4, JOINT_INDEX["head"], 1]
    assert raised[0, JOINT_INDEX["left_wrist"], 1] < raised[0, JOINT_INDEX["spine2"], 1]


def test_load_motion_formats(tmp_path):
    params = walk(5)
    path = tmp_path / "walk.npz"
    np.savez(path, **{k: v.numpy() for k, v in params.items()}, gender=np.array("neutral"))
    loaded = load_motion(path)
    assert torch.allclose(joints_from_smplx_params(loaded), joints_from_smplx_params(params))
    amass = tmp_path / "amass.npz"
    poses = np.concatenate([params[k].numpy() for k in ("global_orient", "body_pose", "jaw_pose", "leye_pose",
                                                         "reye_pose", "left_hand_pose", "right_hand_pose")], 1)  # fmt: skip
    np.savez(amass, poses=poses, trans=params["transl"].numpy(), mocap_frame_rate=30.0)
    assert torch.allclose(
        joints_from_smplx_params(load_motion(amass)), joints_from_smplx_params(params), atol=1e-6
    )
    bad = tmp_path / "bad.npz"
    np.savez(bad, poses=np.zeros((4, 72)))
    with pytest.raises(BoneMapInputError, match=r"bad.npz: field 'poses'"):
        load_motion(bad)
    with pytest.raises(BoneMapInputError, match="cannot read"):
        load_motion(tmp_path / "missing.npz")


def test_bonemap_signals_channels_and_ranges():
    joints = joints_from_smplx_params(walk(2))
    cams = orbit_cameras(3, width=48, height=48, target=(0.0, -0.3, 0.0))[:, None]
    full = BoneMapSignal()(joints, cams)
    assert full.shape == (3, 2, 4, 48, 48) and full.min() >= 0 and full.max() <= 1
    maps = render(ellipsoids_from_joints(joints), cams)
    assert torch.equal(full[:, :, 0] > 0, maps.mask)
    assert torch.equal(DepthSignal()(joints, cams), full[:, :, :1])
    assert torch.equal(NormalSignal()(joints, cams), full[:, :, 1:])
    # Nearer surfaces get brighter codes.
    near = maps.depth < maps.depth[maps.mask].median()
    assert full[:, :, 0][near & maps.mask].mean() > full[:, :, 0][~near & maps.mask].mean()


def test_skeleton2d_draws_bones_where_they_project():
    joints = joints_from_smplx_params()
    cams = orbit_cameras(1, width=96, height=96, target=(0.0, -0.3, 0.0))
    image = Skeleton2DSignal(width_px=12.0)(joints, cams)
    assert image.shape == (1, 3, 96, 96) and image.max() <= 1
    uv, _ = cams.project(joints[None, [JOINT_INDEX["left_knee"], JOINT_INDEX["spine2"]]])
    for u, v in uv[0]:
        assert image[0, :, int(v), int(u)].sum() > 0
    assert image[0, :, 2, 2].sum() == 0


def test_body_normal_signal_matches_sphere():
    vertices, faces = icosphere(4)
    centre = torch.tensor([0.1, 0.0, 0.0], dtype=torch.float64)
    cams = orbit_cameras(2, distance=2.5, width=64, height=64, dtype=torch.float64)
    normal, mask = render_mesh_normals(
        torch.tensor(vertices) * 0.5 + centre, torch.tensor(faces), cams
    )
    from hvg_bonemap import Ellipsoids

    exact = render(
        Ellipsoids(centre[None].float(), torch.eye(3)[None], torch.full((1, 3), 0.5)), cams
    )
    both = mask & exact.mask
    assert both.sum() / (mask | exact.mask).sum() > 0.98
    angle = torch.rad2deg(torch.acos((normal * exact.normal).sum(1)[both].clamp(-1, 1)))
    assert angle.max() < 3.0
    signal = BodyNormalSignal(torch.tensor(faces))(torch.tensor(vertices) * 0.5 + centre, cams)
    assert signal.shape == (2, 3, 64, 64) and signal.min() >= 0 and signal.max() <= 1
    with pytest.raises(BoneMapInputError, match="faces"):
        render_mesh_normals(torch.zeros(3, 3), torch.tensor([[0, 1, 5]]), cams)
