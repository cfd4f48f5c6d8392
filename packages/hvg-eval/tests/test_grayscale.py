import numpy as np
import pytest
import torch

from hvg_eval.ops.grayscale import rgb_to_gray_opencv, rgb_to_gray_opencv_reference

cv2 = pytest.importorskip("cv2")


def _ours(colours: np.ndarray) -> np.ndarray:
    # colours (N, 3) RGB -> (N,)
    tensor = torch.from_numpy(colours.T.reshape(3, 1, -1).copy())
    return rgb_to_gray_opencv(tensor).reshape(-1).numpy()


def _opencv(colours: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(colours.reshape(1, -1, 3), cv2.COLOR_RGB2GRAY).reshape(-1)


def test_matches_opencv_on_a_million_random_colours():
    colours = np.random.default_rng(0).integers(0, 256, (1_000_000, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_ours(colours), _opencv(colours))


def test_bgr2gray_on_bgr_equals_rgb2gray_on_rgb():
    colours = np.random.default_rng(1).integers(0, 256, (10_000, 3), dtype=np.uint8)
    bgr = colours[:, ::-1].copy()
    np.testing.assert_array_equal(
        cv2.cvtColor(bgr.reshape(1, -1, 3), cv2.COLOR_BGR2GRAY).reshape(-1), _ours(colours)
    )


@pytest.mark.slow
def test_matches_opencv_on_all_colours():
    values = np.arange(256, dtype=np.uint8)
    red, green, blue = np.meshgrid(values, values, values, indexing="ij")
    colours = np.stack([red.ravel(), green.ravel(), blue.ravel()], axis=1)
    np.testing.assert_array_equal(_ours(colours), _opencv(colours))


def test_fast_path_equals_slow_reference_and_differs_from_pillow():
    from PIL import Image

    rgb = np.random.default_rng(2).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    fast = rgb_to_gray_opencv(torch.from_numpy(rgb).permute(2, 0, 1).contiguous()).numpy()
    np.testing.assert_array_equal(fast, rgb_to_gray_opencv_reference(rgb))
    pillow = np.asarray(Image.fromarray(rgb).convert("L"))
    # Pillow's 16-bit formula disagrees on ~0.13 % of colours: not the DisCo grey.
    colours = np.random.default_rng(3).integers(0, 256, (200_000, 3), dtype=np.uint8)
    pil_grey = np.asarray(Image.fromarray(colours.reshape(1, -1, 3)).convert("L")).reshape(-1)
    assert 0 < np.mean(pil_grey != _ours(colours)) < 0.01
    assert pillow.shape == fast.shape


def test_rejects_non_uint8():
    with pytest.raises(ValueError, match=r"uint8 tensor \(\.\.\., 3, H, W\)"):
        rgb_to_gray_opencv(torch.zeros(3, 4, 4))


def test_gray_levels_in_other_dtypes_equal_the_uint8_levels():
    from hvg_eval.ops.grayscale import gray_levels

    rgb = torch.from_numpy(np.random.default_rng(4).integers(0, 256, (2, 3, 9, 7), dtype=np.uint8))
    reference = rgb_to_gray_opencv(rgb)
    for dtype in (torch.int32, torch.float32, torch.float64):
        levels = gray_levels(rgb, dtype)
        assert levels.dtype == dtype and levels.shape == (2, 9, 7)
        assert torch.equal(levels.to(torch.int64), reference.to(torch.int64))
