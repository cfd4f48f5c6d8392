import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hvg_core import registry as core_registry
from hvg_core.cli_utils import run_group
from hvg_core.hookspecs import hookimpl

from hvg_eval.cli import cli
from hvg_eval.metrics.psnr import psnr
from hvg_eval.metrics.ssim import ssim
from hvg_eval.testing import check_metric_contract, write_frame_folders


class ThirdPartyMAE:
    """A metric as a third-party plugin would write it: plain class, mapping result."""

    name = "plugin-mae"
    higher_is_better = False

    def __init__(self):
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def update(self, real, fake):
        difference = (real - fake).abs()
        self.total += float(difference.sum())
        self.count += difference.numel()

    def compute(self):
        return {"value": self.total / self.count, "pixels": self.count}


class ThirdPartyPlugin:
    @staticmethod
    @hookimpl
    def hvg_register_metrics(register):
        register(
            "plugin-mae",
            ThirdPartyMAE,
            description="MAE from a third-party plugin.",
            higher_is_better=False,
        )


@pytest.fixture
def with_plugin(monkeypatch):
    manager = core_registry.make_plugin_manager()
    manager.register(ThirdPartyPlugin, name="thirdparty")
    monkeypatch.setattr(core_registry, "_REGISTRY", core_registry.Registry(manager))
    yield
    core_registry.reset_registry()


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HVG_EVAL_WEIGHTS", raising=False)
    return tmp_path


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (4, 3, 24, 24, 3), dtype=np.uint8)
    fake = np.clip(real.astype(int) + rng.integers(-25, 26, real.shape), 0, 255).astype(np.uint8)
    names = ["s1/view_00", "s1/view_01", "s2/view_00", "s2/view_01"]
    write_frame_folders(tmp_path / "real", real, names=names)
    write_frame_folders(tmp_path / "fake", fake, names=names)
    return tmp_path / "real", tmp_path / "fake", real, fake


def _chw(frames):
    return torch.from_numpy(frames.reshape(-1, *frames.shape[-3:])).permute(0, 3, 1, 2)


