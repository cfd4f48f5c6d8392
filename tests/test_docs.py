"""The generated command reference matches the real --help of every command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", REPO / "tools" / "gen_cli_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date(monkeypatch):
    generator = load_generator()
    monkeypatch.setenv("HVG_DISABLE_PLUGIN_AUTOLOAD", "1")
    expected = generator.render()
    current = (REPO / "docs" / "cli.md").read_text()
    assert current == expected, "docs/cli.md is stale: run `uv run python tools/gen_cli_docs.py`"


def test_every_console_script_is_in_the_reference():
    text = (REPO / "docs" / "cli.md").read_text()
    for script in ["hvg", "hvg-bonemap", "hvg-data", "hvg-sampler", "hvg-model", "hvg-eval"]:
        assert f"## `{script}`" in text
