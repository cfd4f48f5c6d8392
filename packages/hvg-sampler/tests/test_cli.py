import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from PIL import Image

from hvg_sampler.cli import cli

PLAN = [
    "plan",
    "--frames",
    "72",
    "--views",
    "12",
    "--frame-window",
    "24",
    "--frame-overlap",
    "8",
    "--view-window",
    "6",
    "--view-overlap",
    "2",
    "--steps",
    "25",
    # research/sampler.md §5 counts windows without a training budget
    "--max-images-per-window",
    "0",
    "--max-frames-per-window",
    "0",
]


def _json(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    ("frames", "views", "n_t", "n_v", "overhead"),
    # research/sampler.md §5 worked HVG numbers (24/8 temporal, 6/2 cyclic views)
    [(72, 12, 4, 3, 2.83), (120, 8, 7, 2, 2.90), (240, 12, 15, 3, 3.00), (48, 6, 3, 1, 2.50)],
)
def test_plan_json_matches_cost_model(frames, views, n_t, n_v, overhead):
    args = [a for a in PLAN]
    args[2], args[4] = str(frames), str(views)
    data = _json([*args, "--cfg", "--json"])
    assert data["calls_per_step"] == n_t + n_v
    assert data["calls_total"] == 25 * (n_t + n_v)
    e_t, e_v = 2 * n_t * 24 * views, 2 * n_v * min(6, views) * frames
    assert data["image_evaluations_per_step"] == e_t + e_v
    assert data["full_pass_image_evaluations_per_step"] == 2 * frames * views
    assert data["overhead_vs_full_pass"] == pytest.approx(overhead, abs=0.005)
    assert len(data["windows"]) == n_t + n_v
    assert data["peak_images_per_call"] == 2 * max(24 * views, min(6, views) * frames)
    assert data["accumulator_grids"] == 6
    for window in data["windows"]:
        assert set(window) >= {"frames", "views"} and window["steps"] == "all"


def test_plan_json_cfg_sequential_and_no_cfg():
    batched = _json([*PLAN, "--cfg", "--json"])
    sequential = _json([*PLAN, "--cfg", "--cfg-sequential", "--json"])
    plain = _json([*PLAN, "--json"])
    assert (
        sequential["calls_per_step"] == 2 * batched["calls_per_step"] == 2 * plain["calls_per_step"]
    )
    assert plain["image_evaluations_per_step"] * 2 == batched["image_evaluations_per_step"]


def test_plan_alternate_and_warnings():
    data = _json(
        [
            "plan",
            "--sampler",
            "alternate",
            "--frames",
            "72",
            "--views",
            "12",
            "--steps",
            "4",
            "--json",
        ]
    )
    # Default budget 72 images / 24 frames: a 24-frame window holds 3 of the 12 views (groups of
    # 3 overlapping by 1, 6 groups on the orbit: 4 × 6 calls); a 6-view window holds 12 frames
    # (chunks of 12 overlapping by 4: 9 chunks, × 3 view windows).
    assert data["calls_by_step"] == [24, 27, 24, 27]
    assert data["budget"] == {
        "max_images_per_window": 72,
        "max_frames_per_window": 24,
        "source": "sampler",
    }
    assert data["peak_images_per_window"] == 72 and data["peak_frames_per_window"] == 24
    unbounded = [
        *(
            [
                "plan",
                "--sampler",
                "alternate",
                "--frames",
                "72",
                "--views",
                "12",
                "--steps",
                "4",
                "--json",
            ]
        ),
        *(["--max-images-per-window", "0", "--max-frames-per-window", "0"]),
    ]
    data = _json(unbounded)
    assert data["calls_by_step"] == [4, 3, 4, 3] and data["calls_per_step"] == 3.5
    assert data["peak_images_per_window"] == max(24 * 12, 6 * 72)
    steps = {w["pass"]: w["steps"] for w in data["windows"]}
    assert steps == {"time": [0, 2], "view": [1, 3]}
    small = _json(["plan", "--frames", "48", "--views", "6", "--json"])
    assert any("view window" in w for w in small["warnings"])


def test_plan_png(tmp_path):
    target = tmp_path / "layout.png"
    data = _json([*PLAN, "--json", "--png", str(target)])
    assert data["png"] == str(target)
    with Image.open(target) as image:
        assert image.size[0] > 100 and image.size[1] > 50


def test_plan_text_output():
    result = CliRunner().invoke(cli, [*PLAN, "--cfg"])
    assert result.exit_code == 0
    assert "calls per step: 7" in result.output and "8,9,10,11,0,1" in result.output


def test_weights_list_and_profile(tmp_path):
    result = CliRunner().invoke(cli, ["weights"])
    assert (
        result.exit_code == 0 and "pyramid" in result.output and "overlap-linear" in result.output
    )
    data = _json(["weights", "pyramid", "--length", "5", "--json"])
    assert data["weights"] == [1, 2, 3, 2, 1]
    result = CliRunner().invoke(
        cli, ["weights", "overlap-linear", "--length", "4", "--overlap-before", "1"]
    )
    assert result.output.split() == ["0.5", "1", "1", "1"]
    png = tmp_path / "w.png"
    assert CliRunner().invoke(cli, ["weights", "triangular", "--png", str(png)]).exit_code == 0
    assert png.stat().st_size > 0


