import hashlib
import os
from pathlib import Path

import pytest
import torch
from hvg_core.errors import InputError, MissingResourceError

from hvg_eval.networks.lpips_vgg import LPIPSHeads
from hvg_eval.weights import registry
from hvg_eval.weights.loading import load_network, read_state_dict
from hvg_eval.weights.registry import (
    WEIGHT_FILES,
    find_weight_file,
    resolve_weight_file,
    search_directories,
    sha256_of,
    verify_file,
)


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HVG_EVAL_WEIGHTS", raising=False)
    return tmp_path


def _put(directory: Path, name: str, payload: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(payload)
    return path


def test_search_order(isolated_home, monkeypatch):
    env_a, env_b = isolated_home / "a", isolated_home / "b"
    monkeypatch.setenv("HVG_EVAL_WEIGHTS", os.pathsep.join([str(env_a), str(env_b)]))
    places = search_directories(isolated_home / "cli")
    assert [label for label, _ in places] == [
        "--weights-dir",
        "$HVG_EVAL_WEIGHTS",
        "$HVG_EVAL_WEIGHTS",
        "user cache",
        "torch hub cache",
    ]
    assert places[3][1] == isolated_home / "xdg" / "hvg-eval" / "weights"
    assert places[4][1] == isolated_home / "torch" / "hub" / "checkpoints"
    name = WEIGHT_FILES["i3d-pt"].filename
    hub = _put(isolated_home / "torch" / "hub" / "checkpoints", name, b"hub")
    assert find_weight_file("i3d-pt")[0] == hub
    cache = _put(isolated_home / "xdg" / "hvg-eval" / "weights", name, b"cache")
    assert find_weight_file("i3d-pt")[0] == cache
    env = _put(env_b, name, b"env")
    assert find_weight_file("i3d-pt")[0] == env
    cli = _put(isolated_home / "cli", name, b"cli")
    assert find_weight_file("i3d-pt", isolated_home / "cli")[0] == cli


def test_alias_file_names_are_found(isolated_home):
    alias = _put(isolated_home / "w", "weights-inception-2015-12-05-6726825d.pth", b"x")
    assert find_weight_file("fid-inception-pt", isolated_home / "w")[0] == alias


def test_missing_file_message_names_everything(isolated_home):
    with pytest.raises(MissingResourceError) as caught:
        resolve_weight_file("i3d-pt", "FVD (protocol disco)", isolated_home / "cli")
    message = str(caught.value)
    assert caught.value.exit_code == 2
    for needle in (
        "FVD (protocol disco)",
        "i3d_pretrained_400.pt",
        str(isolated_home / "cli"),
        str(isolated_home / "xdg" / "hvg-eval" / "weights"),
        str(isolated_home / "torch" / "hub" / "checkpoints"),
        "https://github.com/songweige/TATS/raw/main/tats/fvd/i3d_pretrained_400.pt",
        "a867b87ac3a9097d200598b1d48a1b890d8ec744",
        "HVG_EVAL_WEIGHTS",
    ):
        assert needle in message


def test_git_blob_digest_and_mismatch(isolated_home, monkeypatch):
    payload = b"pretend i3d weights"
    blob = hashlib.sha1(b"blob %d\0" % len(payload) + payload).hexdigest()
    entry = WEIGHT_FILES["i3d-pt"]
    monkeypatch.setitem(
        WEIGHT_FILES, "i3d-pt", registry.WeightFile(**{**entry.__dict__, "digest": blob})
    )
    path = _put(isolated_home / "w", entry.filename, payload)
    result = resolve_weight_file("i3d-pt", "FVD", isolated_home / "w")
    assert result.ok and result.sha256 == hashlib.sha256(payload).hexdigest()
    path.write_bytes(b"something else")
    with pytest.raises(MissingResourceError, match="does not match the published checksum"):
        resolve_weight_file("i3d-pt", "FVD", isolated_home / "w")
    unverified = resolve_weight_file("i3d-pt", "FVD", isolated_home / "w", allow_unverified=True)
    assert not unverified.ok


def test_sha256_cache_is_keyed_by_size_and_mtime_and_lives_in_the_user_cache(isolated_home):
    path = _put(isolated_home / "w", "f.bin", b"abc")
    assert sha256_of(path) == hashlib.sha256(b"abc").hexdigest()
    cache = isolated_home / "xdg" / "hvg-eval" / "sha256-cache.json"
    assert str(path.resolve()) in cache.read_text()
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.bin"]  # nothing written beside it
    path.write_bytes(b"abcd")
    os.utime(path, ns=(1, 2))
    assert sha256_of(path) == hashlib.sha256(b"abcd").hexdigest()
    cache.write_text("not json")
    assert sha256_of(path) == hashlib.sha256(b"abcd").hexdigest()


def test_real_lpips_heads_shipped_in_the_wheel_are_found_and_verified(isolated_home):
    lpips = pytest.importorskip("lpips")
    path, _ = find_weight_file("lpips-lin-vgg")
    assert path == Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth"
    result = verify_file("lpips-lin-vgg", path)
    assert result.ok and result.sha256 == WEIGHT_FILES["lpips-lin-vgg"].digest
    heads = LPIPSHeads()
    record = load_network("lpips-lin-vgg", heads, metric="LPIPS")
    assert record.verified and record.sha256 == result.sha256
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    torch.testing.assert_close(heads.lin2.model[1].weight, shipped["lin2.model.1.weight"])


def test_wrong_but_loadable_file_is_refused_by_the_manifest(isolated_home, monkeypatch):
    entry = WEIGHT_FILES["lpips-lin-vgg"]
    path = isolated_home / "w" / entry.filename
    path.parent.mkdir()
    torch.save({"lin0.model.1.weight": torch.zeros(1, 32, 1, 1)}, path)
    with pytest.raises(InputError, match=r"manifest.*missing.*wrong shape"):
        load_network(
            "lpips-lin-vgg",
            LPIPSHeads(),
            metric="LPIPS",
            weights_dir=path.parent,
            allow_unverified=True,
        )


def test_state_dict_reading_strips_module_prefix_and_refuses_pickles(tmp_path):
    path = tmp_path / "r.pth"
    torch.save({"state_dict": {"module.conv1.weight": torch.zeros(2)}}, path)
    assert list(read_state_dict(path)) == ["conv1.weight"]

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "bad.pth"
    torch.save({"x": Evil()}, bad)
    with pytest.raises(InputError, match="never runs code"):
        read_state_dict(bad)
