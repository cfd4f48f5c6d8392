"""Lazy exports import their module on first access only."""

from __future__ import annotations

import sys
import types
from pathlib import Path

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


PACKAGES_USING_LAZY_EXPORTS = ["hvg_core", "hvg_data", "hvg_sampler", "hvg_model", "hvg_eval"]


@pytest.mark.parametrize("package", PACKAGES_USING_LAZY_EXPORTS)
def test_workspace_packages_export_lazily_and_import_light(package):
    import importlib
    import importlib.util
    import re
    import subprocess

    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")
    code = (
        f"import sys, {package}; "
        f"assert {package}.__getattr__.__qualname__.startswith('lazy_exports'), 'not lazy_exports'; "
        "heavy = sorted({'numpy', 'torch', 'ray', 'h5py', 'pluggy'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Every exported name is defined (or re-exported) by the module it points to, without
    # importing that module (some import torch): read the module's source instead.
    module = importlib.import_module(package)
    exports = module.__getattr__.__closure__
    table = next(c.cell_contents for c in exports if isinstance(c.cell_contents, dict))
    for name, target in table.items():
        origin = importlib.util.find_spec(target).origin
        source = Path(origin).read_text(encoding="utf-8")
        assert re.search(rf"\b{re.escape(name)}\b", source), f"{target} does not define {name}"
