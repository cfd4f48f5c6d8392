import os
import subprocess
import sys

import numpy as np
import pytest

click = pytest.importorskip("click")
pytest.importorskip("PIL")
pytest.importorskip("av")

from click.testing import CliRunner  # noqa: E402

from hvg_bonemap.cli import cli  # noqa: E402


def test_help_and_version_do_not_import_torch():
    code = "import sys; from hvg_bonemap.cli import cli; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and "0.1.0" in result.output
    assert "--motion" in runner.invoke(cli, ["render", "--help"]).output


def test_render_writes_grid_video_and_npz(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "render",
            "--out",
            str(tmp_path),
            "--frames",
            "5",
            "--views",
            "3",
            "--size",
            "32",
            "--grid-frames",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    data = np.load(tmp_path / "bonemap.npz")
    assert data["depth"].shape == (3, 5, 32, 32) and data["normal"].shape == (3, 5, 3, 32, 32)
    assert data["normal"].dtype == np.uint8 and data["mask"].any()
    assert data["K"].shape == (3, 3, 3) and data["joints"].shape == (5, 55, 3)
    # View alignment: the first frame's pelvis projects to the image centre in every view.
    pelvis = data["joints"][0, 0]
    cam = np.einsum("vij,j->vi", data["R"], pelvis) + data["t"]
    uv = np.einsum("vij,vj->vi", data["K"], cam)[:, :2] / cam[:, 2:]
    assert np.allclose(uv, 16.0, atol=1e-3)
    from PIL import Image

    assert Image.open(tmp_path / "bonemap_grid.png").size == (2 * 2 * 32, 3 * 32)
    import av

    with av.open(str(tmp_path / "bonemap.mp4")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 5 and frames[0].width == 3 * 32


def test_render_motion_file(tmp_path):
    from hvg_bonemap.motions import turn

    path = tmp_path / "motion.npz"
    np.savez(path, **{k: v.numpy() for k, v in turn(3).items()})
    result = CliRunner().invoke(
        cli,
        [
            "render",
            "--out",
            str(tmp_path / "o"),
            "--motion",
            str(path),
            "--views",
            "2",
            "--size",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "o" / "bonemap.npz")["depth"].shape == (2, 3, 16, 16)


def test_expected_failures_exit_codes(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(cli, ["render", "--out", str(tmp_path), "--motion", "moonwalk"])
    assert (
        bad.exit_code == 2
        and "neither a built-in motion" in bad.output
        and "Traceback" not in bad.output
    )
    missing = runner.invoke(cli, ["render", "--out", str(tmp_path), "--body", "smplx"])
    assert missing.exit_code == 2 and "--model-path" in missing.output
    assert runner.invoke(cli, ["render"]).exit_code == 2  # click usage error: --out missing
    debug = runner.invoke(
        cli, ["--debug", "render", "--out", str(tmp_path), "--motion", "moonwalk"]
    )
    assert debug.exit_code == 1 and debug.exception is not None  # traceback path under --debug


def test_console_script_exit_code(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "hvg-bonemap")
    if not os.path.exists(exe):
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run(
        [exe, "render", "--out", str(tmp_path), "--motion", "nope.npz"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "Error" in proc.stderr
