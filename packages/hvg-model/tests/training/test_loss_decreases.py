"""Training the tiny config on synthetic subjects lowers the loss measurably."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from hvg_model.training.components import load_frozen_encoders
from hvg_model.training.config import load_config
from hvg_model.training.forward import evaluation_loss
from hvg_model.training.metrics_log import read_metrics
from hvg_model.training.run import train
from hvg_model.training.sources import build_source
from hvg_model.training.worker_setup import build_trainable

STEPS = 30
EVALUATION_SEED = 1234  # not the training seed: held-out σ and noise draws


class _ZeroPredictor(torch.nn.Module):
    def forward(self, sample: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        return torch.zeros(*sample.shape[:2], 4, *sample.shape[3:])


def test_tiny_config_lowers_the_loss(
    tiny_svd_dir: Path, synthetic_shards: Path, tmp_path: Path
) -> None:
    config = load_config(
        "tiny",
        [
            f"schedule.max_steps={STEPS}",
            f"schedule.checkpoint_every={STEPS}",
            f"model.svd_dir={tiny_svd_dir}",
            f"data.path={synthetic_shards}",
        ],
    )
    out = tmp_path / "run"
    train(config, out)
    encoders = load_frozen_encoders(tiny_svd_dir)
    source = build_source(config, out)

    # The evaluation set is fixed (same samples, σ and noise), so these numbers are
    # deterministic for the seed: the comparison measures the weights, not sampling noise.
    def loss_of(module: torch.nn.Module) -> float:
        return evaluation_loss(
            module, encoders, source, config, seed=EVALUATION_SEED, num_batches=4
        )

    torch.manual_seed(config.schedule.seed)  # the trainer's initial weights (see train_worker)
    module = build_trainable(config, str(tiny_svd_dir))
    before = loss_of(module)
    module.load_state_dict(
        load_file(out / "checkpoints" / f"step-{STEPS:08d}" / "model.safetensors")
    )
    after = loss_of(module)
    zero = loss_of(_ZeroPredictor())
    # Measured (CPU, seed 0): before 0.457, zero predictor 0.326, after 30 steps 0.251.
    # 1) A drop to below 0.7× is far outside float noise (the evaluation is deterministic) and
    #    leaves margin to the measured 0.55×.
    assert after < 0.7 * before, (before, after)
    # 2) Shrinking a random network's output towards 0 alone would stop at the zero predictor's
    #    loss; beating it by 10 % means the network predicts the noise from its inputs.
    assert after < 0.9 * zero, (zero, after)
    log = read_metrics(out / "metrics.jsonl")
    assert [record["step"] for record in log] == list(range(1, STEPS + 1))
    assert (out / "loss_curve.png").stat().st_size > 1000
