import pytest
import torch

from hvg_bonemap import BONE_SETS, JOINT_NAMES, PARENTS, RADII_PRESETS
from hvg_bonemap.skeleton import (
    VIRTUAL_JOINTS,
    joint_positions_with_virtual,
    resolve_bones,
    resolve_radii,
)

SMPLX_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15, 20, 25, 26,
                 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38, 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21,
                 52, 53]  # fmt: skip


def test_topology_matches_smplx_kintree():
    assert len(JOINT_NAMES) == 55
    assert list(PARENTS) == SMPLX_PARENTS
    assert (
        JOINT_NAMES[15] == "head"
        and JOINT_NAMES[20] == "left_wrist"
        and JOINT_NAMES[54] == "right_thumb3"
    )
    assert all(p < i for i, p in enumerate(PARENTS))


def test_bone_sets():
    paper = BONE_SETS["paper"]
    assert len(paper) == 54
    assert {b.name for b in paper} == set(JOINT_NAMES[1:])
    for bone in paper:
        assert bone.start == JOINT_NAMES[PARENTS[JOINT_NAMES.index(bone.end)]]
    anatomical = BONE_SETS["anatomical"]
    assert len(anatomical) == 54 - 3 + 1 + 10
    assert "jaw" not in {b.name for b in anatomical}


def test_radii_paper_wrist_and_overrides():
    bones = resolve_bones("paper")
    radii = dict(zip([b.name for b in bones], resolve_radii(bones), strict=True))
    assert radii["left_wrist"] == pytest.approx(0.025)
    assert radii["right_wrist"] == pytest.approx(0.025)
    assert RADII_PRESETS["full"]["left_wrist"] > radii["left_wrist"]
    custom = resolve_radii(bones, {"left_wrist": 0.03})
    assert custom[[b.name for b in bones].index("left_wrist")] == pytest.approx(0.03)
    with pytest.raises(ValueError, match="no bone named"):
        resolve_radii(bones, {"tail": 0.1})
    with pytest.raises(ValueError, match=">= 0"):
        resolve_radii(bones, {"left_wrist": -1.0})
    with pytest.raises(ValueError, match="unknown preset"):
        resolve_radii(bones, "chubby")
    with pytest.raises(ValueError, match="unknown bone set"):
        resolve_bones("tails")


def test_virtual_joints_extrapolate():
    joints = torch.zeros(55, 3)
    idx = JOINT_NAMES.index
    joints[idx("neck")] = torch.tensor([0.0, 0.0, 0.0])
    joints[idx("head")] = torch.tensor([0.0, 0.2, 0.0])
    joints[idx("left_index2")] = torch.tensor([1.0, 0.0, 0.0])
    joints[idx("left_index3")] = torch.tensor([1.1, 0.0, 0.0])
    pos = joint_positions_with_virtual(joints, {"head_top", "left_index_tip"})
    assert torch.allclose(
        pos["head_top"], torch.tensor([0.0, 0.2 + VIRTUAL_JOINTS["head_top"].length, 0.0])
    )
    assert torch.allclose(pos["left_index_tip"], torch.tensor([1.1 + 0.08, 0.0, 0.0]))
