from __future__ import annotations

import numpy as np
import pytest
from hvg_core.errors import InputError
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_data.smplx_params import as_param_array, params_from_mapping, stack_frames


def _fit(hand: int = 12, batched: bool = True) -> dict:
    rng = np.random.default_rng(0)
    shape = (lambda d: (1, d)) if batched else (lambda d: (d,))
    return {
        "betas": rng.normal(size=shape(10)),
        "global_orient": rng.normal(size=shape(3)),
        "body_pose": rng.normal(size=shape(63)),
        "left_hand_pose": rng.normal(size=shape(hand)),
        "right_hand_pose": rng.normal(size=shape(hand)),
        "jaw_pose": np.zeros(shape(3)),
        "expression": np.zeros(shape(10)),
        "scale": np.array([[0.45]]),
        "translation": np.array([0.1, 0.2, 0.3]),
    }


@pytest.mark.parametrize("batched", [True, False])
def test_thuman_style_fit(batched):
    params = params_from_mapping(
        _fit(batched=batched),
        path="fit.pkl",
        gender="male",
        flat_hand_mean=False,
        scale_key="scale",
        translation_key="translation",
    )
    assert params.frames == 1 and params.hand_pca_components == 12
    assert params.scale.tolist() == pytest.approx([0.45])
    np.testing.assert_allclose(params.world_translation, [[0.1, 0.2, 0.3]], rtol=1e-6)
    assert params.leye_pose.shape == (1, 3) and not params.leye_pose.any()  # missing -> zeros
    assert params.body_pose.dtype == np.float32


@pytest.mark.parametrize(
    ("hand", "pca_45", "expected"),
    [(12, False, 12), (6, False, 6), (45, True, 45), (45, False, None)],
)
def test_hand_dimension_is_inferred(hand, pca_45, expected):
    params = params_from_mapping(
        _fit(hand), path="f", gender="male", flat_hand_mean=False, hand_pca_45=pca_45
    )
    assert params.hand_pca_components == expected


def test_nan_names_file_and_field():
    fit = _fit()
    fit["body_pose"][0, 5] = np.nan
    with pytest.raises(InputError, match=r"fit\.pkl: field 'body_pose': contains NaN"):
        params_from_mapping(fit, path="fit.pkl", gender="male", flat_hand_mean=False)


def test_wrong_width_and_missing_fields():
    fit = _fit()
    fit["body_pose"] = np.zeros((1, 60))
    with pytest.raises(InputError, match="field 'body_pose': expected 63"):
        params_from_mapping(fit, path="f", gender="male", flat_hand_mean=False)
    fit = _fit()
    del fit["betas"]
    with pytest.raises(InputError, match="field 'betas'"):
        params_from_mapping(fit, path="f", gender="male", flat_hand_mean=False)
    fit = _fit()
    fit["right_hand_pose"] = np.zeros((1, 6))
    with pytest.raises(InputError, match="right_hand_pose"):
        params_from_mapping(fit, path="f", gender="male", flat_hand_mean=False)
    fit = _fit()
    fit["scale"] = np.array([-1.0])
    with pytest.raises(InputError, match="scale must be positive"):
        params_from_mapping(fit, path="f", gender="male", flat_hand_mean=False, scale_key="scale")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 70), st.sampled_from(["flat", "batched", "joints"]))
def test_as_param_array_accepts_ranks(frames, width, layout):
    values = np.arange(frames * width * 3, dtype=np.float64).reshape(frames, width * 3)
    stored = {
        "flat": values[0] if frames == 1 else values,
        "batched": values,
        "joints": values.reshape(frames, width, 3),
    }[layout]
    out = as_param_array(stored, field="x", path=None)
    assert out.shape == (frames, width * 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, values.astype(np.float32))


def test_single_frame_broadcasts_and_stack():
    a = params_from_mapping(_fit(), path="a", gender="male", flat_hand_mean=False)
    both = stack_frames([a, a])
    assert both.frames == 2 and both.body_pose.shape == (2, 63)
    assert both.frame(1).frames == 1
    other = params_from_mapping(_fit(hand=6), path="b", gender="male", flat_hand_mean=False)
    with pytest.raises(InputError, match="settings differ"):
        stack_frames([a, other])
    out = as_param_array([[1.0, 2.0, 3.0]], field="Th", path=None, width=3, frames=4)
    assert out.shape == (4, 3)


def test_thuman_archive_pickle_with_0d_scale(tmp_path):
    from hvg_data.safe_pickle import load_pickle
    from hvg_data.testing.real_formats import write_thuman_fit

    fit = {key: np.asarray(value, np.float32) for key, value in _fit().items()}
    fit["scale"] = np.float32(0.45)  # 0-d, as the archive stores it
    path = tmp_path / "smplx_param.pkl"
    write_thuman_fit(path, fit)
    data = load_pickle(path)
    assert data["scale"].shape == () and type(data["scale"]) is np.ndarray
    params = params_from_mapping(
        data, path=path, gender="male", flat_hand_mean=False, scale_key="scale",
        translation_key="translation",
    )  # fmt: skip
    assert params.frames == 1 and params.scale.tolist() == [pytest.approx(0.45)]
    np.testing.assert_allclose(params.world_translation, [[0.1, 0.2, 0.3]], rtol=1e-6)
    assert params.hand_pca_components == 12
