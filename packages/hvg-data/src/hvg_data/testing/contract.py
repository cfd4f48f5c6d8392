"""The dataset-adapter contract as executable checks (for built-ins and plugins alike)."""

from __future__ import annotations

import json

import numpy as np
from hvg_core.errors import InputError

from hvg_data.adapter import DatasetAdapter, Sample
from hvg_data.body import posed_joints
from hvg_data.crop import project
from hvg_data.smplx_params import SMPLXParams


def check_adapter_contract(
    adapter: DatasetAdapter,
    *,
    max_subjects: int = 3,
    body_model: str = "builtin",
    model_dir: str | None = None,
    bbox_margin: float = 0.02,
) -> list[Sample]:
    """Assert that ``adapter`` keeps the contract of :class:`hvg_data.DatasetAdapter`.

    Checks: class attributes; ``subjects()`` sorted, unique, stable and non-empty; every loaded
    sample's identity, kind, finite geometry, valid cameras, existing source files; the SMPL-X
    joints of scans inside the scan's bounding box (``bbox_margin`` metres of slack) and, for
    captures, the pelvis projecting inside the foreground mask of most cameras; an unknown
    subject raising ``InputError``; a JSON-serialisable ``config()``.

    Args:
        adapter: The adapter, constructed on a fixture (or real) root.
        max_subjects: How many subjects to load.
        body_model: Body model for the joint checks.
        model_dir: SMPL-X model files when ``body_model="smplx"``.
        bbox_margin: Slack of the bounding-box test.

    Returns:
        The loaded samples (for further dataset-specific checks).

    Raises:
        AssertionError: A contract violation, with what and where.
    """
    name = type(adapter).__name__
    assert isinstance(adapter, DatasetAdapter), f"{name} must subclass hvg_data.DatasetAdapter"
    assert adapter.name and adapter.name == adapter.name.lower() and " " not in adapter.name, (
        f"{name}.name must be a lowercase registry key, got {adapter.name!r}"
    )
    assert adapter.description, f"{name}.description is empty"
    assert adapter.kind in ("scan", "capture"), f"{name}.kind must be 'scan' or 'capture'"
    json.dumps(adapter.config())

    subjects = adapter.subjects()
    assert subjects, f"{name}.subjects() is empty"
    assert all(isinstance(s, str) for s in subjects), f"{name}.subjects() must return strings"
    assert subjects == sorted(subjects), f"{name}.subjects() must be sorted"
    assert len(set(subjects)) == len(subjects), f"{name}.subjects() has duplicates"
    assert adapter.subjects() == subjects, f"{name}.subjects() is not stable"
    try:
        adapter.load("\0no-such-subject")
    except InputError:
        pass
    else:
        raise AssertionError(f"{name}.load() of an unknown subject must raise InputError")

    samples = []
    for subject in subjects[:max_subjects]:
        sample = adapter.load(subject)
        where = f"{name}.load({subject!r})"
        assert isinstance(sample, Sample), f"{where} must return hvg_data.Sample"
        assert sample.subject == subject and sample.dataset == adapter.name, (
            f"{where}: wrong subject/dataset ({sample.subject!r}, {sample.dataset!r})"
        )
        assert sample.kind == adapter.kind, f"{where}: kind {sample.kind} != {adapter.kind}"
        for file in sample.source_files:
            assert file.is_file(), f"{where}: source file {file} does not exist"
        if sample.smplx is not None:
            _check_params(sample.smplx, where)
            joints = posed_joints(sample.smplx, body_model=body_model, model_dir=model_dir)
            assert joints.shape == (sample.frames, 55, 3) and np.all(np.isfinite(joints)), (
                f"{where}: posed joints not finite (T, 55, 3)"
            )
            if sample.kind == "scan":
                _check_joints_in_scan(sample, joints, bbox_margin, where)
            else:
                _check_capture(sample, joints, where)
        samples.append(sample)
    return samples


def _check_params(params: SMPLXParams, where: str) -> None:
    frames = params.frames
    for key, array in params.arrays().items():
        assert array.dtype == np.float32, f"{where}: smplx.{key} must be float32"
        assert array.shape[0] == frames, f"{where}: smplx.{key} has {array.shape[0]} frames"
        assert np.all(np.isfinite(array)), f"{where}: smplx.{key} is not finite"
    assert params.body_pose.shape[1] == 63, f"{where}: body_pose must be (T, 63)"
    width = params.left_hand_pose.shape[1]
    if params.hand_pca_components is None:
        assert width == 45, f"{where}: axis-angle hands must be (T, 45)"
    else:
        assert width == params.hand_pca_components, f"{where}: hand width != PCA components"
    assert np.all(params.scale > 0), f"{where}: scale must be > 0"


def _check_joints_in_scan(sample: Sample, joints: np.ndarray, margin: float, where: str) -> None:
    for frame in range(sample.frames):
        mesh = sample.meshes[0 if len(sample.meshes) == 1 else frame]
        low, high = mesh.bounds
        inside = np.all((joints[frame] >= low - margin) & (joints[frame] <= high + margin), -1)
        body = inside[:22]
        assert body.all(), (
            f"{where}: frame {frame}: body joints {np.flatnonzero(~body)} lie "
            f"outside the scan's bounding box {low} - {high}"
        )


def _check_capture(sample: Sample, joints: np.ndarray, where: str) -> None:
    capture = sample.capture
    assert capture is not None
    assert np.all(capture.K[:, 0, 0] > 0) and np.all(capture.K[:, 1, 1] > 0), (
        f"{where}: focal lengths must be positive"
    )
    rotation_error = np.abs(np.einsum("vij,vkj->vik", capture.R, capture.R) - np.eye(3)).max()
    assert rotation_error < 1e-4, f"{where}: R is not orthonormal ({rotation_error})"
    image = capture.read_image(0, 0)
    assert image.shape == (capture.height, capture.width, 3) and image.dtype == np.uint8, (
        f"{where}: read_image must give (H, W, 3) uint8"
    )
    pixels, depth = project(capture.K, capture.R, capture.t, joints[0, :1])
    hits = 0
    for view in range(capture.views):
        u, v = pixels[view, 0]
        col, row = int(np.floor(u)), int(np.floor(v))
        if depth[view, 0] > 0 and 0 <= row < capture.height and 0 <= col < capture.width:
            hits += bool(capture.read_mask(view, 0)[row, col])
    assert hits >= max(1, capture.views // 2), (
        f"{where}: the pelvis projects inside the subject's mask in only {hits} of "
        f"{capture.views} cameras"
    )
