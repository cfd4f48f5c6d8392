"""The docs stay true: the command reference matches --help, every Python snippet runs."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
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


# ----------------------------------------------------------------- executable documentation

#: Docs whose ``python`` blocks are run, in order, as one script per document.
RUNNABLE_DOCS = ["README.md", "docs/python-api.md"]
#: Docs whose ``python`` blocks are the files of a plugin package (tests/test_plugin_docs.py).
PLUGIN_DOCS = ["docs/plugins.md"]


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced code blocks of ``language`` in a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def test_every_python_block_in_the_docs_is_run_by_a_test():
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    with_python = [
        str(path.relative_to(REPO))
        for path in documents
        if fenced_blocks(path.read_text(encoding="utf-8"), "python")
    ]
    unchecked = sorted(set(with_python) - set(RUNNABLE_DOCS) - set(PLUGIN_DOCS))
    assert not unchecked, f"python blocks that no test runs: {unchecked}"
    for document in RUNNABLE_DOCS:
        assert document in with_python, f"{document} lost its python example"


RUNNER = """
import sys

for document in sys.argv[1:]:
    code = "\\n\\n".join(BLOCKS[document])
    print(f"== {document}", flush=True)
    exec(compile(code, document, "exec"), {"__name__": "__main__"})
"""


def test_python_snippets_run_as_written(tmp_path, tiny_pipeline_dir):
    """README's and docs/python-api.md's snippets, from a copy of the repository root's layout."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copytree(tiny_pipeline_dir, tmp_path / "models" / "example")  # as `hvg-model export`
    blocks = {
        document: fenced_blocks((REPO / document).read_text(encoding="utf-8"), "python")
        for document in RUNNABLE_DOCS
    }
    script = tmp_path / "run_docs.py"
    script.write_text(f"BLOCKS = {blocks!r}\n{RUNNER}", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "run_docs.py", *RUNNABLE_DOCS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "readme.mp4").stat().st_size > 0
    assert (tmp_path / "out" / "walk.mp4").stat().st_size > 0
    assert "(1, 2, 4, 3, 64, 64)" in result.stdout  # the frames the API guide announces
