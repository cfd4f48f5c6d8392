"""Shared pieces of the hvg-data benchmarks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def ray_scaling() -> ModuleType:
    """``_ray_scaling.py`` of this folder (benchmarks are not an importable package)."""
    path = Path(__file__).with_name("_ray_scaling.py")
    spec = importlib.util.spec_from_file_location("hvg_data_bench_ray_scaling", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
