from __future__ import annotations

import numpy as np
import pytest
from hvg_core.errors import InputError
from PIL import Image

from hvg_data.meshes import TexturedMesh, load_mesh, load_obj, load_ply, save_obj, save_ply


def _quad_mesh() -> TexturedMesh:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], np.float32)
    face_uv = np.array([[0, 1, 2], [4, 2, 3]], np.int32)
    texture = np.zeros((8, 8, 3), np.uint8)
    texture[:4] = (255, 0, 0)
    return TexturedMesh(vertices, faces, uv, face_uv, texture)


def test_obj_round_trip_keeps_face_varying_uvs(tmp_path):
    mesh = _quad_mesh()
    save_obj(mesh, tmp_path / "0000.obj", texture_name="material0.png")
    loaded = load_obj(tmp_path / "0000.obj")
    np.testing.assert_allclose(loaded.vertices, mesh.vertices)
    np.testing.assert_array_equal(loaded.faces, mesh.faces)
    np.testing.assert_array_equal(loaded.face_uv, mesh.face_uv)
    np.testing.assert_allclose(loaded.uv, mesh.uv)
    np.testing.assert_array_equal(loaded.texture, mesh.texture)
    assert "map_Kd material0.png" in (tmp_path / "material0.mtl").read_text()


def test_obj_polygons_negative_indices_and_vertex_colours(tmp_path):
    path = tmp_path / "poly.obj"
    path.write_text("v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0 1 1 1\nf -4 -3 -2 -1\n")
    mesh = load_obj(path)
    np.testing.assert_array_equal(mesh.faces, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_array_equal(mesh.vertex_colors[1], [0, 255, 0])
    assert mesh.texture is None


def test_missing_texture_names_mtl_and_field(tmp_path):
    save_obj(_quad_mesh(), tmp_path / "0000.obj")
    (tmp_path / "material0.jpeg").unlink()
    with pytest.raises(InputError, match=r"material0\.mtl: field 'map_Kd': texture image"):
        load_obj(tmp_path / "0000.obj")


def test_missing_mtl_and_corrupt_obj(tmp_path):
    save_obj(_quad_mesh(), tmp_path / "0000.obj")
    (tmp_path / "material0.mtl").unlink()
    with pytest.raises(InputError, match=r"material0\.mtl: field 'mtllib'"):
        load_obj(tmp_path / "0000.obj")
    bad = tmp_path / "bad.obj"
    bad.write_text("v 0 0 zero\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(InputError, match=r"bad\.obj: field 'v'"):
        load_obj(bad)
    bad.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    with pytest.raises(InputError, match=r"bad\.obj: field 'f': face index out of range"):
        load_obj(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"bad\.obj: not a text OBJ"):
        load_obj(bad)


@pytest.mark.parametrize("cut", [b"/", b" ", b"1"])
def test_truncated_obj_names_the_face(tmp_path, cut):
    save_obj(_quad_mesh(), tmp_path / "0000.obj")
    data = (tmp_path / "0000.obj").read_bytes().rstrip(b"\n")
    # Cut the last face after its third vertex index (no texture coordinate left) or earlier.
    last = data.rindex(b"\nf ")
    if cut == b"/":
        data = data[: data.rindex(b"/")]
    elif cut == b" ":
        data = data[: data.rindex(b" ")]
    else:
        data = data[: last + 4]
    (tmp_path / "0000.obj").write_bytes(data)
    with pytest.raises(InputError, match=r"0000\.obj: field 'f': face 2 .*truncated or corrupt"):
        load_obj(tmp_path / "0000.obj")


def test_zero_byte_and_bomb_textures(tmp_path):
    import struct
    import zlib

    save_obj(_quad_mesh(), tmp_path / "0000.obj")
    texture = tmp_path / "material0.jpeg"
    texture.write_bytes(b"")
    with pytest.raises(InputError, match=r"material0\.jpeg: texture image is an empty"):
        load_obj(tmp_path / "0000.obj")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    for side in (9000, 40000):  # over HVG's limit only / over Pillow's own limit too
        header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
        texture.write_bytes(png)
        with pytest.raises(InputError, match=rf"material0\.jpeg: .*{side * side}|{side}x{side}"):
            load_obj(tmp_path / "0000.obj")


def test_unreadable_texture(tmp_path):
    save_obj(_quad_mesh(), tmp_path / "0000.obj")
    (tmp_path / "material0.jpeg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="unreadable texture"):
        load_obj(tmp_path / "0000.obj")


def test_ply_round_trip_and_errors(tmp_path):
    quad = _quad_mesh()
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], np.uint8)
    mesh = TexturedMesh(quad.vertices, quad.faces, vertex_colors=colors)
    save_ply(mesh, tmp_path / "00003.ply")
    loaded = load_mesh(tmp_path / "00003.ply")
    np.testing.assert_array_equal(loaded.vertex_colors, colors)
    np.testing.assert_array_equal(loaded.faces, mesh.faces)
    data = (tmp_path / "00003.ply").read_bytes()
    (tmp_path / "trunc.ply").write_bytes(data[: len(data) - 20])
    with pytest.raises(InputError, match=r"trunc\.ply"):
        load_ply(tmp_path / "trunc.ply")
    (tmp_path / "plain.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    )
    with pytest.raises(InputError, match=r"plain\.ply: field 'vertex\.red'"):
        load_ply(tmp_path / "plain.ply")


def test_mesh_validation():
    quad = _quad_mesh()
    with pytest.raises(InputError, match="neither a UV texture nor vertex colours"):
        TexturedMesh(quad.vertices, quad.faces)
    bad = quad.vertices.copy()
    bad[0, 0] = np.inf
    with pytest.raises(InputError, match="NaN or inf"):
        TexturedMesh(bad, quad.faces, quad.uv, quad.face_uv, quad.texture)


def test_unsupported_extension(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "x.png")
    with pytest.raises(InputError, match="unsupported mesh format"):
        load_mesh(tmp_path / "x.png")
