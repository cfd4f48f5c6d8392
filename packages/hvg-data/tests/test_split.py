"""Subject-disjoint train/test sets (paper §4; issue 17)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hvg_core.errors import InputError

from hvg_data.split import SplitSource, build_split, default_identity, identity_map_function


def _sources():
    thuman2 = SplitSource("thuman2", tuple(f"{i:04d}" for i in range(10)), 4)
    thuman21 = SplitSource("thuman21", tuple(f"{i:04d}" for i in range(20)), 6)
    custom = tuple(f"{p:04d}_{o:05d}_00_00001" for p in range(5) for o in range(2))
    return [thuman2, thuman21, SplitSource("customhuman", custom, 3)]


def test_train_is_the_first_subjects_and_test_shares_no_person():
    record = build_split(_sources(), test_count=8, seed=3)
    train = {(e["dataset"], e["subject"]) for e in record["train"]}
    assert len(train) == 4 + 6 + 3
    assert ("thuman2", "0003") in train and ("thuman2", "0004") not in train
    # customhuman trains on the first 3 folders: persons 0000 (both outfits) and 0001 (one)
    assert ("customhuman", "0001_00000_00_00001") in train
    train_people = {e["identity"] for e in record["train"]}
    assert len(record["test"]) == 8
    for entry in record["test"]:
        assert (entry["dataset"], entry["subject"]) not in train
        assert entry["identity"] not in train_people
    # Left out for a shared person: thuman2 0004, 0005 (= thuman21 0004, 0005, training) and
    # customhuman 0001's second outfit.
    assert record["excluded_shared_identity"] == 3
    assert record["pool"] == (10 - 4) + (20 - 6) + (10 - 3) - 3
    # Seeded: the same seed gives the same draw, another seed another.
    assert build_split(_sources(), test_count=8, seed=3)["test"] == record["test"]
    assert build_split(_sources(), test_count=8, seed=4)["test"] != record["test"]


def test_identity_rules_and_overrides():
    assert default_identity("thuman21", "0042") == default_identity("thuman2", "0042")
    assert default_identity("customhuman", "0383_00070_02_00061") == "customhuman:0383"
    assert default_identity("2k2k", "00003") == "2k2k:00003"
    identity = identity_map_function({"2k2k/00003": "thuman:0001"})
    assert identity("2k2k", "00003") == "thuman:0001" and identity("2k2k", "7") == "2k2k:7"


def test_split_errors_name_the_field():
    with pytest.raises(InputError, match="first 11 of 10"):
        build_split([SplitSource("thuman2", tuple(map(str, range(10))), 11)], test_count=1)
    with pytest.raises(InputError, match="cannot draw 9"):
        build_split([SplitSource("thuman2", tuple(map(str, range(10))), 2)], test_count=9)


def _script() -> str:
    return str(Path(sys.executable).with_name("hvg-data"))


def test_split_command_records_the_sets(tmp_path):
    command = [_script(), "split", "--dataset", "synthetic", "-", "6", "--test-count", "4"]
    result = subprocess.run(
        [*command, "--out", "sets/split.json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "sets" / "split.json").read_text())
    assert [e["subject"] for e in record["train"]] == [f"{i:05d}" for i in range(6)]
    assert len(record["test"]) == 4
    assert not {e["subject"] for e in record["test"]} & {e["subject"] for e in record["train"]}
    assert record["sources"] == [
        {"dataset": "synthetic", "root": None, "subjects": 16, "train_count": 6}
    ]
    # Asking for more test subjects than remain is a user error (exit 2).
    too_many = [*command[:-1], "11", "--out", "x.json"]
    result = subprocess.run(too_many, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2 and "--test-count" in result.stderr
    assert not (tmp_path / "x.json").exists()
