from __future__ import annotations

import json
import subprocess
import sys
import types

import av
import pytest
from click.testing import CliRunner
from hvg_core.hookspecs import hookimpl

from hvg_data.cli import cli
from hvg_data.datasets.synthetic import SyntheticAdapter
from hvg_data.testing import make_thuman2_fixture


def test_help_and_list_import_neither_torch_nor_ray():
    # The whole registry loads (hvg_bonemap's plugin included): nothing heavy may come with it.
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from hvg_data.cli import cli\n"
        "for args in (['--help'], ['render', '--help'], ['list'], ['verify', '--help']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('torch', 'ray', 'h5py', 'embreex') if m in sys.modules))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip() == "[]"


def test_render_help_lists_registry_choices():
    result = CliRunner().invoke(cli, ["render", "--help"])
    for name in ("thuman2", "thuman21", "2k2k", "customhuman", "mvhumannet", "synthetic", "embree"):
        assert name in result.output


class ToyScans(SyntheticAdapter):
    name = "toyscans"
    description = "A third-party dataset (test)."


@pytest.fixture
def plugin_registry(monkeypatch):
    import hvg_core.registry as registry_module
    from hvg_core.testing import make_registry

    plugin = types.ModuleType("toy_hvg_plugin")

    @hookimpl
    def hvg_register_datasets(register):
        register("toyscans", ToyScans, description=ToyScans.description, kind="scan")

    plugin.hvg_register_datasets = hvg_register_datasets
    monkeypatch.setattr(registry_module, "_REGISTRY", make_registry(plugin, load_entry_points=True))


def test_plugin_dataset_is_listed_and_renders(plugin_registry, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli, ["list"])
    assert "toyscans" in listed.output and "thuman2" in listed.output
    result = runner.invoke(
        cli,
        [
            "render",
            "--dataset",
            "toyscans",
            "--out",
            str(tmp_path),
            "--views",
            "2",
            "--size",
            "32",
            "--option",
            "count=2",
            "--executor",
            "local",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["dataset"] == "toyscans" and manifest["num_samples"] == 2


def test_partial_failure_exit_code_and_verify_preview(tmp_path):
    root = make_thuman2_fixture(tmp_path / "data", subjects=("0000", "0001"))
    next((tmp_path / "data").rglob("0001/smplx_param.pkl")).unlink()  # fit missing
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "render",
            "--dataset",
            "thuman2",
            "--root",
            str(root),
            "--out",
            str(out),
            "--views",
            "2",
            "--size",
            "32",
            "--executor",
            "local",
            "--body-model",
            "builtin",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "1 subject(s) failed" in result.output and "0001" in result.output
    verified = runner.invoke(cli, ["verify", str(out)])
    assert verified.exit_code == 0 and "ok: 1 shards, 1 samples" in verified.output
    previewed = runner.invoke(cli, ["preview", str(out), "--out", str(tmp_path / "pv")])
    assert previewed.exit_code == 0, previewed.output
    png, mp4 = sorted((tmp_path / "pv").iterdir())[::-1][:2][::-1]
    assert {png.suffix, mp4.suffix} == {".png", ".mp4"}
    with av.open(str(tmp_path / "pv" / "thuman2-0000.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 1
    (out / "shard-00000.h5").write_bytes(b"x")
    broken = runner.invoke(cli, ["verify", str(out)])
    assert broken.exit_code == 1 and "size" in broken.output


def test_real_datasets_need_a_body_model_choice(fixture_roots, tmp_path, capsys):
    from hvg_core.cli_utils import run_group

    args = [
        "render",
        "--dataset",
        "thuman2",
        "--root",
        str(fixture_roots["thuman2"]),
        "--out",
        str(tmp_path),
        "--executor",
        "local",
    ]
    with pytest.raises(SystemExit) as exit_info:
        run_group(cli, args)
    assert exit_info.value.code == 2
    assert "--smplx-model-dir" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()


def test_config_file_supplies_defaults(tmp_path):
    config = tmp_path / "render.toml"
    config.write_text('views = 2\nsize = 24\nexecutor = "local"\noption = ["count=1"]\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "render",
            "--config",
            str(config),
            "--dataset",
            "synthetic",
            "--out",
            str(out),
            "--size",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["config"]["views"], manifest["config"]["size"]) == (2, 16)
    assert manifest["num_samples"] == 1


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["render", "--dataset", "nope", "--out", str(tmp_path)]).exit_code == 2
    )
    bad_option = runner.invoke(
        cli, ["render", "--dataset", "synthetic", "--out", str(tmp_path), "--option", "count"]
    )
    assert bad_option.exit_code == 2
