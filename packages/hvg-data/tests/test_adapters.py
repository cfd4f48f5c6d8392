from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
from hvg_core.errors import InputError, MissingResourceError
from hvg_core.registry import get_registry

from hvg_data.body import posed_joints
from hvg_data.crop import project
from hvg_data.safe_pickle import load_pickle
from hvg_data.testing import check_adapter_contract, make_thuman2_fixture
from hvg_data.testing.real_formats import write_thuman_fit

DATASETS = ("thuman2", "thuman21", "2k2k", "customhuman", "mvhumannet")


def _adapter(name, root, **options):
    return get_registry().load("datasets", name)(root, **options)


@pytest.mark.parametrize("name", DATASETS)
def test_contract_on_fixture(name, fixture_roots):
    # Includes: SMPL-X joints after the dataset's transform fall inside the scan's bounding box
    # (scans) / the pelvis projects into the foreground masks (captures).
    samples = check_adapter_contract(_adapter(name, fixture_roots[name]))
    assert samples


def test_joints_outside_the_scan_are_caught(fixture_roots, tmp_path):
    # The contract check is not vacuous: dropping THuman's `translation` breaks it.
    root = make_thuman2_fixture(tmp_path, subjects=("0000",))
    fit = tmp_path / "THUman2.0 SMPL-X Paras" / "0000" / "smplx_param.pkl"
    data = load_pickle(fit)
    data["translation"] = data["translation"] + 0.5
    write_thuman_fit(fit, data)
    with pytest.raises(AssertionError, match="outside the scan's bounding box"):
        check_adapter_contract(_adapter("thuman2", root))


def test_thuman2_layout_variants(tmp_path):
    root = make_thuman2_fixture(
        tmp_path / "a",
        fit_dir_name="THuman2.0_Smpl-X",
        scale_shape=(1, 1),
        translation_shape=(1, 3),
        fit_format="plain",
    )
    check_adapter_contract(_adapter("thuman2", root))
    root = make_thuman2_fixture(tmp_path / "b", release_name="", fits_inside_scan_dirs=True)
    adapter = _adapter("thuman2", root)
    assert adapter.subjects() == ["0000", "0001"]
    sample = check_adapter_contract(adapter)[0]
    assert sample.smplx.gender == "male" and sample.smplx.hand_pca_components == 12
    assert not sample.smplx.flat_hand_mean
    # The scan was mapped into the fit's metric frame: (x - translation) / scale.
    assert 0.4 <= sample.metadata["scan_scale"] <= 0.6
    assert float(sample.smplx.scale[0]) == 1.0 and not sample.smplx.world_translation.any()
    height = np.ptp(sample.meshes[0].vertices[:, 1])
    assert 1.4 < height < 2.0
    # The release's parent works as a root too.
    assert _adapter("thuman2", tmp_path / "a").subjects() == ["0000", "0001"]


def test_thuman2_archive_folder_found_without_options(tmp_path):
    # "THUman2.0 SMPL-X Paras.zip" unpacks to "THUman2.0 SMPL-X Paras/", found beside the scans.
    root = make_thuman2_fixture(tmp_path, subjects=("0000",))
    adapter = _adapter("thuman2", root)
    assert adapter.fit_dir == tmp_path / "THUman2.0 SMPL-X Paras"
    assert adapter.found_folders() == {"scans": root, "fits": adapter.fit_dir}
    assert adapter.load("0000").smplx.hand_pca_components == 12
    (tmp_path / "THUman2.0 SMPL-X Paras").rename(tmp_path / "unrelated")
    report = get_registry().load("datasets", "thuman2").probe(root)
    assert report.subjects == 1 and "THUman2.0 SMPL-X Paras" in report.problem


def test_missing_fit_key_is_named(tmp_path):
    root = make_thuman2_fixture(tmp_path, subjects=("0000",))
    fit = tmp_path / "THUman2.0 SMPL-X Paras" / "0000" / "smplx_param.pkl"
    data = load_pickle(fit)
    del data["translation"]
    write_thuman_fit(fit, data)
    with pytest.raises(InputError, match=r"smplx_param\.pkl: field 'translation': required key"):
        _adapter("thuman2", root).load("0000")


