"""The training reader checks every shard against manifest.json before reading a sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hvg_core.errors import InputError

from hvg_data import training
from hvg_data.training import MultiViewDataset


@pytest.fixture
def shards(synthetic_shards: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(synthetic_shards, tmp_path / "shards"))


def _first_entry(folder: Path) -> tuple[dict, Path]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return manifest, folder / manifest["shards"][0]["file"]


def test_a_changed_shard_of_the_same_size_is_refused_naming_the_file(shards: Path) -> None:
    _, shard = _first_entry(shards)
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        MultiViewDataset(shards, views=2, frames=1)
    assert caught.value.field == "sha256" and caught.value.path == str(shard)


def test_a_truncated_shard_is_refused_by_size(shards: Path) -> None:
    _, shard = _first_entry(shards)
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(InputError) as caught:
        MultiViewDataset(shards, views=2, frames=1)
    assert caught.value.field == "bytes"


@pytest.mark.parametrize("entry", ["../escape.h5", "/tmp/escape.h5", "sub/escape.h5", ".."])
def test_manifest_entries_outside_the_folder_are_refused(shards: Path, entry: str) -> None:
    manifest, shard = _first_entry(shards)
    shutil.copy(shard, shards.parent / "escape.h5")
    manifest["shards"][0]["file"] = entry
    (shards / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as caught:
        MultiViewDataset(shards, views=2, frames=1)
    assert caught.value.field == "shards.file" and entry in caught.value.message


def test_a_symlink_out_of_the_folder_is_refused(shards: Path, tmp_path: Path) -> None:
    _, shard = _first_entry(shards)
    outside = tmp_path / "elsewhere.h5"
    shutil.move(shard, outside)
    shard.symlink_to(outside)
    with pytest.raises(InputError, match="links outside"):
        MultiViewDataset(shards, views=2, frames=1)


def test_each_shard_is_hashed_once_per_process(
    shards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = training.sha256_of

    def counting(path: Path) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(training, "sha256_of", counting)
    first = MultiViewDataset(shards, views=2, frames=1)
    MultiViewDataset(shards, views=4, frames=1)  # another layout, as ShardSource builds
    first.set_epoch(1)
    first[0]
    assert len(calls) == len(first.manifest.shards)
    # A file replaced afterwards (new inode and mtime) is hashed, and refused, again.
    _, shard = _first_entry(shards)
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.unlink()
    shard.write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256"):
        MultiViewDataset(shards, views=2, frames=1)


def test_verify_reports_an_entry_outside_the_folder_without_reading_it(shards: Path) -> None:
    """`hvg-data verify` and the trainer share one rule for manifest entries (shard_path)."""
    from hvg_data.shards import verify_folder

    manifest, shard = _first_entry(shards)
    shutil.copy(shard, shards.parent / "escape.h5")  # a valid shard, but outside the folder
    manifest["shards"][0]["file"] = "../escape.h5"
    (shards / "manifest.json").write_text(json.dumps(manifest))
    report = verify_folder(shards)
    assert not report.ok
    assert any(
        "'../escape.h5'" in problem and "shards.file" in problem for problem in report.problems
    )
