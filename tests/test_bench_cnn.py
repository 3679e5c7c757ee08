"""The CNN benchmark (bench/cnn.py): its workers run and report what they should, its FLOP count
is the products' it times, its profile covers the step, and docs/performance.md's CNN block is
what the stored bench/results/cnn.json renders.  Speed is measured, never asserted."""

from __future__ import annotations

import copy
import cProfile
import json
import pstats
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cnn  # noqa: E402
from neuralab.io.pages import blocks, typed_numbers  # noqa: E402


def worker(*args):
    proc = subprocess.run([sys.executable, "-m", "bench.cnn", "worker", *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("framework", ["neuralab", "torch"])
def test_a_worker_times_steps_and_reports_memory(framework):
    out = worker(framework, "--steps", "2", "--warmup", "1", "--batch-size", "16",
                 "--threads", "1", *(["--profile"] if framework == "neuralab" else []))
    assert out["framework"] == framework and out["steps"] == 2 and out["batch_size"] == 16
    assert out["step_seconds"] > 0
    assert out["peak_rss_mb"] >= out["baseline_rss_mb"] > 0
    assert out["training_rss_mb"] == pytest.approx(out["peak_rss_mb"] - out["baseline_rss_mb"])
    if framework == "neuralab":
        assert out["products_seconds"] > 0
        assert set(out["profile_parts_seconds"]) == set(cnn.PART_LABELS)


def test_flops_are_those_of_the_timed_products():
    # the lab's network: conv 1->32, 32->64 and 64->128 on 28 x 28, 14 x 14 and 7 x 7 (pooled
    # to 3 x 3), dense 1152->256->10
    assert tuple(cnn.lab_config().channels) == (32, 64, 128)
    n = 4
    first = 2 * 2 * n * 28 * 28 * 32 * 1 * 9          # forward and weight gradient only
    second = 3 * 2 * n * 14 * 14 * 64 * 32 * 9
    third = 3 * 2 * n * 7 * 7 * 128 * 64 * 9
    dense = 3 * 2 * n * (1152 * 256 + 256 * 10)
    assert cnn.flops_per_step(n) == first + second + third + dense
    shapes = cnn.product_shapes(n)
    assert sum(2 * a[0] * a[1] * b[1] for a, b in shapes) == cnn.flops_per_step(n)
    assert all(a[1] == b[0] for a, b in shapes)


def test_the_profile_splits_a_step_into_its_parts():
    step = cnn.neuralab_step(8, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((8, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 8)
    step(x, y)
    prof = cProfile.Profile()
    prof.runcall(lambda: [step(x, y) for _ in range(2)])
    stats = pstats.Stats(prof)
    parts = cnn.split_profile(stats)
    assert set(parts) == set(cnn.PART_LABELS)
    for key in ("conv_forward", "conv_backward", "pool", "batch_norm", "dense", "optimizer"):
        assert parts[key] > 0, key
    # no part is counted twice (LinearReLU's forward calls Linear's): they add up to the total
    assert sum(parts.values()) == pytest.approx(stats.total_tt, rel=1e-6)
    assert min(parts.values()) >= 0


def stored() -> dict:
    return json.loads(cnn.RESULT.read_text(encoding="utf-8"))


def test_the_page_holds_what_the_stored_result_renders():
    page = cnn.PAGE.read_text(encoding="utf-8")
    assert blocks(page).get(cnn.BLOCK) == cnn.render(stored()), (
        "docs/performance.md: run `python -m bench.cnn --pages`; do not edit the CNN block")
    assert typed_numbers(page) == []


def test_the_stored_result_is_of_the_lab_network_and_a_full_run():
    result = stored()
    assert result["architecture"] == cnn.describe_network()
    assert result["flops_per_step"] == cnn.flops_per_step(result["settings"]["batch_size"])
    assert result["settings"]["reps"] >= 3 and result["settings"]["steps"] >= 20
    assert result["data"] == "fashion-mnist" and result["machine"]["commit"] != "unknown"


def test_rendering_puts_each_number_where_it_belongs():
    result = copy.deepcopy(stored())
    result["torch"]["step_seconds"]["median"] = 0.1234
    result["ratios"]["step_vs_torch"] = 3.21
    result["profile_parts_seconds"]["pool"] = 0.0456
    text = cnn.render(result)
    assert "| training step, ms | " in text and " | 123.4 (" in text
    assert "| neuralab / PyTorch step time | 3.21 | <= 1 | NO |" in text
    assert f"| {cnn.PART_LABELS['pool']} | 45.6 |" in text
