"""Frames that must be refused with exit code 2 before any pixel is decoded or reduced."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hvg_core.errors import InputError

from hvg_eval.inputs.frames import MAX_FRAME_PIXELS, read_image


def _png(path: Path, width: int, height: int, bit_depth: int, colour: int, row: bytes) -> Path:
    """A PNG whose every row is ``row`` (written by hand: Pillow will not write these)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(b"\x00" + row) for _ in range(height))
    pixels += compressor.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return path


def _rgb16(path: Path) -> Path:
    values = (np.arange(4 * 3, dtype=">u2") * 5003).tobytes()  # one row of 4 RGB pixels
    return _png(path, 4, 4, 16, 2, values)


def _eval(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hvg_eval", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_16_bit_rgb_png_is_refused_not_reduced_to_8_bits(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="more than 8 bits") as caught:
        read_image(_rgb16(tmp_path / "deep.png"))
    assert caught.value.path == str(tmp_path / "deep.png")


def test_a_frame_above_the_pixel_cap_is_refused_from_its_header(tmp_path: Path) -> None:
    side = int(MAX_FRAME_PIXELS**0.5) + 1  # above our cap, below Pillow's bomb warning
    path = _png(tmp_path / "huge.png", side, side, 1, 0, bytes((side + 7) // 8))
    with pytest.raises(InputError, match="MAX_FRAME_PIXELS"):
        read_image(path)


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["bomb", "rgb16"])
def test_eval_exits_2_naming_the_frame(tmp_path: Path, kind: str) -> None:
    for side in ("real", "fake"):
        (tmp_path / side).mkdir()
        if kind == "bomb":  # 20000² 1-bit pixels in ~50 kB: Pillow's DecompressionBombError
            _png(tmp_path / side / "0000.png", 20000, 20000, 1, 0, bytes(2500))
        else:
            _rgb16(tmp_path / side / "0000.png")
    result = _eval(tmp_path, "psnr", "--real", "real", "--fake", "fake")
    assert result.returncode == 2, result.stderr
    assert "0000.png" in result.stderr and "unexpected" not in result.stderr
