"""Scan meshes: UV-textured OBJ (+MTL + image) and vertex-coloured PLY, read with checks.

OBJ texture coordinates are face-varying (``f v/vt``), so :class:`TexturedMesh` keeps them as
their own table with per-face indices instead of splitting vertices along UV seams.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
from hvg_core.errors import InputError


@dataclass(frozen=True)
class TexturedMesh:
    """A triangle mesh with either a UV texture or per-vertex colours.

    Attributes:
        vertices: (N, 3) float32 positions, metres in the dataset's world frame.
        faces: (F, 3) int32 vertex indices.
        uv: (M, 2) float32 texture coordinates (OBJ convention: v = 0 at the image bottom), or
            ``None``.
        face_uv: (F, 3) int32 indices into ``uv``, or ``None``.
        texture: (Ht, Wt, 3) uint8 RGB texture image, or ``None``.
        vertex_colors: (N, 3) uint8 RGB per vertex, or ``None``.
        source: File the mesh was read from (for messages and hashes).
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray | None = None
    face_uv: np.ndarray | None = None
    texture: np.ndarray | None = None
    vertex_colors: np.ndarray | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        where = self.source
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3:
            raise InputError(
                f"vertices must be (N, 3), got {self.vertices.shape}", path=where, field="vertices"
            )
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or len(self.faces) == 0:
            raise InputError(
                f"faces must be (F>0, 3), got {self.faces.shape}", path=where, field="faces"
            )
        if self.faces.min() < 0 or self.faces.max() >= len(self.vertices):
            raise InputError(
                "face indices out of range of the vertex list", path=where, field="faces"
            )
        if not np.all(np.isfinite(self.vertices)):
            raise InputError("vertex positions contain NaN or inf", path=where, field="vertices")
        has_texture = self.texture is not None and self.uv is not None and self.face_uv is not None
        if not has_texture and self.vertex_colors is None:
            raise InputError("mesh has neither a UV texture nor vertex colours", path=where)
        if self.face_uv is not None and self.uv is not None:
            if self.face_uv.shape != self.faces.shape:
                raise InputError(
                    "texture-coordinate indices must match the faces", path=where, field="face_uv"
                )
            if self.face_uv.min() < 0 or self.face_uv.max() >= len(self.uv):
                raise InputError("texture-coordinate indices out of range", path=where, field="vt")
        if self.vertex_colors is not None and self.vertex_colors.shape != self.vertices.shape:
            raise InputError("vertex colours must be (N, 3)", path=where, field="vertex_colors")

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) float32 axis-aligned bounding box: min row, max row."""
        return np.stack([self.vertices.min(0), self.vertices.max(0)])

    def transformed(
        self, rotation: np.ndarray, translation: np.ndarray, scale: float = 1.0
    ) -> TexturedMesh:
        """The mesh with ``x -> scale * rotation @ x + translation`` applied to its vertices."""
        vertices = scale * self.vertices @ np.asarray(rotation, np.float32).T + np.asarray(
            translation, np.float32
        )
        return TexturedMesh(
            vertices.astype(np.float32),
            self.faces,
            self.uv,
            self.face_uv,
            self.texture,
            self.vertex_colors,
            self.source,
        )


#: Largest texture read (pixels): 8192 x 8192 (200 MB as RGB; below Pillow's own warning level).
#: Scan textures are 2K-8K; a larger header is a decompression bomb (a few bytes on disk that
#: decode to gigabytes) and is refused before decoding.
MAX_TEXTURE_PIXELS = 8192 * 8192


def load_texture(path: Path, *, referenced_by: Path) -> np.ndarray:
    """Read a texture image as (H, W, 3) uint8.

    Raises:
        InputError: Missing, empty, unreadable or oversized image (names the file and field).
    """
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise InputError(
            f"texture image {path.name!r} not found next to it", path=referenced_by, field="map_Kd"
        )
    if path.stat().st_size == 0:
        raise InputError("texture image is an empty (zero-byte) file", path=path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_TEXTURE_PIXELS:
                raise InputError(
                    f"texture image is {width}x{height} pixels, more than the "
                    f"{MAX_TEXTURE_PIXELS}-pixel limit (a decompression bomb?)",
                    path=path,
                )
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InputError(f"unreadable texture image ({error})", path=path) from error


def read_mtl_texture(mtl_path: Path, material: str | None) -> Path:
    """Return the ``map_Kd`` image of ``material`` (or of the first material) in an MTL file.

    Raises:
        InputError: Missing MTL, missing material or no ``map_Kd``.
    """
    if not mtl_path.is_file():
        raise InputError("material library not found", path=mtl_path, field="mtllib")
    current = None
    maps: dict[str | None, str] = {}
    for line in mtl_path.read_text(errors="replace").splitlines():
        parts = line.strip().split(maxsplit=1)
        if not parts:
            continue
        if parts[0] == "newmtl" and len(parts) == 2:
            current = parts[1].strip()
        elif parts[0] == "map_Kd" and len(parts) == 2:
            # Options such as "-s 1 1 1" may precede the file name; the name is the last token.
            maps.setdefault(current, parts[1].split()[-1])
    if not maps:
        raise InputError(
            "no texture (map_Kd) in the material library", path=mtl_path, field="map_Kd"
        )
    if material is not None and material in maps:
        name = maps[material]
    elif material is not None and len(maps) > 1:
        raise InputError(f"material {material!r} has no map_Kd", path=mtl_path, field="map_Kd")
    else:
        name = next(iter(maps.values()))
    return mtl_path.parent / name


def _parse_floats(
    lines: list[str], prefix_len: int, path: Path, field: str, widths: tuple[int, ...]
) -> np.ndarray:
    if not lines:
        return np.zeros((0, widths[0]), np.float32)
    tokens = " ".join(line[prefix_len:] for line in lines).split()
    for width in widths:
        if len(tokens) == width * len(lines):
            try:
                return np.array(tokens, dtype=np.float32).reshape(len(lines), width)
            except ValueError as error:
                raise InputError(f"non-numeric value ({error})", path=path, field=field) from error
    # Mixed widths: parse line by line, keeping the first ``widths[-1]`` values.
    rows = []
    for number, line in enumerate(lines):
        values = line[prefix_len:].split()
        if len(values) < widths[-1]:
            raise InputError(f"entry {number + 1} has {len(values)} values", path=path, field=field)
        try:
            rows.append([float(value) for value in values[: widths[-1]]])
        except ValueError as error:
            raise InputError(f"entry {number + 1}: {error}", path=path, field=field) from error
    return np.array(rows, np.float32)


def _parse_faces(
    lines: list[str], path: Path, n_vertices: int, n_uv: int
) -> tuple[np.ndarray, np.ndarray | None]:
    if not lines:
        raise InputError("no faces", path=path, field="f")
    corners = " ".join(line[2:] for line in lines).split()
    triangles = len(corners) == 3 * len(lines) and all(
        len(line[2:].split()) == 3 for line in lines[:: max(1, len(lines) // 64)]
    )
    try:
        if triangles:
            split = [corner.split("/") for corner in corners]
            vertex = np.array([int(parts[0]) for parts in split], np.int64).reshape(-1, 3)
            with_uv = [len(parts) > 1 and parts[1] != "" for parts in split]
            has_uv = all(with_uv)
            if any(with_uv) and not has_uv:
                line = with_uv.index(False) // 3
                raise InputError(
                    f"face {line + 1} ({lines[line].strip()!r}) lacks the texture coordinates "
                    "the other faces have (truncated or corrupt file?)",
                    path=path,
                    field="f",
                )
            uv = (
                np.array([int(parts[1]) for parts in split], np.int64).reshape(-1, 3)
                if has_uv
                else None
            )
        else:
            vertex_rows, uv_rows, has_uv = [], [], True
            for number, line in enumerate(lines):
                parts = [corner.split("/") for corner in line[2:].split()]
                if len(parts) < 3:
                    raise InputError(
                        f"face {number + 1} ({line.strip()!r}) has {len(parts)} corners "
                        "(truncated or corrupt file?)",
                        path=path,
                        field="f",
                    )
                corner_uv = [len(p) > 1 and p[1] != "" for p in parts]
                if (number and has_uv != all(corner_uv)) or any(corner_uv) != all(corner_uv):
                    raise InputError(
                        f"face {number + 1} ({line.strip()!r}) mixes corners with and without "
                        "texture coordinates (truncated or corrupt file?)",
                        path=path,
                        field="f",
                    )
                has_uv = all(corner_uv)
                for k in range(1, len(parts) - 1):  # fan triangulation of polygons
                    corner_ids = (0, k, k + 1)
                    vertex_rows.append([int(parts[c][0]) for c in corner_ids])
                    uv_rows.append([int(parts[c][1]) if has_uv else 0 for c in corner_ids])
            vertex = np.array(vertex_rows, np.int64)
            uv = np.array(uv_rows, np.int64) if has_uv else None
    except InputError:
        raise
    except ValueError as error:
        raise InputError(f"malformed face index ({error})", path=path, field="f") from error

    def resolve(indices: np.ndarray, count: int, field: str) -> np.ndarray:
        # OBJ indices are 1-based; negative ones count back from the end of the list so far.
        resolved = np.where(indices < 0, count + indices, indices - 1)
        if resolved.min() < 0 or resolved.max() >= count:
            raise InputError(f"face index out of range (1..{count})", path=path, field=field)
        return resolved.astype(np.int32)

    return resolve(vertex, n_vertices, "f"), (
        None if uv is None or n_uv == 0 else resolve(uv, n_uv, "f vt")
    )


def load_obj(path: str | PathLike[str], *, require_texture: bool = True) -> TexturedMesh:
    """Read a (UV-textured) Wavefront OBJ with its MTL and texture image.

    Vertex colours written as ``v x y z r g b`` (floats in [0, 1]) are accepted as well.

    Args:
        path: The ``.obj`` file.
        require_texture: Fail if the OBJ has no usable texture or vertex colours.

    Raises:
        InputError: Missing/corrupt file, missing MTL or texture (file and field named).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("mesh file not found", path=file)
    try:
        text = file.read_text(errors="strict")
    except UnicodeDecodeError as error:
        raise InputError(f"not a text OBJ file ({error.reason})", path=file) from error
    v_lines, vt_lines, f_lines = [], [], []
    mtllib = material = None
    for line in text.splitlines():
        if line.startswith("v "):
            v_lines.append(line)
        elif line.startswith("vt "):
            vt_lines.append(line)
        elif line.startswith("f "):
            f_lines.append(line)
        elif line.startswith("mtllib ") and mtllib is None:
            mtllib = line[7:].strip()
        elif line.startswith("usemtl ") and material is None:
            material = line[7:].strip()
    if not v_lines:
        raise InputError("no vertices", path=file, field="v")
    raw_vertices = _parse_floats(v_lines, 2, file, "v", (3, 6, 4, 7))
    vertices = raw_vertices[:, :3]
    colors = None
    if raw_vertices.shape[1] in (6, 7):
        rgb = raw_vertices[:, -3:]
        colors = np.clip(np.round(rgb * 255 if rgb.max() <= 1.0 else rgb), 0, 255).astype(np.uint8)
    uv = _parse_floats(vt_lines, 3, file, "vt", (2, 3))[:, :2] if vt_lines else None
    faces, face_uv = _parse_faces(f_lines, file, len(vertices), 0 if uv is None else len(uv))
    texture = None
    if mtllib is not None and face_uv is not None:
        texture_path = read_mtl_texture(file.parent / mtllib, material)
        texture = load_texture(texture_path, referenced_by=file.parent / mtllib)
    elif require_texture and colors is None:
        missing = "mtllib" if mtllib is None else "vt"
        raise InputError(
            "textured OBJ expected but it has no material library or texture coordinates",
            path=file,
            field=missing,
        )
    if texture is None:
        uv = face_uv = None
    return TexturedMesh(vertices.copy(), faces, uv, face_uv, texture, colors, file)


