"""Every console script's exit codes, as the process reports them (docs/cli.md, "Exit codes").

0 success, 1 runtime failure, 2 usage or input error, 3 (``hvg-data render``) some subjects
failed. Each case runs the installed console script in a subprocess, in a temporary working
directory with relative paths, and checks the real process exit code (click's ``CliRunner``
cannot see what ``sys.exit`` does in ``run_group``).

Runtime failures (1) of commands without a documented one are provoked with an output path whose
parent is a regular file: the arguments are valid, the failure comes from the operating system
while the command runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    path = shutil.which(script, path=os.path.dirname(sys.executable))
    assert path is not None, f"console script {script} is not installed next to {sys.executable}"
    return subprocess.run(
        [path, *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("a regular file, not a folder\n")
    return tmp_path


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The last stderr line, which must be the one-line error."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message on stderr"
    return lines[-1]


CASES = [
    # (script, arguments, exit code, text the output must contain)
    ("hvg", ["plugins", "--json"], 0, '"kind"'),
    ("hvg", ["no-such-command"], 2, "No such command"),
    ("hvg", ["demo", "--size", "7"], 2, "Invalid value for '--size'"),
    (
        "hvg",
        ["demo", "--smallest", "--executor", "local", "--out", "afile/demo"],
        1,
        "Error:",
    ),
    (
        "hvg-bonemap",
        [
            "render",
            "--out",
            "out",
            "--frames",
            "1",
            "--views",
            "1",
            "--size",
            "16",
            "--grid-frames",
            "1",
        ],
        0,
        "",
    ),
    ("hvg-bonemap", ["render", "--out", "out", "--motion", "missing.npz"], 2, "missing.npz"),
    (
        "hvg-bonemap",
        [
            "render",
            "--out",
            "afile/out",
            "--frames",
            "1",
            "--views",
            "1",
            "--size",
            "16",
            "--grid-frames",
            "1",
        ],
        1,
        "Error:",
    ),
    ("hvg-data", ["list"], 0, "thuman2"),
    ("hvg-data", ["list", "--root", "absent"], 2, "absent: field '--root': not a folder"),
    ("hvg-data", ["render", "--dataset", "no-such-dataset", "--out", "out"], 2, "--dataset"),
    ("hvg-sampler", ["plan", "--frames", "8", "--views", "4"], 0, ""),
    ("hvg-sampler", ["plan", "--frames", "0", "--views", "4"], 2, "Invalid value for '--frames'"),
    (
        "hvg-sampler",
        ["plan", "--frames", "8", "--views", "4", "--png", "afile/plan.png"],
        1,
        "Error:",
    ),
    ("hvg-model", ["params"], 0, "trainable total"),
    ("hvg-model", ["export", "--run", "missing", "--out", "exported"], 2, "missing"),
    (
        "hvg-model",
        ["train", "--config", "tiny", "--max-steps", "1", "--out", "afile/run"],
        1,
        "Error:",
    ),
    ("hvg-eval", ["list"], 0, "psnr"),
    ("hvg-eval", ["psnr", "--real", "missing", "--fake", "missing"], 2, "'--real'"),
]


@pytest.mark.parametrize(
    ("script", "args", "code", "text"),
    CASES,
    ids=[f"{case[0]}-{case[1][0]}-{case[2]}" for case in CASES],
)
def test_exit_code(workdir, script, args, code, text):
    result = run(script, *args, cwd=workdir)
    assert result.returncode == code, (
        result.returncode,
        result.stdout[-800:],
        result.stderr[-800:],
    )
    assert text in result.stdout + result.stderr
    if code != 0:
        assert one_line_error(result).startswith("Error") or "Error:" in result.stderr
        assert "Traceback" not in result.stderr


def test_hvg_eval_weights_verify_mismatch_exits_1(workdir):
    # A file named like a known weight whose bytes do not match the published digest.
    (workdir / "vgg.pth").write_bytes(os.urandom(1000))
    result = run("hvg-eval", "weights", "verify", "vgg.pth", cwd=workdir)
    assert result.returncode == 1, result.stderr
    assert "vgg.pth: does not match its published checksum" in one_line_error(result)


def test_hvg_data_render_and_verify_codes(workdir):
    from hvg_data.testing import make_thuman2_fixture

    release = make_thuman2_fixture(workdir / "data", subjects=("0000", "0001"))
    obj = release / "0001" / "0001.obj"
    obj.write_text(obj.read_text().replace("\nf ", "\nf 999999/1 ", 1))
    common = ["--dataset", "thuman2", "--root", "data/THuman2.0_Release", "--views", "2",
              "--size", "32", "--body-model", "builtin", "--executor", "local"]  # fmt: skip

    ok = run("hvg-data", "render", *common, "--out", "good", "--subject", "0000", cwd=workdir)
    assert ok.returncode == 0, ok.stderr
    assert run("hvg-data", "verify", "good", cwd=workdir).returncode == 0

    some = run("hvg-data", "render", *common, "--out", "some", cwd=workdir)
    assert some.returncode == 3, some.stderr
    assert "0001.obj" in some.stderr

    every = run("hvg-data", "render", *common, "--out", "none", "--subject", "0001", cwd=workdir)
    assert every.returncode == 1, every.stderr
    assert "0001.obj" in every.stderr

    shard = next((workdir / "good").glob("shard-*.h5"))
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    corrupt = run("hvg-data", "verify", "good", cwd=workdir)
    assert corrupt.returncode == 1, corrupt.stderr
    assert one_line_error(corrupt).startswith("Error:")


def test_hvg_model_generate_refuses_garbage_pose_maps_and_fps_inf_with_exit_2(workdir):
    """Issue 18 probes: a garbage .npz and ``--fps inf`` exit 2 naming the input, no advice."""
    (workdir / "poses.npz").write_bytes(os.urandom(600))
    (workdir / "ref.png").write_bytes(
        (Path(__file__).parents[1] / "examples/reference.png").read_bytes()
    )
    garbage = run(
        "hvg-model", "generate", "--tiny", "--reference", "ref.png", "--pose-maps", "poses.npz",
        "--out", "out", cwd=workdir,
    )  # fmt: skip
    assert garbage.returncode == 2, garbage.stderr
    message = one_line_error(garbage)
    assert "poses.npz: cannot read pose maps" in message and "allow_pickle" not in message
    assert not (workdir / "out").exists()
    fps = run("hvg-model", "generate", "--tiny", "--reference", "ref.png", "--fps", "inf",
              "--out", "out", cwd=workdir)  # fmt: skip
    assert fps.returncode == 2 and "'--fps'" in fps.stderr