def test_psnr_json_equals_the_functional_twin(folders):
    real_dir, fake_dir, real, fake = folders
    result = CliRunner().invoke(
        cli, ["psnr", "--real", str(real_dir), "--fake", str(fake_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["value"] == pytest.approx(float(psnr(_chw(real), _chw(fake)).mean()), rel=1e-12)
    assert payload["protocol"]["name"] == "disco" and payload["protocol"]["psnr_variant"] == "disco"
    assert payload["conventions"]["resolution"] == [24, 24]
    assert payload["inputs"]["real_videos"] == 4 and payload["inputs"]["real_frames"] == 12
    assert sorted(payload["breakdown"]["per_view"]) == ["0", "1"]


def test_all_skips_missing_weights_records_everything_and_plots(folders, no_weights):
    real_dir, fake_dir, real, fake = folders
    plot = no_weights / "breakdown.png"
    output = no_weights / "result.json"
    result = CliRunner().invoke(cli, [
        "all", "--real", str(real_dir), "--fake", str(fake_dir), "--json", "--skip-missing",
        "--plot", str(plot), "--output", str(output), "--l1", "mae",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert list(payload["metrics"]) == ["fid", "ssim", "psnr", "lpips", "l1", "fid-vid", "fvd"]
    assert payload["metrics"]["ssim"]["value"] == pytest.approx(
        float(ssim(_chw(real), _chw(fake)).mean()), rel=1e-12
    )
    assert payload["metrics"]["l1"]["conventions"]["variant"] == "mae"
    assert payload["protocol"]["l1_variant"] == "mae"
    for name in ("fid", "fid-vid", "fvd", "lpips"):
        assert payload["metrics"][name]["value"] is None
        assert "never downloads" in payload["metrics"][name]["skipped"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(output.read_text()) == payload


def test_table_output_looks_like_the_paper(folders):
    real_dir, fake_dir, *_ = folders
    result = CliRunner().invoke(cli, ["l1", "--real", str(real_dir), "--fake", str(fake_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "| Method | L1 ↓ |"
    assert lines[2].startswith("| fake | ") and "e-" in lines[2]


def test_third_party_metric_runs_through_the_generic_path(folders, with_plugin):
    real_dir, fake_dir, real, fake = folders
    listing = CliRunner().invoke(cli, ["list"])
    assert "plugin-mae" in listing.output and "psnr" in listing.output
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--metric",
            "plugin-mae",
            "--real",
            str(real_dir),
            "--fake",
            str(fake_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    expected = np.abs(real.astype(np.float64) - fake.astype(np.float64)).mean() / 255
    assert payload["value"] == pytest.approx(expected, rel=1e-6)
    assert payload["extra"] == {"pixels": real.size}
    check_metric_contract(ThirdPartyMAE)


def test_unknown_metric_and_pairing_errors_exit_2(folders, tmp_path, capsys):
    real_dir, fake_dir, *_ = folders
    with pytest.raises(SystemExit) as exit_info:
        run_group(
            cli, ["run", "--metric", "nope", "--real", str(real_dir), "--fake", str(fake_dir)]
        )
    assert exit_info.value.code == 2
    assert "registered metrics: " in capsys.readouterr().err
    write_frame_folders(tmp_path / "other", np.zeros((1, 3, 24, 24, 3), np.uint8), names=["zzz"])
    with pytest.raises(SystemExit) as exit_info:
        run_group(cli, ["ssim", "--real", str(real_dir), "--fake", str(tmp_path / "other")])
    assert exit_info.value.code == 2
    assert "only in --real" in capsys.readouterr().err


def test_console_script_missing_weights_exits_2_with_the_full_message(folders, no_weights):
    real_dir, fake_dir, *_ = folders
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(no_weights / "xdg"),
        "TORCH_HOME": str(no_weights / "torch"),
    }
    env.pop("HVG_EVAL_WEIGHTS", None)
    process = subprocess.run(
        [sys.executable, "-m", "hvg_eval", "fvd", "--real", str(real_dir), "--fake", str(fake_dir), "--weights-dir", str(no_weights / "w")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    for needle in (
        "FVD (protocol disco)",
        "i3d_pretrained_400.pt",
        str(no_weights / "w"),
        "a867b87a",
        "TATS",
    ):
        assert needle in process.stderr


def test_help_does_not_import_torch():
    # Only hvg-eval's own plugin is registered so the check is about this package alone.
    script = textwrap.dedent(
        """
        import sys
        from hvg_core import registry
        import hvg_eval._hvg_plugin as plugin
        manager = registry.make_plugin_manager(load_entry_points=False)
        manager.register(plugin, name="eval")
        registry._REGISTRY = registry.Registry(manager)
        from hvg_eval.cli import cli
        from hvg_core.cli_utils import run_group
        try:
            run_group(cli, ["--help"], plugin_group="hvg-eval")
        except SystemExit:
            pass
        try:
            run_group(cli, ["list"], plugin_group="hvg-eval")
        except SystemExit:
            pass
        heavy = sorted(m for m in ("torch", "h5py", "av", "scipy", "matplotlib") if m in sys.modules)
        print("HEAVY:", heavy)
        """
    )
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "HEAVY: []" in process.stdout, process.stdout + process.stderr
    assert "psnr" in process.stdout


def test_weights_commands(no_weights, monkeypatch):
    runner = CliRunner()
    where = runner.invoke(cli, ["weights", "where", "--weights-dir", str(no_weights / "w")])
    assert where.exit_code == 0
    assert (
        where.output.splitlines()[0].startswith("--weights-dir")
        and "torch hub cache" in where.output
    )
    listing = runner.invoke(cli, ["weights", "list", "--json"])
    rows = {row["key"]: row for row in json.loads(listing.output)}
    assert rows["i3d-pt"]["found"] is None
    assert rows["i3d-pt"]["digest"] == "git-blob-sha1 a867b87ac3a9097d200598b1d48a1b890d8ec744"
    if rows["lpips-lin-vgg"]["found"]:  # shipped inside the lpips wheel (a test dependency)
        verify = runner.invoke(cli, ["weights", "verify"])
        assert verify.exit_code == 0 and "OK       lpips-lin-vgg" in verify.output
    bad = no_weights / "vgg.pth"
    bad.write_bytes(b"not the heads")
    with pytest.raises(SystemExit) as exit_info:
        run_group(cli, ["weights", "verify", str(bad)])
    assert exit_info.value.code == 1


def test_registered_plugin_metrics_follow_the_contract():
    third_party = [
        entry for entry in core_registry.get_registry().entries("metrics")
        if entry.distribution not in core_registry.BUILTIN_DISTRIBUTIONS
    ]  # fmt: skip
    if not third_party:
        pytest.skip("no third-party metric is installed")
    for entry in third_party:
        check_metric_contract(entry.load())


def _weight_file_run(tmp, metric, filename, network):
    # A random-weight file under the reference name: exercises search, hashing, manifest check,
    # strict loading and the records; its digest cannot match, so it needs the explicit flag.
    rng = np.random.default_rng(1)
    real_dir, fake_dir = tmp / "real", tmp / "fake"
    write_frame_folders(real_dir, rng.integers(0, 256, (4, 2, 16, 16, 3), dtype=np.uint8))
    write_frame_folders(fake_dir, rng.integers(0, 256, (4, 2, 16, 16, 3), dtype=np.uint8))
    weights_dir = tmp / "w"
    weights_dir.mkdir()
    torch.manual_seed(0)
    torch.save(network.state_dict(), weights_dir / filename)
    arguments = [
        metric,
        "--real",
        str(real_dir),
        "--fake",
        str(fake_dir),
        "--weights-dir",
        str(weights_dir),
        "--json",
    ]
    with pytest.raises(SystemExit) as exit_info:
        run_group(cli, arguments)
    assert exit_info.value.code == 2
    result = CliRunner().invoke(cli, [*arguments, "--allow-unverified-weights"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (record,) = payload["weights"]
    assert record["verified"] is False and len(record["sha256"]) == 64
    assert record["path"] == str(weights_dir / filename)
    assert payload["value"] > 0
    return payload


def test_fvd_end_to_end_with_a_weight_file_on_disk(no_weights):
    from hvg_eval.networks.i3d import InceptionI3d

    payload = _weight_file_run(no_weights, "fvd", "i3d_pretrained_400.pt", InceptionI3d())
    assert payload["conventions"]["samples"] == {"real": 4, "fake": 4}
    assert payload["conventions"]["clip"] == "whole-video"
    assert payload["conventions"]["rank_deficient"] is True  # 4 samples, 400 dimensions


@pytest.mark.slow
def test_fid_end_to_end_with_a_weight_file_on_disk(no_weights):
    # Slow: scipy's sqrtm of a 2048×2048 product takes 10-60 s on a shared 2-core machine.
    from hvg_eval.networks.fid_inception import FIDInceptionV3

    payload = _weight_file_run(
        no_weights, "fid", "pt_inception-2015-12-05-6726825d.pth", FIDInceptionV3()
    )
    assert payload["conventions"]["samples"] == {"real": 8, "fake": 8}
