"""Meta-tests: every hook is documented and exercised by at least one test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from hvg_core import hookspecs

HOOK_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("hvg_register_"))
REPO = Path(__file__).resolve().parents[3]
THIS_FILE = Path(__file__).resolve()


def test_there_are_hooks():
    assert len(HOOK_NAMES) == 12


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_hook_is_documented(hook_name):
    function = getattr(hookspecs, hook_name)
    doc = inspect.getdoc(function) or ""
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith("."), f"{hook_name}: needs a one-line summary ending in a period"
    assert ":param register:" in doc, f"{hook_name}: document the register parameter"
    assert ":return:" in doc, f"{hook_name}: document what it returns"
    assert list(inspect.signature(function).parameters) == ["register"]
    assert hook_name in (REPO / "docs" / "plugins.md").read_text(), (
        f"{hook_name}: missing from docs/plugins.md"
    )


def _test_sources() -> dict[Path, str]:
    roots = [REPO / "tests", *sorted((REPO / "packages").glob("*/tests"))]
    sources = {}
    for root in roots:
        for path in root.rglob("*.py"):
            if path.resolve() != THIS_FILE:
                sources[path] = path.read_text(encoding="utf-8")
    return sources


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_hook_has_a_test(hook_name):
    users = [path for path, text in _test_sources().items() if hook_name in text]
    assert users, f"no test mentions {hook_name}: add one that exercises it"
