"""The real SMPL-X path, on a synthetic model file with the real file's structure."""

import numpy as np
import pytest
import torch

from hvg_bonemap import BoneMapInputError, HandPCA, joints_from_smplx_params
from hvg_bonemap.testing import write_synthetic_smplx_model

smplx = pytest.importorskip("smplx")

from hvg_bonemap.bodies.smplx_body import MissingModelFileError, SMPLXBody  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("smplx_models")
    write_synthetic_smplx_model(root / "smplx" / "SMPLX_NEUTRAL.npz")
    return root


def random_params(batch, hand_dim, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {
        "global_orient": 0.3 * torch.randn(batch, 3, generator=gen),
        "body_pose": 0.3 * torch.randn(batch, 63, generator=gen),
        "left_hand_pose": 0.3 * torch.randn(batch, hand_dim, generator=gen),
        "right_hand_pose": 0.3 * torch.randn(batch, hand_dim, generator=gen),
        "jaw_pose": 0.1 * torch.randn(batch, 3, generator=gen),
        "transl": torch.randn(batch, 3, generator=gen),
        "betas": torch.zeros(batch, 10),
    }


def test_builtin_kinematics_equal_smplx_with_the_models_rest_joints(model_dir):
    body = SMPLXBody(model_dir)  # finds <dir>/smplx/SMPLX_NEUTRAL.npz like smplx.create
    params = random_params(2, 12)  # THuman-style 12-D PCA hands
    joints = body(params)
    assert joints.shape == (2, 55, 3)
    data = np.load(model_dir / "smplx" / "SMPLX_NEUTRAL.npz")
    rest = torch.tensor(data["J_regressor"] @ data["v_template"])
    ours = joints_from_smplx_params(
        params,
        rest=rest,
        left_hand_pca=HandPCA(
            torch.tensor(data["hands_componentsl"]), torch.tensor(data["hands_meanl"])
        ),
        right_hand_pca=HandPCA(
            torch.tensor(data["hands_componentsr"]), torch.tensor(data["hands_meanr"])
        ),
    )
    assert (ours - joints.double()).abs().max() < 1e-5


def test_axis_angle_hands_scale_translation_and_vertices(model_dir):
    body = SMPLXBody(model_dir / "smplx" / "SMPLX_NEUTRAL.npz", flat_hand_mean=True)
    params = random_params(3, 45, seed=1)
    joints, vertices = body.run(params)
    assert vertices.shape == (3, 10475, 3)
    thuman = body(params, scale=torch.tensor([[0.45]]), translation=np.array([0.1, 0.2, 0.3]))
    assert torch.allclose(thuman, joints * 0.45 + torch.tensor([0.1, 0.2, 0.3]), atol=1e-5)
    assert body.faces.shape == (400, 3)


def test_missing_and_unsafe_model_files(tmp_path, model_dir):
    with pytest.raises(MissingModelFileError, match=r"SMPLX_NEUTRAL\.npz not found"):
        SMPLXBody(tmp_path)
    bad = tmp_path / "SMPLX_MALE.npz"
    data = dict(np.load(model_dir / "smplx" / "SMPLX_NEUTRAL.npz"))
    data["J_regressor"] = np.array([{"evil": 1}], dtype=object)
    np.savez(bad, **data)
    with pytest.raises(BoneMapInputError, match="J_regressor"):
        SMPLXBody(tmp_path, gender="male")