def test_plugin_weight_usable_from_cli(plugin_registry):
    data = _json(["weights", "thirdparty-weight", "--length", "4", "--json"])
    assert data["weights"] == [1, 2, 3, 1]
    listing = CliRunner().invoke(cli, ["weights"]).output
    assert "thirdparty-weight" in listing
    plan = _json(
        [
            "plan",
            "--sampler",
            "thirdparty-temporal",
            "--fusion-weight",
            "thirdparty-weight",
            "--frames",
            "30",
            "--views",
            "2",
            "--json",
        ]
    )
    assert plan["sampler"] == "thirdparty-temporal" and plan["calls_per_step"] == 2


def test_unknown_names_exit_2():
    result = CliRunner().invoke(cli, ["plan", "--sampler", "nope", "--frames", "3", "--views", "1"])
    assert result.exit_code == 2 and "hvg" in result.output
    result = CliRunner().invoke(cli, ["weights", "nope"])
    assert result.exit_code == 2


def test_main_exit_codes(monkeypatch, capsys):
    from hvg_sampler.cli import main

    for argv, code in [
        (["plan", "--frames", "10", "--views", "2", "--json"], 0),
        (["plan", "--frames", "10", "--views", "2", "--frame-overlap", "30"], 2),
        (["plan", "--frames", "0", "--views", "2"], 2),
    ]:
        monkeypatch.setattr(sys, "argv", ["hvg-sampler", *argv])
        with pytest.raises(SystemExit) as exit_info:
            main()
        assert exit_info.value.code == code, argv
    assert "frame overlap" in capsys.readouterr().err


@pytest.mark.integration
def test_console_script_exit_code_and_message():
    # One real process: the console script reports an input error with exit 2, no traceback.
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "hvg_sampler",
            "plan",
            "--frames",
            "10",
            "--views",
            "2",
            "--frame-overlap",
            "30",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "frame overlap" in bad.stderr and "Traceback" not in bad.stderr


def test_import_and_plugin_do_not_import_torch():
    # The registry imports every plugin module to build `--help` choices; ours must stay light.
    # (Other packages' plugins are checked by their own tests.)
    code = (
        "import sys; import hvg_sampler, hvg_sampler._hvg_plugin, hvg_sampler.cli; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_plan_warns_about_zero_overlap():
    data = _json(["plan", "--frames", "40", "--views", "8", "--frame-overlap", "0", "--json"])
    assert any("frame overlap 0" in w for w in data["warnings"])
    h4 = _json(["plan", "--sampler", "human4dit", "--frames", "40", "--views", "8", "--json"])
    assert any("overlaps are ignored" in w for w in h4["warnings"])
    assert not any("overlap 0" in w for w in h4["warnings"])


def test_plan_reads_config_file(tmp_path):
    config = tmp_path / "plan.toml"
    config.write_text(
        'sampler = "temporal"\nframe-window = 16\nframe-overlap = 4\n', encoding="utf-8"
    )
    data = _json(["plan", "--config", str(config), "--frames", "40", "--views", "2", "--json"])
    assert data["sampler"] == "temporal" and data["calls_per_step"] == 3
    override = _json(
        [
            "plan",
            "--config",
            str(config),
            "--frames",
            "40",
            "--views",
            "2",
            "--frame-window",
            "40",
            "--max-frames-per-window",
            "40",
            "--max-images-per-window",
            "80",
            "--json",
        ]
    )
    assert override["calls_per_step"] == 1


def test_plan_with_capped_windows():
    data = _json(
        [*PLAN, "--max-views-per-time-window", "4", "--max-frames-per-view-window", "24", "--json"]
    )
    # Overlaps scale with the cap (2/6 of 4 views -> 1, 8/24 of 24 frames -> 8). time: 4 windows
    # × 4 cyclic view groups of 4 (hop 3); view: 3 windows × 4 frame chunks of 24 (hop 16)
    assert data["calls_per_step"] == 4 * 4 + 4 * 3
    assert data["peak_images_per_call"] == max(24 * 4, 24 * 6)


def test_plan_refuses_a_window_over_the_budget(tmp_path):
    command = [sys.executable, "-m", "hvg_sampler", "plan", "--frames", "48", "--views", "4"]
    result = subprocess.run(
        [*command, "--frame-window", "32"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert "frame_window 32 exceeds the training budget of 24 frames" in result.stderr
    unlimited = [*command, "--frame-window", "32", "--max-frames-per-window", "0", "--json"]
    result = subprocess.run(
        [*unlimited, "--max-images-per-window", "0"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["peak_frames_per_window"] == 48
