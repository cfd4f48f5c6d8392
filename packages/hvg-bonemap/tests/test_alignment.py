import pytest
import torch

from hvg_bonemap import (
    BoneMapInputError,
    crop_cameras,
    crop_images,
    ellipsoids_from_joints,
    joints_from_smplx_params,
    mask_boxes,
    orbit_cameras,
    pelvis_crop_boxes,
    render,
    temporal_alignment_boxes,
)


def walking_joints():
    from hvg_bonemap.motions import walk

    params = walk(4, speed=1.5)
    params["transl"][:, 0] = torch.tensor([0.0, 0.2, 0.4, 0.6])
    return joints_from_smplx_params(params)


def test_pelvis_lands_on_anchor_in_every_view():
    joints = walking_joints()
    cams = orbit_cameras(
        6, distance=3.0, width=128, height=96, target=(0.0, -0.3, 0.0), dtype=torch.float64
    )
    boxes = pelvis_crop_boxes(joints[0].double(), cams, crop_size=(80, 60), anchor=(0.5, 0.4))
    cropped = crop_cameras(cams, boxes, (40, 30))  # half resolution
    uv, _ = cropped.project(joints[0, 0].double().expand(6, 1, 3))
    assert torch.allclose(
        uv[:, 0], torch.tensor([15.0, 16.0], dtype=torch.float64).expand(6, 2), atol=1e-9
    )
    assert cropped.width == 30 and cropped.height == 40


def test_cropped_camera_render_equals_cropped_render():
    joints = walking_joints()[0]
    cams = orbit_cameras(3, distance=3.0, width=96, height=96, target=(0.0, -0.3, 0.0))
    boxes = pelvis_crop_boxes(
        joints, cams, crop_size=(64, 64)
    ).round()  # integer shift: no resampling
    ell = ellipsoids_from_joints(joints)
    full = render(ell, cams)
    direct = render(ell, crop_cameras(cams, boxes, (64, 64)))
    depth = crop_images(full.depth[:, None], boxes, (64, 64), mode="nearest")[:, 0]
    mask = crop_images(full.mask[:, None], boxes, (64, 64), mode="nearest")[:, 0]
    normal = crop_images(full.normal, boxes, (64, 64), mode="nearest")
    assert mask.dtype == torch.bool
    assert (mask != direct.mask).sum() <= 2
    both = mask & direct.mask
    assert (depth - direct.depth)[both].abs().max() < 1e-4
    assert (normal - direct.normal).norm(dim=1)[both].max() < 1e-3


def test_crop_images_bilinear_shift_and_fill():
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    shifted = crop_images(image, torch.tensor([1.0, 0.0, 5.0, 4.0]), (4, 4), fill=-1.0)
    assert torch.equal(shifted[0, 0, :, :3], image[0, 0, :, 1:])
    assert torch.equal(shifted[0, 0, :, 3], torch.full((4,), -1.0))
    half = crop_images(image, torch.tensor([0.5, 0.0, 4.5, 4.0]), (4, 4))
    assert torch.allclose(half[0, 0, :, :3], image[0, 0, :, :3] + 0.5)
    uint = crop_images(
        torch.full((3, 4, 4), 200, dtype=torch.uint8), torch.tensor([0.0, 0.0, 4.0, 4.0]), (2, 2)
    )
    assert uint.dtype == torch.uint8 and (uint == 200).all()


def test_temporal_alignment_moves_reference_person_onto_first_frame():
    reference = torch.zeros(100, 80, dtype=torch.bool)
    reference[10:50, 5:25] = True  # person of height 40 at top-left
    first = torch.zeros(64, 64, dtype=torch.bool)
    first[12:52, 30:50] = True  # pose silhouette of height 40, elsewhere
    box = temporal_alignment_boxes(reference, first)
    aligned = crop_images(reference[None].float(), box, (64, 64), mode="nearest")[0] > 0.5
    assert torch.equal(mask_boxes(aligned), mask_boxes(first))
    small = torch.zeros(64, 64, dtype=torch.bool)
    small[22:42, 35:45] = True  # half as tall: reference is scaled down
    aligned = crop_images(
        reference[None].float(),
        temporal_alignment_boxes(reference, small),
        (64, 64),
        mode="nearest",
    )[0]
    assert torch.allclose(mask_boxes(aligned > 0.5), mask_boxes(small), atol=1.0)


def test_alignment_errors():
    cams = orbit_cameras(2, width=32, height=32)
    with pytest.raises(BoneMapInputError, match="pelvis"):
        pelvis_crop_boxes(torch.zeros(2, 4), cams)
    with pytest.raises(BoneMapInputError, match="behind"):
        pelvis_crop_boxes(cams.centers[0] * 2, cams)
    with pytest.raises(BoneMapInputError, match="x1 > x0"):
        crop_images(torch.zeros(1, 4, 4), torch.tensor([2.0, 0.0, 1.0, 4.0]), (2, 2))
    with pytest.raises(BoneMapInputError, match="empty mask"):
        mask_boxes(torch.zeros(4, 4, dtype=torch.bool))
