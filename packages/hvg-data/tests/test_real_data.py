"""Runs only where real datasets are on disk: HVG_DATA_ROOT/<dataset name>/ (e.g.
``$HVG_DATA_ROOT/thuman2`` holding THuman2.0_Release/ and smplx/), optionally with SMPL-X model
files in ``$HVG_SMPLX_MODEL_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hvg_core.registry import get_registry

from hvg_data.config import RenderConfig
from hvg_data.render_sample import render_sample
from hvg_data.testing import check_adapter_contract


@pytest.mark.data
@pytest.mark.parametrize("name", ["thuman2", "thuman21", "2k2k", "customhuman", "mvhumannet"])
def test_real_dataset(name):
    base = os.environ.get("HVG_DATA_ROOT")
    if not base or not (Path(base) / name).is_dir():
        pytest.skip(f"set HVG_DATA_ROOT to a folder holding {name}/")
    model_dir = os.environ.get("HVG_SMPLX_MODEL_DIR")
    body = "smplx" if model_dir else "builtin"
    adapter = get_registry().load("datasets", name)(Path(base) / name)
    samples = check_adapter_contract(
        adapter, max_subjects=2, body_model=body, model_dir=model_dir, bbox_margin=0.05
    )
    fitted = [s for s in samples if s.smplx is not None]
    if fitted:
        rendered = render_sample(
            fitted[0], RenderConfig(views=4, size=256, body_model=body), smplx_model_dir=model_dir
        )
        bones = rendered.depth > 0
        assert (bones & rendered.mask).sum() / bones.sum() > 0.8