def load_ply(path: str | PathLike[str]) -> TexturedMesh:
    """Read a vertex-coloured PLY (ASCII or binary) through trimesh.

    Raises:
        InputError: Missing/corrupt file or no vertex colours.
    """
    import trimesh

    file = Path(path)
    if not file.is_file():
        raise InputError("mesh file not found", path=file)
    try:
        mesh = trimesh.load(file, file_type="ply", process=False, force="mesh")
    except Exception as error:  # trimesh raises many types (ValueError, KeyError, struct.error)
        raise InputError(
            f"corrupt PLY file ({type(error).__name__}: {error})", path=file
        ) from error
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise InputError("PLY holds no triangle faces", path=file, field="face")
    colors = None
    if mesh.visual is not None and mesh.visual.kind == "vertex":
        colors = np.asarray(mesh.visual.vertex_colors)[:, :3].astype(np.uint8)
    if colors is None:
        raise InputError(
            "PLY has no vertex colours (red, green, blue)", path=file, field="vertex.red"
        )
    return TexturedMesh(
        np.asarray(mesh.vertices, np.float32),
        np.asarray(mesh.faces, np.int32),
        vertex_colors=colors,
        source=file,
    )


def load_mesh(path: str | PathLike[str]) -> TexturedMesh:
    """Read an OBJ or PLY scan by extension."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".obj":
        return load_obj(file)
    if suffix == ".ply":
        return load_ply(file)
    raise InputError("unsupported mesh format (use .obj or .ply)", path=file)


def save_obj(
    mesh: TexturedMesh,
    path: str | PathLike[str],
    *,
    material: str = "material0",
    texture_name: str | None = None,
) -> None:
    """Write an OBJ + MTL + JPEG/PNG the way trimesh exports THuman scans (for fixtures).

    Args:
        mesh: A UV-textured mesh.
        path: Destination ``.obj``; ``<material>.mtl`` and the texture go beside it.
        material: Material and MTL base name.
        texture_name: Texture file name (default ``<material>.jpeg``).
    """
    from PIL import Image

    file = Path(path)
    if mesh.texture is None or mesh.uv is None or mesh.face_uv is None:
        raise InputError("save_obj needs a UV-textured mesh", field="texture")
    texture_name = texture_name or f"{material}.jpeg"
    mtl_name = f"{material}.mtl" if material == "material0" else f"{file.stem}.mtl"
    lines = [f"mtllib {mtl_name}", f"usemtl {material}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in mesh.uv]
    lines += [
        f"f {a + 1}/{ta + 1} {b + 1}/{tb + 1} {c + 1}/{tc + 1}"
        for (a, b, c), (ta, tb, tc) in zip(mesh.faces, mesh.face_uv)
    ]
    file.write_text("\n".join(lines) + "\n")
    (file.parent / mtl_name).write_text(
        f"newmtl {material}\nKa 1.00000000 1.00000000 1.00000000\n"
        "Kd 1.00000000 1.00000000 1.00000000\nKs 0.40000000 0.40000000 0.40000000\n"
        f"Ns 0.00000000\nmap_Kd {texture_name}\n"
    )
    image = Image.fromarray(mesh.texture)
    if texture_name.lower().endswith((".jpg", ".jpeg")):
        image.save(file.parent / texture_name, format="JPEG", quality=95)
    else:
        image.save(file.parent / texture_name)


def save_ply(mesh: TexturedMesh, path: str | PathLike[str]) -> None:
    """Write a binary little-endian PLY with vertex colours (2K2K's format, for fixtures)."""
    colors = mesh.vertex_colors
    if colors is None:
        raise InputError("save_ply needs vertex colours", field="vertex_colors")
    n, f = len(mesh.vertices), len(mesh.faces)
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {n}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        f"element face {f}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vertex = np.zeros(n, dtype=[("p", "<f4", 3), ("c", "u1", 3)])
    vertex["p"], vertex["c"] = mesh.vertices, colors
    face = np.zeros(f, dtype=[("n", "u1"), ("i", "<i4", 3)])
    face["n"], face["i"] = 3, mesh.faces
    with open(path, "wb") as handle:
        handle.write(header.encode("ascii"))
        handle.write(vertex.tobytes())
        handle.write(face.tobytes())
