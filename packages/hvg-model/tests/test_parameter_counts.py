from __future__ import annotations

import re
from pathlib import Path

from hvg_model.parameter_counts import count_parameters, format_counts


def test_full_size_counts_on_the_meta_device_match_svd_xt_and_the_readme():
    counts = count_parameters()
    # SVD-xt's UNet has 1,524,623,082 parameters (diffusers' class defaults = the released config).
    assert counts.svd_unet == 1_524_623_082
    # View attention: per transformer 4·C² + C (q, k, v, out weights + out bias) + 2C (LayerNorm),
    # 16 transformers: widths 320×(2 down + 3 up), 640×(2 + 3), 1280×(2 + 1 mid + 3).
    widths = [320] * 5 + [640] * 5 + [1280] * 6
    assert counts.view_attention == sum(4 * c * c + 3 * c for c in widths)
    # Camera embedding: 9 entries × 2 × 8 frequencies → 1280, weights + bias.
    assert counts.camera_embedding == 9 * 16 * 1280 + 1280
    assert counts.reference_gates == 7
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = format_counts(counts)
    for line in table.splitlines()[2:]:
        number = re.search(r"\| ([\d,]+) \|", line).group(1)
        assert number in readme, f"README parameter table is out of date: {line}"
