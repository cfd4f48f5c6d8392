from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_data.meshes import TexturedMesh
from hvg_data.renderers.base import bilinear_lookup
from hvg_data.renderers.embree import EmbreeScanRenderer
from hvg_data.renderers.reference import ReferenceScanRenderer


def _camera(distance: float = 2.0, size: int = 16, focal: float = 20.0):
    K = np.array([[[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]]])
    R = np.eye(3)[None]
    t = np.array([[0.0, 0.0, distance]])  # world origin is `distance` in front of the camera
    return K, R, t


def _checker_plane() -> TexturedMesh:
    # A 1 m square at z = 0 facing the camera (which sits at z = -2 looking along +z).
    vertices = np.array(
        [[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32
    )
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)  # image top = world -y
    texture = np.zeros((8, 8, 3), np.uint8)
    texture[:4, :4], texture[:4, 4:], texture[4:, :4], texture[4:, 4:] = (
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (255, 255, 0),
    )
    return TexturedMesh(vertices, faces, uv, faces.copy(), texture)


def test_plane_distance_and_texture_are_exact():
    K, R, t = _camera()
    result = EmbreeScanRenderer(background=(7, 7, 7)).render(_checker_plane(), K, R, t, 16, 16)
    # The square spans +-0.5 m at 2 m with f = 20 px: pixels 3..12 are covered.
    assert result.mask[0, 3:13, 3:13].all() and not result.mask[0, :2].any()
    u = np.arange(16) + 0.5 - 8
    x, y = np.meshgrid(u / 20, u / 20)
    expected = 2.0 * np.sqrt(1 + x**2 + y**2)  # Euclidean distance, not z
    np.testing.assert_allclose(
        result.distance[0][result.mask[0]], expected[result.mask[0]], rtol=1e-5
    )
    # Quadrant colours away from the bilinear seams (top-left red, bottom-right yellow).
    assert tuple(result.rgb[0, 4, 4]) == (255, 0, 0)
    assert tuple(result.rgb[0, 11, 11]) == (255, 255, 0)
    assert tuple(result.rgb[0, 0, 0]) == (7, 7, 7)


def _random_mesh(seed: int, faces: int = 24) -> TexturedMesh:
    rng = np.random.default_rng(seed)
    vertices = rng.uniform(-0.5, 0.5, (faces * 3, 3)).astype(np.float32)
    tri = np.arange(faces * 3, dtype=np.int32).reshape(faces, 3)
    colors = rng.integers(0, 256, (faces * 3, 3)).astype(np.uint8)
    return TexturedMesh(vertices, tri, vertex_colors=colors)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000))
def test_embree_matches_the_brute_force_reference(seed):
    mesh = _random_mesh(seed)
    K, R, t = _camera(size=12, focal=14)
    fast = EmbreeScanRenderer().render(mesh, K, R, t, 12, 12)
    slow = ReferenceScanRenderer().render(mesh, K, R, t, 12, 12)
    agree = fast.triangle == slow.triangle
    # Rays grazing a shared edge may pick either face; nearly all pixels must agree exactly.
    assert agree.mean() >= 0.97
    both = agree & fast.mask
    np.testing.assert_allclose(fast.distance[both], slow.distance[both], rtol=1e-4)
    assert np.abs(fast.rgb[both].astype(int) - slow.rgb[both].astype(int)).max() <= 1


def test_several_views_and_shapes():
    mesh = _checker_plane()
    K, R, t = _camera()
    K2 = np.concatenate([K, K])
    R2 = np.concatenate([R, np.diag([-1.0, 1.0, -1.0])[None]])  # second camera looks from behind
    t2 = np.concatenate([t, t])
    result = EmbreeScanRenderer().render(mesh, K2, R2, t2, 16, 16)
    assert result.rgb.shape == (2, 16, 16, 3) and result.triangle.shape == (2, 16, 16)
    # From behind, the image is mirrored left-right: the red quadrant appears top-right.
    assert tuple(result.rgb[1, 4, 11]) == (255, 0, 0)
    with pytest.raises(ValueError, match=r"expected R of shape \(2, 3, 3\)"):
        EmbreeScanRenderer().render(mesh, K2, R, t2, 16, 16)


def test_bilinear_lookup_centre_and_wrap():
    texture = np.array([[[0, 0, 0], [100, 100, 100]]], np.uint8)  # 1 x 2
    out = bilinear_lookup(texture, np.array([[0.25, 0.5], [0.5, 0.5], [1.25, 0.5]]))
    assert out[:, 0].tolist() == [0, 50, 0]


def _shade_one_by_one(mesh: TexturedMesh, face: int, u: float, v: float) -> np.ndarray:
    weights = np.array([1.0 - u - v, u, v], np.float32)
    if mesh.texture is None:
        colour = (mesh.vertex_colors[mesh.faces[face]].astype(np.float32) * weights[:, None]).sum(0)
        return np.clip(np.round(colour), 0, 255).astype(np.uint8)
    uv = (mesh.uv[mesh.face_uv[face]] * weights[:, None]).sum(0)
    return bilinear_lookup(mesh.texture, uv[None])[0]


@pytest.mark.parametrize("textured", [True, False])
def test_shade_hits_equals_the_per_hit_formula(textured):
    from hvg_data.renderers.base import shade_hits

    rng = np.random.default_rng(5)
    mesh = _checker_plane() if textured else _random_mesh(3)
    count = 200
    face = rng.integers(0, len(mesh.faces), count)
    u = rng.random(count, dtype=np.float32) * 0.5
    v = rng.random(count, dtype=np.float32) * 0.5
    fast = shade_hits(mesh, face, u, v)
    slow = np.stack([_shade_one_by_one(mesh, f, a, b) for f, a, b in zip(face, u, v)])
    np.testing.assert_array_equal(fast, slow)
