"""hvg-bonemap's progress follows HVG's convention; MP4 codec fallbacks are announced."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

av = pytest.importorskip("av")
pytest.importorskip("PIL")

from hvg_bonemap.media import BrowserIncompatibleVideoWarning, write_mp4  # noqa: E402

FRAMES = [np.full((16, 16, 3), value, np.uint8) for value in (0, 128, 255)]


def test_h264_is_written_without_a_warning(tmp_path):
    if "libx264" not in av.codecs_available:
        pytest.skip("this PyAV build has no libx264")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = write_mp4(tmp_path / "clip.mp4", FRAMES, fps=4)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name in {"h264", "libx264"}


def test_mpeg4_fallback_warns_that_browsers_cannot_play_it(tmp_path, monkeypatch):
    monkeypatch.setattr(av, "codecs_available", {"mpeg4"})
    with pytest.warns(BrowserIncompatibleVideoWarning, match="web browsers do not play"):
        path = write_mp4(tmp_path / "clip.mp4", FRAMES, fps=4)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "mpeg4"
        assert sum(1 for _ in container.decode(video=0)) == 3


def run_render(tmp_path, *, env_extra=None, prelude=""):
    """``hvg-bonemap render`` in a subprocess (stderr is a pipe, not a terminal)."""
    code = prelude + "from hvg_bonemap.cli import main\nmain()\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HVG_PROGRESS")}
    env.update(env_extra or {})
    args = ["render", "--out", "out", "--frames", "8", "--views", "2", "--size", "16"]
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_render_off_a_terminal_prints_named_progress_lines(tmp_path):
    result = run_render(tmp_path, env_extra={"HVG_PROGRESS_INTERVAL": "0"})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("rendering bone maps: ") for line in lines), lines
    assert lines[-1].startswith("rendering bone maps: 8/8 frames (done, ")
    assert "\r" not in result.stderr


def test_console_user_sees_the_codec_warning_and_no_progress_for_short_work(tmp_path):
    prelude = "import av\nav.codecs_available = {'mpeg4'}\n"
    result = run_render(tmp_path, prelude=prelude)
    assert result.returncode == 0, result.stderr
    assert "bonemap.mp4: this PyAV/FFmpeg build has no H.264 encoder" in result.stderr
    assert result.stderr.count("BrowserIncompatibleVideoWarning") == 1
    # A render shorter than the progress interval prints no progress (no bare "rendering").
    assert "rendering" not in result.stderr
