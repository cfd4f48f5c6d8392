"""Write docs/cli.md from the real ``--help`` of every console script and subcommand.

Run ``uv run python tools/gen_cli_docs.py`` after changing a command; a test fails when the
committed file is stale (``tests/test_docs.py``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click
from click.testing import CliRunner

SCRIPTS = {
    "hvg": "hvg_core.cli",
    "hvg-bonemap": "hvg_bonemap.cli",
    "hvg-data": "hvg_data.cli",
    "hvg-sampler": "hvg_sampler.cli",
    "hvg-model": "hvg_model.cli",
    "hvg-eval": "hvg_eval.cli",
}
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
# Plugins installed only for the tests must not leak into the reference.
TEST_ONLY_DISTRIBUTIONS = {"hvg-testplugin"}


def _group_of(module_name: str, script: str) -> click.Group:
    from hvg_core.cli_utils import add_plugin_commands

    group = importlib.import_module(module_name).cli
    add_plugin_commands(group, script)
    return group


def _help(group: click.Group, script: str, path: list[str]) -> str:
    result = CliRunner().invoke(
        group, [*path, "--help"], prog_name=script, terminal_width=100, catch_exceptions=False
    )
    if result.exit_code != 0:
        raise SystemExit(f"{script} {' '.join(path)} --help failed: {result.output}")
    return result.output.rstrip()


def _walk(command: click.Command, path: list[str]):
    yield path
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(click.Context(command))):
            sub = command.get_command(click.Context(command), name)
            if sub is not None and not getattr(sub, "hidden", False):
                yield from _walk(sub, [*path, name])


def render() -> str:
    """The whole reference as Markdown."""
    import os

    from hvg_core.registry import reset_registry

    previous = os.environ.get("HVG_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["HVG_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    reset_registry()
    try:
        return _render()
    finally:
        if previous is None:
            del os.environ["HVG_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["HVG_DISABLE_PLUGIN_AUTOLOAD"] = previous
        reset_registry()


#: The exit-code contract of every console script (tested by ``tests/test_exit_codes.py``).
EXIT_CODES = """## Exit codes

Every console script exits with:

| code | meaning |
|---|---|
| 0 | success |
| 1 | runtime failure: an `HVGError` (e.g. `hvg-data verify` found a bad shard, `hvg-eval weights verify` a digest mismatch), an unexpected exception (message plus "run again with --debug"), or `hvg-data render` where every subject failed |
| 2 | usage or input error, before any work where possible: click usage errors, a bad or missing file or field (`InputError`: one line naming the file and field), a missing resource, an unknown registered part |
| 3 | `hvg-data render` finished but some subjects failed: they are listed in `OUT/failures.jsonl` and on stderr, the others are rendered |
| 130 | interrupted (Ctrl-C) |

These are the process's own exit codes (`echo $?`), checked for each script by
`tests/test_exit_codes.py` in a subprocess.
"""


def _render() -> str:
    parts = [
        "# Command reference",
        "",
        "Generated from the real `--help` output by `tools/gen_cli_docs.py`; do not edit by hand.",
        "",
        EXIT_CODES,
    ]
    for script, module_name in SCRIPTS.items():
        group = _group_of(module_name, script)
        for path in _walk(group, []):
            title = " ".join([script, *path])
            parts += [f"## `{title}`", "", "```text", _help(group, script, path), "```", ""]
    return "\n".join(parts)


def main() -> None:
    """Write (or with ``--check``, compare) docs/cli.md."""
    text = render()
    if "--check" in sys.argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            raise SystemExit("docs/cli.md is stale: run `uv run python tools/gen_cli_docs.py`")
        return
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
