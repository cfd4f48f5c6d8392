from __future__ import annotations

import textwrap
import types
from pathlib import Path

import pytest
from hvg_core.hookspecs import hookimpl


@pytest.fixture(scope="session")
def fixture_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One fixture tree per real dataset, built once per session."""
    from hvg_data.testing import FIXTURES

    base = tmp_path_factory.mktemp("datasets")
    return {name: make(base / name) for name, make in FIXTURES.items()}


@pytest.fixture(scope="session")
def mvhumannet_fixture(tmp_path_factory: pytest.TempPathFactory):
    from hvg_data.testing import make_mvhumannet_fixture

    return make_mvhumannet_fixture(tmp_path_factory.mktemp("mvh"))


@pytest.fixture(scope="session")
def synthetic_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shards of 3 walking synthetic subjects (4 views, 4 frames, 48 px), local executor."""
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    out = tmp_path_factory.mktemp("shards")
    summary = run_render(
        "synthetic",
        None,
        out,
        RenderConfig(views=4, size=48, shard_size=2),
        adapter_options={"count": 3, "frames": 4},
        options=PipelineOptions(executor="local", progress=False),
    )
    assert not summary.failures, summary.failures
    return out


CRASHING_ADAPTER = """
import os
import signal

from hvg_data.datasets.synthetic import SyntheticAdapter


class CrashingAdapter(SyntheticAdapter):
    name = "crashing"

    def load(self, subject):
        if subject == "00001" and os.environ.get("HVG_TEST_CRASH") == "1":
            os.kill(os.getpid(), signal.SIGSEGV)  # what a crashing native parser does
        return super().load(subject)
"""


@pytest.fixture(scope="session")
def crashing_adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``crashing_adapter.py`` (one per session: Python caches the module)."""
    module_dir = tmp_path_factory.mktemp("crashing-plugin")
    (module_dir / "crashing_adapter.py").write_text(textwrap.dedent(CRASHING_ADAPTER))
    return module_dir


@pytest.fixture
def crashing_dataset(crashing_adapter_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Registers ``crashing`` (synthetic whose subject 00001 segfaults in Ray workers).

    Returns the module's folder, for the Ray workers' ``PYTHONPATH``.
    """
    import hvg_core.registry as registry_module
    from hvg_core.testing import make_registry

    monkeypatch.syspath_prepend(str(crashing_adapter_dir))
    from crashing_adapter import CrashingAdapter  # type: ignore[import-not-found]

    plugin = types.ModuleType("crashing_hvg_plugin")

    @hookimpl
    def hvg_register_datasets(register):
        register("crashing", CrashingAdapter, description="crashes (test)", kind="scan")

    plugin.hvg_register_datasets = hvg_register_datasets
    monkeypatch.setattr(registry_module, "_REGISTRY", make_registry(plugin, load_entry_points=True))
    return crashing_adapter_dir