@pytest.mark.parametrize(("name", "folder"), [("2k2k", "2K2K"), ("customhuman", "CustomHumans")])
def test_parent_of_the_unpacked_release_works_as_root(fixture_roots, tmp_path, name, folder):
    shutil.copytree(fixture_roots[name], tmp_path / folder)
    direct = _adapter(name, fixture_roots[name]).subjects()
    assert _adapter(name, tmp_path).subjects() == direct and direct


def test_thuman21_model_level_and_45d_hands(fixture_roots):
    adapter = _adapter("thuman21", fixture_roots["thuman21"])
    assert adapter.scan_dir.name == "model"
    assert adapter.fit_dir.name == "THuman2.1_Smpl-X"
    old, new = adapter.load("0000"), adapter.load("0527")
    assert old.smplx.hand_pca_components == 12
    assert new.smplx.hand_pca_components == 45 and new.smplx.left_hand_pose.shape == (1, 45)


def test_2k2k_axes_units_and_optional_fit(fixture_roots):
    adapter = _adapter("2k2k", fixture_roots["2k2k"])
    assert adapter.subjects() == ["test/00011", "train/00003", "train/00007"]
    with_fit = adapter.load("train/00003")
    assert with_fit.smplx is not None and with_fit.smplx.hand_pca_components is None
    assert with_fit.smplx.gender == "neutral"
    z_up_cm = adapter.load("train/00007")
    assert z_up_cm.metadata == {"up_axis": "z", "unit_scale": 0.01}
    extent = np.ptp(z_up_cm.meshes[0].vertices, axis=0)
    assert np.argmax(extent) == 1 and 1.2 < extent[1] < 2.0  # Y-up, metres
    assert adapter.load("test/00011").smplx is None  # renamed PLY, no fit


def test_customhuman_ignores_converter_root_keys(fixture_roots):
    adapter = _adapter("customhuman", fixture_roots["customhuman"])
    for sample in check_adapter_contract(adapter):
        params = sample.smplx
        assert params.pelvis_to_origin and params.flat_hand_mean
        assert not params.global_orient.any() and not params.transl.any()
        joints = posed_joints(params)
        np.testing.assert_allclose(joints[0, 0], 0.0, atol=1e-6)  # pelvis at the origin


def test_mvhumannet_camera_projects_fixture_marker(mvhumannet_fixture):
    fixture = mvhumannet_fixture
    adapter = _adapter("mvhumannet", fixture.root)
    sample = adapter.load(fixture.capture)
    capture = sample.capture
    assert capture.frame_ids == fixture.ticks  # the tick without a fit is skipped
    assert (capture.width, capture.height) == fixture.stored_size
    pixels, _depth = project(capture.K, capture.R, capture.t, fixture.marker[None])
    hits = 0
    for view, name in enumerate(capture.camera_names):
        row, col = fixture.marker_pixels[name]
        if not (0 <= row < capture.height and 0 <= col < capture.width):
            continue
        u, v = pixels[view, 0]
        assert (int(np.floor(v)), int(np.floor(u))) == (row, col), name
        red = capture.read_image(view, 0)[row, col].astype(int)
        assert red[0] > 150 and red[1] < 110 and red[2] < 110, (name, red)
        hits += 1
    assert hits >= 6


def test_mvhumannet_fit_conversion(mvhumannet_fixture):
    sample = _adapter("mvhumannet", mvhumannet_fixture.root).load(mvhumannet_fixture.capture)
    params = sample.smplx
    assert params.frames == 3 and params.hand_pca_components == 6 and params.flat_hand_mean
    assert not params.global_orient.any() and params.world_rotation.any()
    # Z-down capture world, as the released captures: the body's up (pelvis -> neck) points
    # along world -z.
    joints = posed_joints(params)
    up = joints[0, 12] - joints[0, 0]
    assert up[2] / np.linalg.norm(up) < -0.95
    limited = _adapter("mvhumannet", mvhumannet_fixture.root, max_frames=2, frame_stride=1)
    assert limited.load(mvhumannet_fixture.capture).frames == 2


