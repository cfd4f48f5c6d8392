"""docs/plugins.md's example plugin installs as written and keeps every contract it documents.

The files of the page (code blocks whose first line is ``# <path>``) are written to a temporary
folder, built into a wheel with ``uv build``, installed with ``--no-deps`` into a fresh virtual
environment that sees this environment's packages, and checked there: hook names, the metric,
fusion-weight, sampler and dataset contracts, a console command, and the page's lookup script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "plugins.md"
pytestmark = pytest.mark.integration

CHECKS = """
from hvg_core.registry import get_registry
from hvg_core.testing import check_plugin
from hvg_data.testing import check_adapter_contract
from hvg_eval.testing import check_metric_contract
from hvg_sampler.testing import check_fusion_weight, check_sampler

import hvg_myplugin

parts = {(entry.kind, entry.name) for entry in check_plugin(hvg_myplugin)}
assert parts == {
    ("metrics", "myplugin-mae"),
    ("fusion_weights", "myplugin-cosine"),
    ("samplers", "myplugin-views-first"),
    ("datasets", "myplugin-box"),
}, parts
registry = get_registry()
assert registry.entry("metrics", "myplugin-mae").distribution == "hvg-myplugin"
check_metric_contract(registry.load("metrics", "myplugin-mae"))
check_fusion_weight(registry.load("fusion_weights", "myplugin-cosine"))
check_sampler(registry.load("samplers", "myplugin-views-first"))
samples = check_adapter_contract(registry.load("datasets", "myplugin-box")(count=2))
assert [sample.subject for sample in samples] == ["box-0", "box-1"]
print("CONTRACTS OK")
"""


def page_files() -> dict[str, str]:
    """``{path: text}`` of the page's code blocks that start with ``# <path>``."""
    text = PAGE.read_text(encoding="utf-8")
    files = {}
    for body in re.findall(r"^```(?:python|toml)\n(.*?)^```", text, flags=re.S | re.M):
        first, _, rest = body.partition("\n")
        match = re.fullmatch(r"# ([\w./-]+\.(?:py|toml))", first.strip())
        if match:
            files[match.group(1)] = rest if match.group(1).endswith(".toml") else body
    return files


def test_every_code_block_of_the_page_is_a_named_file():
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:python|toml)\n(.*?)^```", text, flags=re.S | re.M)
    assert len(page_files()) == len(blocks) >= 7


def uv_binary() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not on PATH (the project is driven by uv; CI installs it)")
    return found


def run(args, cwd, **kwargs):
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, timeout=600, **kwargs
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_example_plugin_builds_installs_and_keeps_the_contracts(tmp_path):
    uv = uv_binary()
    project = tmp_path / "hvg-myplugin"
    for relative, text in page_files().items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    run([uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist")], project)
    (wheel,) = (tmp_path / "dist").glob("hvg_myplugin-0.1.0-*.whl")

    venv = tmp_path / "venv"
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site_packages = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path).stdout.strip()
    )  # fmt: skip
    # The fresh environment sees HVG and torch from this one (they are not on PyPI yet), so
    # only the plugin itself is installed, exactly as the page's pyproject describes it.
    (site_packages / "zz_hvg_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    run([uv, "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)],
        tmp_path)  # fmt: skip

    checks = run([str(python), "-c", textwrap.dedent(CHECKS)], tmp_path)
    assert "CONTRACTS OK" in checks.stdout
    lookup = run([str(python), "lookup.py"], project)
    assert "'myplugin-mae'" in lookup.stdout and "hvg-myplugin 0.1.0" in lookup.stdout
    weights = run(
        [str(python), "-m", "hvg_sampler", "weights", "myplugin-cosine", "--length", "5", "--json"],
        tmp_path,
    )
    values = json.loads(weights.stdout)["weights"]
    assert len(values) == 5 and min(values) > 0 and max(values) == values[2]
