"""Fixtures written in the real archives' exact formats render through the real console script.

Every test runs ``hvg-data`` as a user does: a subprocess of the installed console script, in a
temporary working directory, with relative paths, checking the process's exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hvg_data.safe_pickle import load_pickle
from hvg_data.testing import (
    make_2k2k_fixture,
    make_customhuman_fixture,
    make_mvhumannet_fixture,
    make_thuman2_fixture,
    make_thuman21_fixture,
)

pytestmark = pytest.mark.integration

RENDER = ["--views", "2", "--size", "48", "--body-model", "builtin", "--executor", "local"]


def hvg_data(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("hvg-data", path=os.path.dirname(sys.executable))
    assert script is not None, "the hvg-data console script is not installed"
    return subprocess.run(
        [script, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def rendered_subjects(out: Path) -> list[str]:
    manifest = json.loads((out / "manifest.json").read_text())
    shards = manifest["shards"]
    shards = shards.values() if isinstance(shards, dict) else shards
    return sorted(
        subject
        for shard in shards
        for subject in shard.get("subjects", [])
        if subject not in {f["subject"] for f in shard.get("failures", [])}
    )


def test_thuman2_archive_format_renders(tmp_path):
    # Exactly like the archive: protocol 3, TrackedArray arrays via _reconstruct, 0-d scale,
    # (3,) translation, PCA-12 hands, fits in "THUman2.0 SMPL-X Paras/" beside the release.
    make_thuman2_fixture(tmp_path / "data", subjects=("0000", "0001"))
    fit = tmp_path / "data" / "THUman2.0 SMPL-X Paras" / "0000" / "smplx_param.pkl"
    raw = fit.read_bytes()
    assert raw[:2] == b"\x80\x03" and b"ctrimesh.caching\nTrackedArray\n" in raw
    stored = load_pickle(fit)
    assert stored["scale"].shape == () and stored["translation"].shape == (3,)
    assert stored["left_hand_pose"].shape == (1, 12) and stored["betas"].shape == (1, 10)

    listing = hvg_data("list", "--root", "data/THuman2.0_Release", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "thuman2: 2 subject(s)" in listing.stdout
    assert "fits: data/THUman2.0 SMPL-X Paras" in listing.stdout

    result = hvg_data(
        "render", "--dataset", "thuman2", "--root", "data/THuman2.0_Release", "--out", "out",
        *RENDER, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rendered_subjects(tmp_path / "out") == ["0000", "0001"]


@pytest.mark.parametrize(
    ("dataset", "make", "root", "extra"),
    [
        ("thuman21", make_thuman21_fixture, "data/THuman2.1_Release", []),
        ("2k2k", make_2k2k_fixture, "data", ["--subject", "train/00003"]),
        ("customhuman", make_customhuman_fixture, "data", []),
        ("mvhumannet", lambda base: make_mvhumannet_fixture(base, frames=2), "data", []),
    ],
)
def test_other_real_formats_render(tmp_path, dataset, make, root, extra):
    make(tmp_path / "data")
    result = hvg_data(
        "render", "--dataset", dataset, "--root", root, "--out", "out", *RENDER, *extra,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rendered_subjects(tmp_path / "out")


def test_list_without_a_known_layout_says_what_it_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    result = hvg_data("list", "--root", "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert "no dataset layout found in empty; expected:" in result.stdout
    assert "THUman2.0 SMPL-X Paras/<sid>/smplx_param.pkl" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("Error: empty: field '--root'")
    missing = hvg_data("list", "--root", "absent", cwd=tmp_path)
    assert missing.returncode == 2 and "absent: field '--root': not a folder" in missing.stderr


# ---------------------------------------------------------------------------------------------
# Bad input, nothing lost: each subject below has one malformed real-world file. One run renders
# the good subject, names every bad file in one line, lists it in failures.jsonl and exits 3;
# rendering only bad subjects exits 1.


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width x height`` pixels in a few dozen bytes (decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _edit_obj(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _rewrite_fit(path: Path, edit) -> None:
    from hvg_data.testing.real_formats import write_thuman_fit

    data = load_pickle(path)
    edit(data)
    write_thuman_fit(path, data)


def _first(lines, prefix):
    return next(i for i, line in enumerate(lines) if line.startswith(prefix))


def _truncate_obj(path: Path) -> None:
    data = path.read_bytes()
    # Cut inside the face list, mid-line: the last face is left with a dangling corner.
    cut = data.index(b"\nf ") + (len(data) - data.index(b"\nf ")) // 2
    while data[cut : cut + 1] not in (b" ",):
        cut += 1
    path.write_bytes(data[: cut + 3])


def _nan_vertex(path: Path) -> None:
    def edit(lines):
        i = _first(lines, "v ")
        lines[i] = "v nan 0.0 0.0"
        return lines

    _edit_obj(path, edit)


def _face_out_of_range(path: Path) -> None:
    def edit(lines):
        i = _first(lines, "f ")
        lines[i] = "f 1/1 2/2 999999/3"
        return lines

    _edit_obj(path, edit)


#: subject -> (what is wrong, how to break it, the file and text the one-line error must name)
BAD_INPUTS = {
    "0001": (
        "truncated OBJ",
        lambda d, s: _truncate_obj(d / s / f"{s}.obj"),
        "0001.obj: field 'f': face ",
    ),
    "0002": (
        "NaN vertex",
        lambda d, s: _nan_vertex(d / s / f"{s}.obj"),
        "0002.obj: field 'vertices': vertex positions contain NaN",
    ),
    "0003": (
        "face index out of range",
        lambda d, s: _face_out_of_range(d / s / f"{s}.obj"),
        "0003.obj: field 'f': face index out of range",
    ),
    "0004": (
        "missing texture",
        lambda d, s: (d / s / "material0.jpeg").unlink(),
        "material0.mtl: field 'map_Kd': texture image 'material0.jpeg' not found",
    ),
    "0005": (
        "zero-byte texture",
        lambda d, s: (d / s / "material0.jpeg").write_bytes(b""),
        "0005/material0.jpeg: texture image is an empty (zero-byte) file",
    ),
    "0006": (
        "decompression-bomb texture",
        lambda d, s: (d / s / "material0.jpeg").write_bytes(_png_header(40000, 40000)),
        "0006/material0.jpeg:",
    ),
    "0007": (
        "truncated pickle",
        lambda d, s: (p := d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl").write_bytes(
            p.read_bytes()[:200]
        ),
        "0007/smplx_param.pkl: corrupt or truncated pickle",
    ),
    "0008": (
        "wrong shape (body_pose of 60 values)",
        lambda d, s: _rewrite_fit(
            d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl",
            lambda f: f.update(body_pose=f["body_pose"][:, :60]),
        ),
        "0008/smplx_param.pkl: field 'body_pose': expected 63 values per frame",
    ),
    "0009": (
        "missing key 'scale'",
        lambda d, s: _rewrite_fit(
            d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl",
            lambda f: f.pop("scale"),
        ),
        "0009/smplx_param.pkl: field 'scale': required key",
    ),
    "0010": (
        "NaN in a pose",
        lambda d, s: _rewrite_fit(
            d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl",
            lambda f: f["global_orient"].__setitem__((0, 1), np.nan),
        ),
        "0010/smplx_param.pkl: field 'global_orient': contains NaN",
    ),
    "0011": (
        "code-executing pickle",
        lambda d, s: (d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl").write_bytes(
            b"cos\nsystem\n(S'touch pwned'\ntR."
        ),
        "0011/smplx_param.pkl: refusing to unpickle os.system",
    ),
    "0012": (
        "object-array dtype flag trick (segfaulted before)",
        lambda d, s: (d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl").write_bytes(
            _flag_trick_pickle()
        ),
        "0012/smplx_param.pkl: refusing to unpickle: dtype 'V8' is not allowed",
    ),
    "0013": (
        "numpy.ndarray((2**28,), 'f8') balloon",
        lambda d, s: (d.parent / "THUman2.0 SMPL-X Paras" / s / "smplx_param.pkl").write_bytes(
            b"cnumpy\nndarray\n((I268435456\ntS'f8'\ntR."
        ),
        "0013/smplx_param.pkl: refusing to unpickle: numpy.ndarray may only appear",
    ),
}


def _flag_trick_pickle() -> bytes:
    """A numpy-only pickle whose dtype state claims 'holds objects' over raw bytes."""
    import pickle

    class Reduce:
        def __init__(self, *value) -> None:
            self.value = value

        def __reduce__(self):
            return self.value

    dtype = Reduce(np.dtype, ("V8", False, True), (3, "|", None, None, None, 8, 1, 0x3F))
    array = Reduce(
        np.zeros(1).__reduce__()[0],
        (np.ndarray, (0,), b"b"),
        (1, (2,), dtype, False, b"A" * 16),
    )
    return pickle.dumps({"betas": array}, protocol=3)


@pytest.fixture(scope="module")
def bad_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bad")
    release = make_thuman2_fixture(base / "data", subjects=("0000", *BAD_INPUTS))
    for subject, (_what, breaks, _message) in BAD_INPUTS.items():
        breaks(release, subject)
    return base


def test_bad_inputs_fail_alone_and_are_listed(bad_root):
    # shard-size 4: the good subject shares its shard with bad ones, so that shard must be
    # written whole with the failures recorded; all-bad shards must leave no half-written file.
    result = hvg_data(
        "render", "--dataset", "thuman2", "--root", "data/THuman2.0_Release", "--out", "out",
        "--shard-size", "4", *RENDER, cwd=bad_root,
    )  # fmt: skip
    assert result.returncode == 3, (result.returncode, result.stderr)
    out = bad_root / "out"
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    by_subject = {failure["subject"]: failure["reason"] for failure in failures}
    assert sorted(by_subject) == sorted(BAD_INPUTS)
    for subject, (what, _breaks, message) in BAD_INPUTS.items():
        reason = by_subject[subject]
        assert message in reason, (what, reason)
        assert "\n" not in reason, (what, reason)
    assert rendered_subjects(out) == ["0000"]
    assert not (bad_root / "pwned").exists()
    assert not list(out.glob(".*.tmp-*")), list(out.iterdir())
    verify = hvg_data("verify", "out", cwd=bad_root)
    assert verify.returncode == 0, verify.stderr


def test_every_subject_failing_exits_1(bad_root):
    subjects = [arg for subject in ("0001", "0007") for arg in ("--subject", subject)]
    result = hvg_data(
        "render", "--dataset", "thuman2", "--root", "data/THuman2.0_Release", "--out", "allbad",
        *subjects, *RENDER, cwd=bad_root,
    )  # fmt: skip
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "0001.obj" in result.stderr and "0007/smplx_param.pkl" in result.stderr
