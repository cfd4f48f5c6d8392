"""Meta-tests: every hook is documented, and the test plugin proves each kind reaches its consumer.

The consumer checks themselves live in tests/test_testplugin.py (they need every package); this
file, which needs only hvg-core, makes sure no hook is left out of them.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from hvg_core import hookspecs
from hvg_core.registry import KINDS

HOOK_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("hvg_register_"))
REPO = Path(__file__).resolve().parents[3]
TESTPLUGIN = REPO / "tests" / "plugins" / "hvg-testplugin" / "src" / "hvg_testplugin"
CONSUMER_TESTS = REPO / "tests" / "test_testplugin.py"


def test_every_hook_is_a_registry_kind():
    assert len(HOOK_NAMES) >= 12
    assert sorted(KINDS.values()) == HOOK_NAMES


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


def _testplugin_hooks() -> set[str]:
    tree = ast.parse((TESTPLUGIN / "__init__.py").read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _pending_kinds(text: str) -> set[str]:
    """Kinds listed in the set literal ``PENDING_KINDS = {...}`` (empty for ``set()``)."""
    pending = re.search(r"^PENDING_KINDS\b[^=\n]*=\s*\{([^}]*)\}", text, re.M)
    return set(re.findall(r'"([a-z_]+)"', pending.group(1))) if pending else set()


def _consumer_checked_kinds() -> set[str]:
    text = CONSUMER_TESTS.read_text(encoding="utf-8")
    return set(re.findall(r'@consumer_check\("([a-z_]+)"\)', text)) | _pending_kinds(text)


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_hook_has_a_test_plugin_part_and_a_consumer_check(hook_name):
    kind = hook_name.removeprefix("hvg_register_")
    assert kind in _consumer_checked_kinds(), (
        f"tests/test_testplugin.py has no @consumer_check({kind!r}) proving that the test "
        "plugin's part reaches its consumer (see that file's docstring)"
    )
    if kind not in _pending_kinds(CONSUMER_TESTS.read_text(encoding="utf-8")):
        assert hook_name in _testplugin_hooks(), (
            f"tests/plugins/hvg-testplugin registers no {kind} part (implement {hook_name})"
        )
