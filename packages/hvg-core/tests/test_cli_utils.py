"""Shared CLI helpers: exit codes, --debug, --config files, quiet progress bars."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap

import click
import pytest

from hvg_core.cli_utils import config_option, hvg_group, progress, read_config_file, run_group
from hvg_core.errors import HVGError, InputError


def build_group():
    @hvg_group(package="hvg-core", name="demo-tool")
    def group():
        """Demo tool."""

    @group.command()
    @config_option
    @click.option("--views", type=int, default=8)
    @click.option("--frame-window", type=int, default=16)
    @click.option("--name", default="default")
    @click.option("--reference", "reference_path", default=None)
    @click.option("--use-gpu/--no-gpu", default=None)
    @click.option("--tag", "tags", multiple=True)
    def show(views, frame_window, name, reference_path, use_gpu, tags):
        values = {"views": views, "frame_window": frame_window, "name": name}
        if reference_path is not None:
            values["reference"] = reference_path
        if use_gpu is not None:
            values["use_gpu"] = use_gpu
        if tags:
            values["tags"] = list(tags)
        click.echo(json.dumps(values))

    @group.command()
    @config_option
    @click.option("--steps", type=int, default=1)
    def other(steps):
        click.echo(json.dumps({"steps": steps}))

    @group.command()
    @click.option("--kind", default="input")
    def fail(kind):
        if kind == "input":
            raise InputError("expected 3 channels, got 4", path="img.png", field="rgb")
        if kind == "runtime":
            raise HVGError("the renderer ran out of memory")
        raise RuntimeError("boom")

    return group


def run(args, capsys):
    with pytest.raises(SystemExit) as info:
        run_group(build_group(), args)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_success_exits_zero(capsys):
    code, out, _ = run(["show"], capsys)
    assert code == 0
    assert json.loads(out) == {"views": 8, "frame_window": 16, "name": "default"}


def test_input_error_exits_two_with_file_and_field_and_no_traceback(capsys):
    code, _, err = run(["fail", "--kind", "input"], capsys)
    assert code == 2
    assert "img.png: field 'rgb': expected 3 channels, got 4" in err
    assert "Traceback" not in err


def test_runtime_error_exits_one(capsys):
    code, _, err = run(["fail", "--kind", "runtime"], capsys)
    assert code == 1
    assert "the renderer ran out of memory" in err


def test_unexpected_error_exits_one_and_suggests_debug(capsys, monkeypatch):
    monkeypatch.delenv("HVG_DEBUG", raising=False)
    code, _, err = run(["fail", "--kind", "other"], capsys)
    assert code == 1
    assert "RuntimeError: boom" in err and "--debug" in err and "Traceback" not in err


def test_debug_shows_the_traceback(capsys, monkeypatch):
    monkeypatch.setenv("HVG_DEBUG", "0")  # restored (removed) at teardown
    code, _, err = run(["--debug", "fail", "--kind", "runtime"], capsys)
    assert code == 1
    assert "Traceback" in err


def test_usage_error_exits_two(capsys):
    code, _, err = run(["show", "--views", "many"], capsys)
    assert code == 2
    assert "'many' is not a valid integer" in err


def test_help_and_version_exit_zero(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "Demo tool." in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and "version" in out


def test_toml_config_feeds_defaults_and_command_line_wins(tmp_path, capsys):
    config = tmp_path / "opts.toml"
    config.write_text('views = 4\nframe-window = 24\nname = "from-file"\n')
    code, out, _ = run(["show", "--config", str(config), "--name", "cli"], capsys)
    assert code == 0
    assert json.loads(out) == {"views": 4, "frame_window": 24, "name": "cli"}


def test_yaml_config(tmp_path, capsys):
    config = tmp_path / "opts.yaml"
    config.write_text("views: 6\nframe_window: 12\n")
    code, out, _ = run(["show", "--config", str(config)], capsys)
    assert code == 0
    assert json.loads(out)["views"] == 6 and json.loads(out)["frame_window"] == 12


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("bad.toml", "views = = 3", "invalid config file"),
        ("bad.yaml", "views: [1, 2", "invalid config file"),
        ("list.yaml", "- 1\n- 2\n", "top level of a config file must be a table"),
        ("opts.ini", "views=3", "must end in .toml, .yaml or .yml"),
    ],
)
def test_bad_config_files_are_input_errors_naming_the_file(tmp_path, file_name, text, message):
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_config_file(path)
    assert info.value.path == str(path)


def test_config_keys_are_the_long_option_names(tmp_path, capsys):
    config = tmp_path / "opts.yaml"
    config.write_text("reference: person.png\nno-gpu: true\ntag: [a, b]\n")
    code, out, err = run(["show", "--config", str(config)], capsys)
    assert code == 0, err
    values = json.loads(out)
    assert values["reference"] == "person.png"
    assert values["use_gpu"] is False and values["tags"] == ["a", "b"]


def test_unknown_config_key_exits_two_naming_it_and_the_valid_keys(tmp_path, capsys):
    config = tmp_path / "opts.yaml"
    config.write_text("views: 2\nframes: 8\n")
    code, out, err = run(["show", "--config", str(config)], capsys)
    assert code == 2 and out == ""
    assert f"{config}: field 'frames': unknown key" in err
    assert "frame_window, name, no_gpu, reference, tag, use_gpu, views" in err


def test_internal_parameter_name_is_refused_with_the_option_name(tmp_path, capsys):
    config = tmp_path / "opts.toml"
    config.write_text('reference_path = "person.png"\n')
    code, _, err = run(["show", "--config", str(config)], capsys)
    assert code == 2
    assert "field 'reference_path': unknown key; use 'reference'" in err


def test_config_value_of_the_wrong_type_names_file_and_key(tmp_path, capsys):
    config = tmp_path / "opts.toml"
    config.write_text('views = "many"\n')
    code, _, err = run(["show", "--config", str(config)], capsys)
    assert code == 2
    assert f"{config}: field 'views': 'many' is not a valid integer" in err


def test_tables_named_after_subcommands(tmp_path, capsys):
    config = tmp_path / "opts.toml"
    config.write_text('name = "top"\n[show]\nviews = 3\n[other]\nsteps = 7\n')
    code, out, err = run(["show", "--config", str(config)], capsys)
    assert code == 0, err
    assert json.loads(out) == {"views": 3, "frame_window": 16, "name": "top"}
    config.write_text("[show]\nviews = 3\n[other]\nsteps = 7\n")
    code, out, err = run(["other", "--config", str(config)], capsys)
    assert code == 0, err
    assert json.loads(out) == {"steps": 7}


def test_missing_config_file_exits_two(tmp_path, capsys):
    code, _, err = run(["show", "--config", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "config file not found" in err


def test_progress_is_quiet_off_a_terminal(monkeypatch):
    monkeypatch.delenv("HVG_PROGRESS", raising=False)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress(range(5), desc="work")) == [0, 1, 2, 3, 4]
    assert stream.getvalue() == ""


def test_progress_can_be_forced_on(monkeypatch):
    monkeypatch.setenv("HVG_PROGRESS", "1")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress(range(3), desc="work", total=3)) == [0, 1, 2]
    assert "work" in stream.getvalue()


def test_config_file_with_a_relative_path_in_a_subprocess(tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(
        textwrap.dedent(
            """
            import click
            from hvg_core.cli_utils import config_option, hvg_group, run_group

            @hvg_group(package="hvg-core")
            def cli():
                "Tool."

            @cli.command()
            @config_option
            @click.option("--reference", "reference_path", required=True)
            @click.option("--out", "out_dir", default="tool-output")
            def generate(reference_path, out_dir):
                click.echo(f"{reference_path} -> {out_dir}")

            run_group(cli)
            """
        )
    )
    (tmp_path / "infer.yaml").write_text("reference: person.png\nout: results\n")
    (tmp_path / "typo.yaml").write_text("reference: person.png\noutput: results\n")
    ok = subprocess.run(
        [sys.executable, "tool.py", "generate", "--config", "infer.yaml"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "person.png -> results"
    typo = subprocess.run(
        [sys.executable, "tool.py", "generate", "--config", "typo.yaml"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert typo.returncode == 2
    assert "typo.yaml: field 'output': unknown key; valid keys: out, reference" in typo.stderr


def test_console_script_exit_codes_in_a_subprocess(tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(
        textwrap.dedent(
            """
            import click
            from hvg_core.cli_utils import hvg_group, run_group
            from hvg_core.errors import MissingResourceError

            @hvg_group(package="hvg-core")
            def cli():
                "Tool."

            @cli.command()
            def weights():
                raise MissingResourceError("put pt_inception.pth there", path="/w/pt_inception.pth")

            run_group(cli)
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "HVG_DEBUG"}
    result = subprocess.run(
        [sys.executable, str(script), "weights"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 2
    assert "/w/pt_inception.pth: put pt_inception.pth there" in result.stderr
    assert "Traceback" not in result.stderr
