"""Every console script answers --help/--version; --help paths stay free of torch and ray."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

SCRIPTS = ["hvg", "hvg-bonemap", "hvg-data", "hvg-sampler", "hvg-model", "hvg-eval"]
pytestmark = pytest.mark.integration


def script_path(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    assert path is not None, f"console script {name} is not installed next to {sys.executable}"
    return path


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_version(script):
    result = subprocess.run([script_path(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "--version" in result.stdout
    result = subprocess.run([script_path(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "version 0." in result.stdout


@pytest.mark.parametrize("script", ["hvg-eval", "hvg-data", "hvg", "hvg-sampler"])
def test_help_does_not_import_torch_or_ray(script):
    module = {"hvg": "hvg_core"}.get(script, script.replace("-", "_"))
    code = (
        "import sys\n"
        f"from {module}.cli import main\n"
        f"sys.argv = [{script!r}, '--help']\n"
        "try:\n    main()\nexcept SystemExit as exit_:\n    assert exit_.code == 0, exit_.code\n"
        "heavy = sorted(m for m in ('torch', 'ray', 'diffusers', 'h5py') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout, result.stdout.splitlines()[-1]


def test_usage_error_exit_code():
    result = subprocess.run([script_path("hvg"), "no-such-command"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_plugins_json_lists_builtins_with_package_and_version():
    result = subprocess.run(
        [script_path("hvg"), "plugins", "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    packages = {row["package"] for row in rows}
    assert {"hvg-bonemap", "hvg-data", "hvg-sampler", "hvg-eval"} <= packages
    assert all(row["version"] != "?" for row in rows)


def test_the_test_plugin_is_not_in_the_synced_environment():
    """`uv sync` installs no test fixture: a user's `hvg plugins` shows only real parts."""
    result = subprocess.run(
        [script_path("hvg"), "plugins", "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert not [row["name"] for row in rows if row["package"] == "hvg-testplugin"]
    assert not [row["name"] for row in rows if row["name"].startswith("testplugin-")]
