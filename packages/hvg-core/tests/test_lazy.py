"""Lazy exports import their module on first access only."""

from __future__ import annotations

import sys
import types

import pytest

from hvg_core.lazy import lazy_exports


def test_lazy_export_imports_on_first_access(tmp_path, monkeypatch):
    package = tmp_path / "lazypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from hvg_core.lazy import lazy_exports\n"
        "__getattr__, __dir__, __all__ = lazy_exports(__name__, {'VALUE': 'lazypkg.heavy'})\n"
    )
    (package / "heavy.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lazypkg

    assert "lazypkg.heavy" not in sys.modules
    assert lazypkg.__all__ == ["VALUE"] and "VALUE" in dir(lazypkg)
    assert lazypkg.VALUE == 42
    assert "lazypkg.heavy" in sys.modules
    assert lazypkg.__dict__["VALUE"] == 42
    with pytest.raises(AttributeError, match="has no attribute 'MISSING'"):
        lazypkg.MISSING  # noqa: B018
    for name in [n for n in sys.modules if n.startswith("lazypkg")]:
        monkeypatch.delitem(sys.modules, name)


def test_returns_sorted_names():
    module = types.ModuleType("m")
    sys.modules["m"] = module
    try:
        _, _, names = lazy_exports("m", {"b": "x", "a": "y"})
        assert names == ["a", "b"]
    finally:
        del sys.modules["m"]
