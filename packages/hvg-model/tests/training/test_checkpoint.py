"""Checkpoints: atomic writes, exact round trips of every state, clear errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError, MissingResourceError

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.optim import ExponentialMovingAverage, build_scheduler, lr_factor


def _payload(step: int) -> ckpt.CheckpointPayload:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = build_scheduler(
        optimizer, warmup_steps=2, max_steps=10, schedule="cosine", min_ratio=0.1
    )
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    ema = ExponentialMovingAverage(model.named_parameters(), 0.9)
    ema.update(model.named_parameters())
    return ckpt.CheckpointPayload(
        step=step,
        samples_consumed=step * 4,
        model=model.state_dict(),
        ema=ema.state_dict(),
        optimizer=optimizer.state_dict(),
        optimizer_names=["weight", "bias"],
        scheduler=scheduler.state_dict(),
        rng=[ckpt.capture_rng_state()],
        extra={"config": {"a": 1}},
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    payload = _payload(3)
    path = ckpt.save_checkpoint(tmp_path, payload, keep=2)
    loaded = ckpt.load_checkpoint(path, num_ranks=1)
    assert (loaded.step, loaded.samples_consumed) == (3, 12)
    for key, value in payload.model.items():
        assert torch.equal(loaded.model[key], value)
    for key, value in payload.ema.items():
        assert torch.equal(loaded.ema[key], value)
    assert loaded.optimizer["param_groups"][0]["lr"] == payload.optimizer["param_groups"][0]["lr"]
    for index, state in payload.optimizer["state"].items():
        for name, value in state.items():
            assert torch.equal(loaded.optimizer["state"][index][name], value)
    assert loaded.scheduler == payload.scheduler
    # The optimiser state loads back into a fresh optimiser.
    model = torch.nn.Linear(3, 2)
    torch.optim.AdamW(model.parameters()).load_state_dict(loaded.optimizer)


def test_rng_states_restore_exactly() -> None:
    tensors, values = ckpt.capture_rng_state()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    ckpt.restore_rng_state(tensors, values)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0])
    assert np.array_equal(expected[1], again[1]) and expected[2] == again[2]


def test_pruning_latest_and_replacing_an_existing_step(tmp_path: Path) -> None:
    for step in (1, 2, 3):
        ckpt.save_checkpoint(tmp_path, _payload(step), keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000002", "step-00000003"]
    assert ckpt.resolve_resume(tmp_path).name == "step-00000003"
    ckpt.save_checkpoint(tmp_path, _payload(3), keep=2)  # a resumed run re-reaches step 3
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000002", "step-00000003"]
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]


def test_temporary_directories_are_ignored_and_cleaned(tmp_path: Path) -> None:
    ckpt.save_checkpoint(tmp_path, _payload(1), keep=3)
    stale = tmp_path / "checkpoints" / ".tmp-step-00000002-123"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"partial")
    assert ckpt.resolve_resume(tmp_path).name == "step-00000001"
    assert ckpt.remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists()


def test_errors_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(MissingResourceError, match="no checkpoint to resume from"):
        ckpt.resolve_resume(tmp_path)
    path = ckpt.save_checkpoint(tmp_path, _payload(1), keep=1)
    (path / "optimizer.safetensors").unlink()
    with pytest.raises(InputError, match=r"optimizer\.safetensors is missing"):
        ckpt.load_checkpoint(path, num_ranks=1)
    with pytest.raises(MissingResourceError, match="init_from"):
        ckpt.load_model_weights(tmp_path / "nothing")


def test_split_and_join_tensors_round_trip() -> None:
    state = {
        "state": {0: {"step": torch.tensor(3.0), "m": torch.ones(2)}},
        "groups": [{"betas": (0.9, 0.99), "params": [0]}],
    }
    tensors, skeleton = ckpt.split_tensors(state)
    joined = ckpt.join_tensors(tensors, skeleton)
    assert list(joined["state"]) == [0] and torch.equal(joined["state"][0]["m"], torch.ones(2))
    assert joined["groups"][0]["betas"] == [0.9, 0.99]
    with pytest.raises(TypeError, match="cannot store object"):
        ckpt.split_tensors({"x": object()})


def test_lr_schedule_shapes() -> None:
    assert [
        lr_factor(s, warmup_steps=4, max_steps=10, schedule="constant", min_ratio=0)
        for s in range(5)
    ] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert lr_factor(
        10, warmup_steps=0, max_steps=10, schedule="cosine", min_ratio=0.1
    ) == pytest.approx(0.1)
    assert lr_factor(
        5, warmup_steps=0, max_steps=10, schedule="linear", min_ratio=0.0
    ) == pytest.approx(0.5)


def test_ema_follows_the_weights_with_warmup() -> None:
    parameter = torch.nn.Parameter(torch.zeros(1))
    ema = ExponentialMovingAverage([("p", parameter)], decay=0.99)
    with torch.no_grad():
        parameter.fill_(1.0)
    ema.update([("p", parameter)])
    # First update uses min(0.99, 1/10) = 0.1: ema = 0.1·0 + 0.9·1.
    assert float(ema.shadow["p"]) == pytest.approx(0.9)
    state = ema.state_dict()
    other = ExponentialMovingAverage([("p", torch.zeros(1))], decay=0.99)
    other.load_state_dict(state)
    assert other.num_updates == 1 and torch.equal(other.shadow["p"], ema.shadow["p"])
    with pytest.raises(ValueError, match="EMA state does not match"):
        ExponentialMovingAverage([("q", torch.zeros(1))], 0.9).load_state_dict(state)


def test_on_lineage_keeps_ancestors_up_to_each_fork_and_drops_abandoned_branches() -> None:
    lineage = [["a", 0], ["b", 2], ["c", 5]]
    assert ckpt.on_lineage(2, [["a", 0]], lineage)  # a's checkpoint at the fork
    assert not ckpt.on_lineage(3, [["a", 0]], lineage)  # a after the fork: abandoned
    assert ckpt.on_lineage(5, [["a", 0], ["b", 2]], lineage)
    assert not ckpt.on_lineage(6, [["a", 0], ["b", 2]], lineage)
    assert ckpt.on_lineage(9, [["a", 0], ["b", 2], ["c", 5]], lineage)
    assert not ckpt.on_lineage(4, [["x", 0]], lineage)  # another run's branch
    # Runs and checkpoints from before lineages: a legacy checkpoint is the first session's root.
    assert ckpt.on_lineage(7, None, None)
    assert ckpt.on_lineage(4, None, [["b", 4]]) and not ckpt.on_lineage(5, None, [["b", 4]])
