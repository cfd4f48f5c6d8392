from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hvg_core.errors import InputError

from hvg_data.config import RenderConfig
from hvg_data.pipeline import PARTIAL_FAILURE_EXIT_CODE, PipelineOptions, run_render
from hvg_data.shards import Manifest, verify_folder
from hvg_data.testing import make_thuman2_fixture

LOCAL = PipelineOptions(executor="local", progress=False)
SMALL = RenderConfig(views=2, size=32, shard_size=2)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_resume_skips_complete_shards_and_redoes_changed_ones(tmp_path):
    options = {"count": 4}
    first = run_render("synthetic", None, tmp_path, SMALL, adapter_options=options, options=LOCAL)
    assert (first.shards_written, first.samples, first.exit_code) == (2, 4, 0)
    before = _files(tmp_path)
    again = run_render("synthetic", None, tmp_path, SMALL, adapter_options=options, options=LOCAL)
    assert (again.shards_written, again.shards_skipped) == (0, 2)
    assert _files(tmp_path) == before
    # A damaged shard is redone; the rest stay.
    (tmp_path / "shard-00001.h5").write_bytes(b"damaged")
    repaired = run_render(
        "synthetic", None, tmp_path, SMALL, adapter_options=options, options=LOCAL
    )
    assert (repaired.shards_written, repaired.shards_skipped) == (1, 1)
    assert _files(tmp_path) == before
    # A different configuration would replace complete shards: refused without prune, so
    # nothing is lost; with prune everything is re-rendered.
    bigger = RenderConfig(views=2, size=40, shard_size=2)
    with pytest.raises(InputError, match="--prune") as refused:
        run_render("synthetic", None, tmp_path, bigger, adapter_options=options, options=LOCAL)
    assert refused.value.field == "out"
    assert _files(tmp_path) == before
    changed = run_render(
        "synthetic", None, tmp_path, bigger, adapter_options=options, options=LOCAL, prune=True
    )
    assert changed.shards_written == 2
    assert (
        Manifest.load(tmp_path).config_hash
        == bigger.__class__(
            **{**bigger.__dict__, "adapter": Manifest.load(tmp_path).config["adapter"]}
        ).hash()
    )


def test_bad_subject_is_recorded_and_the_run_goes_on(tmp_path):
    root = make_thuman2_fixture(tmp_path / "data", subjects=("0000", "0001", "0002"))
    (root / "0001" / "material0.jpeg").unlink()
    out = tmp_path / "out"
    summary = run_render(
        "thuman2", root, out, RenderConfig(views=2, size=32, shard_size=2), options=LOCAL
    )
    assert summary.exit_code == PARTIAL_FAILURE_EXIT_CODE
    assert summary.samples == 2
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [f["subject"] for f in failures] == ["0001"]
    assert failures[0]["file"].endswith("material0.mtl") and "map_Kd" in failures[0]["reason"]
    assert verify_folder(out).ok
    # A shard with a failed subject is not complete: the next run retries it (still failing).
    config = RenderConfig(views=2, size=32, shard_size=2)
    again = run_render("thuman2", root, out, config, options=LOCAL)
    assert (again.shards_written, again.shards_skipped, len(again.failures)) == (1, 1, 1)
    # Once the input is fixed, the same command renders the subject.
    shutil.copy(root / "0000" / "material0.jpeg", root / "0001" / "material0.jpeg")
    fixed = run_render("thuman2", root, out, config, options=LOCAL)
    assert (fixed.shards_written, fixed.samples, fixed.failures, fixed.exit_code) == (1, 3, [], 0)
    assert (out / "failures.jsonl").read_text() == ""
    assert verify_folder(out).ok


def test_missing_resource_stops_the_run(tmp_path):
    from hvg_core.errors import MissingResourceError

    root = make_thuman2_fixture(tmp_path / "data", subjects=("0000",))
    with pytest.raises(MissingResourceError, match=r"SMPLX_MALE\.npz"):
        run_render(
            "thuman2",
            root,
            tmp_path / "out",
            RenderConfig(views=2, size=32, body_model="smplx"),
            options=PipelineOptions(
                executor="local", progress=False, smplx_model_dir=str(tmp_path)
            ),
        )


def _render_command(out: Path) -> list[str]:
    script = Path(sys.executable).with_name("hvg-data")
    return [
        str(script),
        "render",
        "--dataset",
        "synthetic",
        "--out",
        str(out),
        "--views",
        "2",
        "--size",
        "32",
        "--shard-size",
        "1",
        "--option",
        "count=6",
        "--executor",
        "local",
    ]


@pytest.mark.integration
def test_sigkill_mid_render_then_resume_is_byte_identical(tmp_path):
    reference = tmp_path / "reference"
    run_render(
        "synthetic",
        None,
        reference,
        RenderConfig(views=2, size=32, shard_size=1),
        adapter_options={"count": 6},
        options=LOCAL,
    )
    out = tmp_path / "killed"
    process = subprocess.Popen(
        _render_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (out / "shard-00001.h5").exists() and time.monotonic() < deadline:
        assert process.poll() is None, "the render finished before it could be killed"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    written = sorted(p.name for p in out.glob("shard-*.h5"))
    assert 1 <= len(written) < 6  # killed mid-way
    # Nothing half-written under a final name: every final-named shard is complete.
    for name in written:
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    # The re-run (same command, in-process to save a second interpreter start).
    resumed = run_render(
        "synthetic",
        None,
        out,
        RenderConfig(views=2, size=32, shard_size=1),
        adapter_options={"count": 6},
        options=LOCAL,
    )
    assert resumed.shards_skipped == len(written) and resumed.exit_code == 0
    assert _files(out) == _files(reference)
    report = verify_folder(out)
    assert report.ok and (report.shards, report.samples) == (6, 6)
