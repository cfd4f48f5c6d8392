"""`hvg demo --smallest` as a user runs it: every stage runs, the model learns, the report shows it.

The README's command is run through the console script with a RELATIVE ``--out`` from a fresh
working directory (the Ray render workers used to resolve it against their own directory).
The learning signal is asserted in a weak but non-trivial form: the VAE's training loss falls
and it reconstructs a subject it never saw at ≥ 17 dB (2 dB above a flat background image),
and the trained denoiser's loss on a fixed set of held-out draws is below the loss of
predicting zero.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

ROLES = ("hvg", "human4dit", "pose_ablation", "reference_copy")


def run_demo(cwd, *options: str) -> subprocess.CompletedProcess[str]:
    """``hvg demo [options] --out out/demo`` through the console script, from ``cwd``."""
    script = shutil.which("hvg", path=os.path.dirname(sys.executable))
    assert script is not None, "the hvg console script is not installed"
    return subprocess.run(
        [script, "demo", *options, "--out", "out/demo"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def smallest_demo(tmp_path_factory):
    """Run ``hvg demo --smallest --out out/demo`` in an empty directory; return (result, out)."""
    cwd = tmp_path_factory.mktemp("fresh")
    return run_demo(cwd, "--smallest"), cwd / "out" / "demo"


def test_runs_every_stage_with_a_relative_out(smallest_demo):
    result, out = smallest_demo
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in range(1, 8):
        assert f"[{stage}/7]" in result.stderr
    assert (out / "report.html").is_file() and (out / "metrics.json").is_file()


def test_the_model_learns(smallest_demo):
    result, out = smallest_demo
    assert result.returncode == 0, result.stderr[-3000:]
    learning = json.loads((out / "metrics.json").read_text())["learning"]
    # At the smallest size the VAE reconstructs a person it never saw only coarsely, but well
    # above drawing the background alone (measured: 18.4 dB against a flat image's 14.7 dB and
    # the untrained VAE's 6.8 dB; held-out silhouette IoU 0.58 against 0.11 after 80 steps).
    assert learning["vae_heldout_psnr"] >= 17.0
    assert learning["vae_heldout_psnr"] > learning["flat_background_psnr"] + 2.0
    assert learning["vae_heldout_psnr"] > learning["vae_untrained_psnr"] + 5.0
    assert learning["vae_heldout_iou"] > 0.3
    assert learning["vae_last_loss"] < learning["vae_first_loss"]
    # The VAE's own held-out silhouettes bound every generated video's IoU.
    assert learning["vae_heldout_iou"] <= 1.0
    assert learning["model_loss"] < learning["predict_zero_loss"]


def test_metrics_for_every_video(smallest_demo):
    result, out = smallest_demo
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads((out / "metrics.json").read_text())
    for role in ROLES:
        values = document["metrics"][role]
        assert 0 <= values["iou"] <= 1 and 0 < values["ssim"] <= 1
        assert values["psnr"] > 0 and 0 < values["l1"] < 1
    # Weighted metrics are either computed (files present) or explained (files missing).
    for name in ("lpips", "fid", "fvd", "fid-vid"):
        computed = document["metrics"]["hvg"][name] is not None
        assert computed or "hvg-eval never downloads weights" in document["not_computed"][name]
    # Frame trees that anyone can re-score with hvg-eval.
    for role in (*ROLES, "ground_truth"):
        frames = sorted((out / "eval" / role / "subject").glob("view_*/*.png"))
        assert len(frames) == 3 * 4, role


def test_report_shows_reference_videos_and_tables(smallest_demo):
    result, out = smallest_demo
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads((out / "metrics.json").read_text())
    html = (out / "report.html").read_text()
    assert "`" not in html  # no Markdown leaking into the page
    reference = f'src="{document["reference_image"]}"'
    assert reference in html
    for role in ("ground_truth", "bone_maps", *ROLES):
        video = document["videos"][role]
        assert (out / video).stat().st_size > 0 and f'src="{video}"' in html
        assert html.index(reference) < html.index(f'src="{video}"')
    for label in ("silhouette IoU ↑", "PSNR ↑", "L1 ↓", "hvg-eval weights verify", "predict"):
        assert label in html
    assert (out / "losses.png").is_file()
    import av

    with av.open(str(out / document["videos"]["hvg"])) as container:
        assert container.streams.video[0].codec_context.name in {"h264", "libx264", "mpeg4"}
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 4


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_PROBE = """
<script>
(async () => {
  const videos = [...document.querySelectorAll("video")];
  const results = await Promise.all(videos.map((video) => new Promise((resolve) => {
    const done = () => resolve({src: video.getAttribute("src"), state: video.readyState,
                                error: video.error ? video.error.code : null,
                                width: video.videoWidth, time: video.currentTime});
    if (video.readyState >= 2) { video.play().catch(() => {}); setTimeout(done, 1500); return; }
    video.addEventListener("loadeddata", () => { video.play().catch(() => {}); setTimeout(done, 1500); });
    video.addEventListener("error", done);
  })));
  const out = document.createElement("pre");
  out.id = "hvg-browser-probe";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
})();
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium)")
def test_report_videos_load_and_play_in_a_real_browser(smallest_demo, tmp_path):
    """Headless Chromium opens report.html: every video decodes (H.264) and its clock advances."""
    result, out = smallest_demo
    assert result.returncode == 0, result.stderr[-3000:]
    page = out / "browser-probe.html"
    page.write_text((out / "report.html").read_text().replace("</body>", BROWSER_PROBE + "</body>"))
    shown = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    marker = '<pre id="hvg-browser-probe">'
    assert marker in shown.stdout, "the probe script never finished: " + shown.stdout[-1500:]
    probe = json.loads(
        shown.stdout.split(marker, 1)[1].split("</pre>", 1)[0].replace("&quot;", '"')
    )
    assert len(probe) >= 6, probe  # ground truth, bone maps, hvg, baseline, two ablations
    for video in probe:
        assert video["error"] is None and video["state"] >= 2 and video["width"] > 0, video
        assert video["time"] > 0, f"{video['src']} loaded but did not play"


@pytest.mark.slow
def test_the_default_demo_follows_the_poses(tmp_path):
    """The README's first command with the default settings: the issue-12 bar, as a user runs it.

    About 8 minutes on 2 cores (measured 7 min 45 s: hvg IoU 0.70, reference copy 0.53, pose
    ablation 0.51), so it is excluded from the default run (``-m slow`` selects it).
    """
    started = time.perf_counter()
    result = run_demo(tmp_path)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "demo" / "metrics.json").read_text())["metrics"]
    iou = {role: metrics[role]["iou"] for role in ROLES}
    assert iou["hvg"] >= 0.5, iou
    assert iou["hvg"] >= iou["reference_copy"] + 0.15, iou
    assert iou["pose_ablation"] < iou["hvg"] - 0.05, iou
    assert seconds <= 600, f"the default demo took {seconds:.0f} s (goal: at most 600 s)"