def test_mvhumannet_bad_inputs(mvhumannet_fixture, tmp_path):
    root = tmp_path / "mvh"
    shutil.copytree(mvhumannet_fixture.root, root)
    capture = root / mvhumannet_fixture.capture
    adapter = _adapter("mvhumannet", root)
    extr = json.loads((capture / "camera_extrinsics.json").read_text())
    first = sorted(extr)[0]
    del extr[first]
    (capture / "camera_extrinsics.json").write_text(json.dumps(extr))
    with pytest.raises(InputError, match=r"camera_extrinsics\.json: field '1_.*\.png': camera"):
        adapter.load(mvhumannet_fixture.capture)
    shutil.copy(
        mvhumannet_fixture.root / mvhumannet_fixture.capture / "camera_extrinsics.json",
        capture / "camera_extrinsics.json",
    )
    fit = capture / "smplx" / "smpl" / "000001.json"
    data = json.loads(fit.read_text())
    data[0]["poses"][0][10] = float("nan")
    fit.write_text(json.dumps(data).replace("NaN", "NaN"))
    with pytest.raises(InputError, match=r"000001\.json: field 'poses': contains NaN"):
        adapter.load(mvhumannet_fixture.capture)
    (capture / "camera_scale.pkl").write_bytes(pickle.dumps(1.0))
    with pytest.raises(InputError, match="unknown camera_scale"):
        adapter.load(mvhumannet_fixture.capture)


def test_thuman_bad_inputs(tmp_path):
    root = make_thuman2_fixture(tmp_path, subjects=("0000", "0001", "0002"))
    adapter = _adapter("thuman2", root)
    (root / "0000" / "material0.jpeg").unlink()
    with pytest.raises(InputError, match=r"material0\.mtl: field 'map_Kd'"):
        adapter.load("0000")
    fit = tmp_path / "THUman2.0 SMPL-X Paras" / "0001" / "smplx_param.pkl"
    fit.write_bytes(fit.read_bytes()[:100])
    with pytest.raises(InputError, match=r"0001/smplx_param\.pkl: corrupt or truncated"):
        adapter.load("0001")
    (tmp_path / "THUman2.0 SMPL-X Paras" / "0002" / "smplx_param.pkl").unlink()
    with pytest.raises(InputError, match="SMPL-X fit not found"):
        adapter.load("0002")
    with pytest.raises(InputError, match="unknown subject"):
        adapter.load("9999")


def test_missing_roots_say_what_to_download(tmp_path):
    for name in DATASETS:
        with pytest.raises(MissingResourceError, match="dataset folder not found"):
            _adapter(name, tmp_path / "absent")
    with pytest.raises(MissingResourceError, match="needs --root"):
        _adapter("thuman2", None)


def test_missing_smplx_model_files(fixture_roots, tmp_path):
    sample = _adapter("thuman2", fixture_roots["thuman2"]).load("0000")
    with pytest.raises(MissingResourceError, match=r"SMPLX_MALE\.npz"):
        posed_joints(sample.smplx, body_model="smplx", model_dir=tmp_path)
    with pytest.raises(MissingResourceError, match="--smplx-model-dir"):
        posed_joints(sample.smplx, body_model="smplx")


def test_real_smplx_body_on_a_synthetic_model_file(fixture_roots, tmp_path):
    pytest.importorskip("smplx")  # hvg-bonemap's [smplx] extra
    from hvg_bonemap.testing import write_synthetic_smplx_model

    write_synthetic_smplx_model(tmp_path / "SMPLX_MALE.npz")
    adapter = _adapter("thuman21", fixture_roots["thuman21"])
    for subject in ("0000", "0527"):  # PCA-12 and PCA-45 hands
        sample = adapter.load(subject)
        joints = posed_joints(sample.smplx, body_model="smplx", model_dir=tmp_path)
        builtin = posed_joints(sample.smplx, body_model="builtin")
        assert joints.shape == (1, 55, 3) and np.isfinite(joints).all()
        # Same kinematics, random rest shape near the built-in skeleton: the same place.
        assert np.abs(joints[0, :22] - builtin[0, :22]).max() < 0.15
