"""Training throughput and memory of the tiny config: gradient checkpointing off vs on.

Run with ``uv run pytest packages/hvg-model/benchmarks/bench_train.py --benchmark-enable``.
Each benchmark round is one optimiser step (global batch 2 subjects × 2 views, 64² images,
tiny HVGDenoisingNet + ReferenceNet, CPU fp32). ``extra_info`` records samples/s, the bytes
autograd saved for backward (activations, measured on the real tensors), the training state
(weights + gradients + AdamW moments) and the process peak RSS.
"""

from __future__ import annotations

import contextlib
import resource
import time
from pathlib import Path

import pytest
import torch

from hvg_model.training.components import load_frozen_encoders
from hvg_model.training.config import load_config
from hvg_model.training.data import ProceduralSource, collate
from hvg_model.training.forward import micro_step_losses
from hvg_model.training.objective import draw_rows
from hvg_model.training.worker_setup import build_trainable


@pytest.fixture(scope="module")
def svd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hvg_model.testing import build_tiny_svd_dir

    return build_tiny_svd_dir(tmp_path_factory.mktemp("bench") / "svd")


class _Saved:
    """Bytes of the distinct storages autograd saves in one step, weights excluded."""

    def __init__(self, weights: list[torch.Tensor]) -> None:
        self.weights = {w.untyped_storage().data_ptr() for w in weights}
        self.storages: dict[int, int] = {}

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self.weights:
            self.storages[storage.data_ptr()] = storage.nbytes()
        return tensor


def _step_function(svd_dir: Path, checkpointing: bool):
    config = load_config(
        "tiny",
        [f"model.svd_dir={svd_dir}", f"model.gradient_checkpointing={str(checkpointing).lower()}"],
    )
    torch.set_num_threads(config.schedule.num_threads)  # as the trainer does (1 for tiny)
    torch.manual_seed(0)
    encoders = load_frozen_encoders(svd_dir)
    module = build_trainable(config, str(svd_dir))
    if checkpointing:
        module.net.enable_gradient_checkpointing()
        module.reference_net.enable_gradient_checkpointing()
    trainable = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    source = ProceduralSource(4, image_size=config.data.image_size)
    batch = collate([source.sample(i, views=2, frames=1, seed=i) for i in range(2)])
    draws = draw_rows(
        seed=0,
        step=0,
        rows=[0, 1],
        latent_shape=(2, 1, 4, 8, 8),
        image_shape=(3, 64, 64),
        p_mean=0.7,
        p_std=1.6,
        cond_aug_mean=-3,
        cond_aug_std=0.5,
        drop_reference_image=0.0,
        drop_reference_net=0.0,
        drop_pose=0.0,
    )
    saved = _Saved(
        [p for p in module.parameters()]
        + [p for p in encoders.vae.parameters()]
        + [p for p in encoders.image_encoder.parameters()]
    )

    def step() -> float:
        saved.storages.clear()
        with torch.autograd.graph.saved_tensors_hooks(saved.pack, lambda t: t):
            losses = micro_step_losses(
                module, encoders, batch, draws, config, contextlib.nullcontext()
            )
        (losses.mean()).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(losses.mean())

    state_bytes = sum(p.numel() * 4 * 4 for p in trainable)  # weight, grad, exp_avg, exp_avg_sq
    return step, saved, state_bytes


@pytest.mark.parametrize("checkpointing", [False, True], ids=["plain", "grad-checkpointing"])
def test_tiny_train_step(
    benchmark: pytest.FixtureRequest, svd_dir: Path, checkpointing: bool
) -> None:
    step, saved, state_bytes = _step_function(svd_dir, checkpointing)
    step()  # warm-up
    start = time.perf_counter()
    loss = benchmark.pedantic(step, rounds=5 if benchmark.enabled else 1, iterations=1)
    assert loss > 0
    if not benchmark.enabled:
        elapsed = time.perf_counter() - start
    else:
        elapsed = benchmark.stats.stats.median
    activation_bytes = sum(saved.storages.values())
    benchmark.extra_info.update(
        samples_per_s=2 / elapsed,
        images_per_s=4 / elapsed,
        activation_mib=activation_bytes / 2**20,
        training_state_mib=state_bytes / 2**20,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    assert activation_bytes > 0
