"""The benchmark harness runs (speed itself is measured by `python -m bench`, never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def worker(*args):
    proc = subprocess.run([sys.executable, "-m", "bench.worker", *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("framework", ["neuralab", "torch"])
def test_small_network_worker_reports_a_step_time(framework):
    out = worker("small", framework, "--steps", "20")
    assert out["step_microseconds"] > 0 and out["peak_rss_mb"] > 0


def test_mlp_worker_trains_and_reports_flops(tmp_path):
    out = worker("mlp", "neuralab", "--n-train", "512", "--batch-size", "128")
    assert len(out["epoch_seconds"]) == 1
    assert 0.0 <= out["test_accuracy"] <= 1.0
    # 784-256-128-10: forward 2(784*256 + 256*128 + 128*10), backward that again plus the dX terms
    per_sample = 2 * (784 * 256 + 256 * 128 + 128 * 10) * 2 + 2 * (256 * 128 + 128 * 10)
    assert out["flops_per_epoch"] == per_sample * out["n_train"]


def test_markdown_table_flags_missed_targets():
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import render_markdown

    stat = {"median": 1.0, "min": 0.9, "max": 1.1, "n": 3}
    per_fw = {"epoch_seconds": stat, "test_accuracy": stat, "peak_rss_mb": stat,
              "achieved_gflops": 10.0, "fraction_of_gemm": 0.1}
    out = {
        "machine": {"cpus": 2, "threads": 2, "python": "3.11", "blas": "x"},
        "mlp": {"data": "synthetic", "n_train": 10, "epochs": 1,
                **{fw: per_fw for fw in ("neuralab", "torch", "sklearn")}},
        "gemm_gflops": stat,
        "small_step_us": {"neuralab": stat, "torch": stat},
        "import_seconds": {"neuralab": stat, "torch": stat},
        "ratios": {"mlp_epoch_vs_torch": 0.5, "mlp_fraction_of_gemm": 0.1},
        "targets": {"mlp_epoch_vs_torch": ("<=", 0.8), "mlp_fraction_of_gemm": (">=", 0.5)},
    }
    text = render_markdown(out)
    assert "| mlp_epoch_vs_torch | 0.500 | <= 0.8 | yes |" in text
    assert "| mlp_fraction_of_gemm | 0.100 | >= 0.5 | NO |" in text
