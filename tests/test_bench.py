"""The benchmark harness runs and the speed pages hold its stored results.

Speed itself is measured by `python -m bench`, never asserted: no test here bounds a time.  The
tests check that the workers and the profile run and report what they should, that
docs/performance.md and the README's Speed section equal what `python -m bench.pages` renders
from bench/results/reference.json and profile.json, that the prose of docs/performance.md types
no number, and that rendering puts each number of a crafted result where it belongs.
"""

from __future__ import annotations

import copy
import cProfile
import json
import pstats
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import pages  # noqa: E402
from bench.__main__ import describe_run, render_markdown  # noqa: E402
from bench.profile_mlp import PART_LABELS, split_profile  # noqa: E402
from neuralab.io.pages import PageError, blocks, typed_numbers  # noqa: E402


def worker(*args):
    proc = subprocess.run([sys.executable, "-m", "bench.worker", *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ------------------------------------------------------------------ the workers and the profile
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


def test_machine_worker_records_cpu_blas_and_versions():
    out = worker("machine")
    import numpy
    import torch

    assert out["numpy"] == numpy.__version__ and out["torch"] == torch.__version__
    assert "CPUs" in out["cpu"] and "threads" in out["blas"]
    assert set(out) >= {"commit", "python", "platform", "scikit-learn", "openblas_coretype"}


def test_profile_splits_all_of_an_epoch_into_its_parts():
    import numpy as np

    from bench.profile_mlp import neuralab_mlp

    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    epoch, _, _ = neuralab_mlp(x, y, 64)
    epoch()
    prof = cProfile.Profile()
    prof.runcall(epoch)
    stats = pstats.Stats(prof)
    parts = split_profile(stats)
    assert set(parts) == set(PART_LABELS)
    # every function's own time lands in exactly one part (split by caller), none is lost
    assert sum(parts.values()) == pytest.approx(stats.total_tt, rel=1e-6)
    for part in ("dense", "optimizer", "loader", "loss", "framework"):
        assert parts[part] > 0, part


@pytest.mark.slow
def test_profile_command_stores_what_the_pages_render(tmp_path):
    out = tmp_path / "profile.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.profile_mlp", "--n-train", "512", "--small-steps", "20",
         "--top", "3", "--rounds", "2", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "neuralab epoch:" in proc.stdout and "tottime" in proc.stdout  # the printed report
    profile = json.loads(out.read_text())
    assert profile["n_train"] == 512 and profile["steps_per_epoch"] == 4
    assert [len(v) for v in profile["epoch_runs_seconds"].values()] == [2, 2, 2, 2, 2]
    assert profile["trainer_epoch_seconds"] > 0 and profile["torch_adam"] == "fused"
    assert profile["captured_epoch_seconds"] > 0
    assert "| the same through `Trainer.fit`" in pages.render_profile(profile)
    assert "| neuralab, the captured step of `Trainer.fit` in a hand-written loop |" in (
        pages.render_profile(profile))
    assert profile["parameters"] == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert profile["command"].endswith(f"--out {out}")
    text = pages.render_profile(profile)
    assert "(part of the training set: a smoke run)" in flat(text)
    assert "| phase | microseconds |" in pages.render_small_step(profile)


# ------------------------------------------------------------------ the stored results on the pages
def stored(name: str) -> dict:
    return json.loads((ROOT / "bench" / "results" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("page", "key"), [(page, key) for page, keys in pages.PAGE_BLOCKS.items()
                                           for key in keys])
def test_page_blocks_are_rendered_from_the_stored_results(page, key):
    expected = pages.render_blocks(stored("reference.json"), stored("profile.json"))[page][key]
    found = blocks((ROOT / page).read_text(encoding="utf-8")).get(key)
    assert found is not None, f"{page} has no generated block {key}"
    assert found == expected, (
        f"{page}: block {key} differs from bench/results/: run `python -m bench.pages` "
        "(or `make bench` for new numbers); do not edit the block by hand")


def test_stored_results_are_full_runs():
    reference, profile = stored("reference.json"), stored("profile.json")
    assert not reference["settings"]["quick"] and "sweep" in reference, (
        "bench/results/reference.json is a quick smoke run; store a full `python -m bench`")
    assert profile["n_train"] == reference["mlp"]["n_train"] == 60000


def test_performance_prose_types_no_number():
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert typed_numbers(text) == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    speed = readme[readme.index("## Speed"):]
    speed = speed[: speed.index("\n## ", 1)]
    assert typed_numbers(speed) == []


# ------------------------------------------------------------------ rendering a crafted result
def stat(median, lo, hi):
    return {"median": median, "min": lo, "max": hi, "n": 3}


MACHINE = {"cpu": "Test CPU (2 CPUs)", "platform": "Linux x86_64", "python": "3.11.7",
           "numpy": "2.4.6", "blas": "OpenBLAS 9.9, TestCore kernel, 2 threads", "commit": "abc123",
           "openblas_coretype": "", "torch": "2.13.0+cpu", "scikit-learn": "1.9.1", "threads": 2,
           "neuralab": "0.1.0"}


def crafted_reference() -> dict:
    def fw(epoch, gflops, share):
        return {"epoch_seconds": epoch, "test_accuracy": stat(0.8, 0.79, 0.81),
                "peak_rss_mb": stat(300, 299, 301), "achieved_gflops": gflops,
                "fraction_of_gemm": share}

    return {
        "machine": {**MACHINE, "cpus": 2},
        "command": "python -m bench --reps 3",
        "started": "2026-01-02 03:04:05",
        "settings": {"reps": 3, "epochs": 2, "quick": False},
        "gemm_gflops": stat(32.0, 30.0, 33.0),
        "import_seconds": {"neuralab": stat(0.021, 0.02, 0.03), "torch": stat(0.8, 0.7, 0.9)},
        "small_step_us": {"neuralab": stat(50.0, 49.0, 51.0), "torch": stat(200.0, 190.0, 210.0)},
        "mlp": {"data": "fashion-mnist", "n_train": 60000, "epochs": 2,
                "neuralab": fw(stat(0.13, 0.12, 0.15), 8.0, 0.25),
                "torch": fw(stat(0.26, 0.25, 0.27), 4.0, 0.125),
                "sklearn": fw(stat(0.52, 0.5, 0.6), 2.0, 0.0625)},
        "sweep": {"16": {"neuralab": stat(1.0, 0.9, 1.1), "torch": stat(4.0, 3.9, 4.1)}},
        "ratios": {"mlp_epoch_vs_torch": 0.5, "mlp_fraction_of_gemm": 0.25},
        "targets": {"mlp_epoch_vs_torch": ["<=", 0.8], "mlp_fraction_of_gemm": [">=", 0.5]},
    }


def crafted_profile() -> dict:
    return {
        "command": "python -m bench.profile_mlp", "started": "2026-01-02 04:05:06",
        "machine": MACHINE, "data": "fashion-mnist", "n_train": 1000, "batch_size": 100,
        "steps_per_epoch": 10, "parameters": 235146, "flops_per_sample": 1e6,
        "gemm_gflops": 4.0, "gemm_gflops_haswell": 2.0,
        # products of 800 samples (8e8 FLOP) in 0.4 s: 2 GFLOP/s, half of the GEMM rate
        "matmul_floor_seconds": 0.4, "matmul_floor_samples": 800,
        "numpy_mlp_seconds": 0.8, "neuralab_epoch_seconds": 1.0, "trainer_epoch_seconds": 1.05,
        "captured_epoch_seconds": 0.6,
        "torch_adam": "fused",
        "profiled_epoch_seconds": 2.0,
        "profiled_parts_seconds": {"dense": 1.0, "optimizer": 0.5, "loader": 0.1, "loss": 0.1,
                                   "framework": 0.3, "other": 0.0},
        "part_labels": PART_LABELS,
        "adam_step_seconds": {"neuralab": 0.0012, "torch": 0.0034},
        "small_step_us": {"forward": 20.0, "backward": 25.0, "optimizer": 10.0},
        "small_steps": 3000, "rounds": 3,
    }


def flat(text: str) -> str:
    """``text`` with every run of white space (the wrapping of a paragraph) as one space."""
    return " ".join(text.split())


def test_rendering_a_crafted_result_puts_each_number_in_its_place():
    rendered = pages.render_blocks(crafted_reference(), crafted_profile())
    results = rendered["docs/performance.md"]["RESULTS"]
    assert results.startswith("Measured with `python -m bench --reps 3` on 2026-01-02 03:04:05")
    for fact in ("Test CPU (2 CPUs)", "OpenBLAS 9.9, TestCore kernel", "PyTorch 2.13.0+cpu",
                 "scikit-learn 1.9.1", "commit `abc123`", "3 repetitions of 2 epochs"):
        assert fact in flat(results)
    assert ("| MLP 784-256-128-10, batch 128: s/epoch | 0.130 (0.120-0.150) | "
            "0.260 (0.250-0.270) | 0.520 (0.500-0.600) |") in results
    assert "| 16 | 1.000 (0.900-1.100) | 4.000 (3.900-4.100) | 0.25 |" in results
    assert "| MLP s/epoch vs PyTorch | 0.500 | <= 0.8 | yes |" in results
    assert "| MLP FLOP rate / GEMM rate | 0.250 | >= 0.5 | NO |" in results

    profile = rendered["docs/performance.md"]["PROFILE"]
    assert "| the Dense ops forward + backward (products, bias, fused ReLU) | 1.000 | 50% |" in (
        profile)
    assert "| the optimizer step (Adam's update) | 0.500 | 25% |" in profile
    assert "other (profiler)" not in profile  # nothing measured there
    assert "(part of the training set: a smoke run)" in flat(profile)  # 1000 of the 60000

    gemm = rendered["docs/performance.md"]["GEMM SHARE"]
    assert "this kernel / OPENBLAS_CORETYPE=Haswell | 4 / 2 GFLOP/s |" in gemm
    assert "| matrix products of one epoch (counted, not measured) | 1.0 GFLOP |" in gemm
    assert "(share of the GEMM rate) | 2 GFLOP/s (50%) |" in gemm
    # the captured epoch (what Trainer.fit runs): 1e9 FLOP in 0.6 s, 1.67 GFLOP/s, 42% of 4
    # and 83% of 2 (the graph path's 1.0 s is the profile's own row)
    assert "of the Haswell GEMM rate) | 2 GFLOP/s (42%; 83%) |" in gemm
    # 50% of 4 GFLOP/s is 2 GFLOP/s: 0.5 s per epoch, 0.1 s beyond the products' 0.4 s
    assert "| epoch time at 50% of the GEMM rate (the target) | 0.500 s |" in gemm
    assert "that time minus the products alone) | 0.100 s |" in gemm
    assert "(epoch minus the products alone) | 0.200 s |" in gemm
    assert "| neuralab's epoch / the hand-written NumPy epoch | 0.75 |" in gemm
    assert "| the optimizer in the profiled epoch (share of it) | 0.500 s (25%) |" in gemm
    assert "neuralab / PyTorch fused | 1.200 / 3.400 ms |" in gemm
    assert "| `Trainer.fit`'s epoch / the captured loop's | 1.75 |" in gemm
    assert ("| neuralab, the graph built at every step (model, fused loss, autograd, Adam) | "
            "1.000 |") in profile
    assert "| neuralab, the captured step of `Trainer.fit` in a hand-written loop | 0.600 |" in (
        profile)
    assert "| the same through `Trainer.fit` (no validation, no callbacks, silent) | 1.050 |" in (
        profile)

    small = rendered["docs/performance.md"]["SMALL STEP"]
    assert "| forward with the loss | 20.0 |" in small and "| sum | 55.0 |" in small

    speed = rendered["README.md"]["SPEED"]
    assert flat(speed) == (
        "Measured with `python -m bench --reps 3` on Test CPU (2 CPUs) with 2 threads "
        "(2026-01-02): an epoch of 60000 Fashion-MNIST images through a 784-256-128-10 MLP with "
        "Adam takes 0.13 s with neuralab (PyTorch 0.26 s, scikit-learn 0.52 s), a training step "
        "of an iris-sized network (4-64-3, batch 16) 50 us (PyTorch 200 us), and "
        "`import neuralab` 0.02 s (`import torch` 0.80 s).")
    assert all(len(line) <= 100 for line in speed.splitlines())


def crafted_issue15(reference: dict) -> dict:
    """``reference`` with PyTorch's faster Adam settings, the size sweep and the update alone."""
    reference = copy.deepcopy(reference)
    for fw, epoch, small in (("torch_fused", 0.2, 100.0), ("torch_foreach", 0.25, 150.0)):
        reference["mlp"][fw] = {"epoch_seconds": stat(epoch, epoch, epoch)}
        reference["small_step_us"][fw] = stat(small, small, small)
    reference["small_step_us"]["neuralab_graph"] = stat(80.0, 80.0, 80.0)
    reference["size_sweep"] = [
        {"width": 64, "depth": 2, "batch": 128, "neuralab": stat(0.5, 0.4, 0.6),
         "neuralab_graph": stat(0.7, 0.6, 0.8), "torch_fused": stat(1.0, 0.9, 1.1),
         "ratio": 0.5},
        {"width": 128, "depth": 32, "batch": 16, "neuralab": stat(3.0, 2.9, 3.1),
         "neuralab_graph": stat(4.0, 3.9, 4.1), "torch_fused": stat(2.0, 1.9, 2.1),
         "ratio": 1.5}]
    reference["update"] = {
        "parameters": 1000000, "bytes_per_parameter": 28, "bound_ms": 1.4,
        "bandwidth_gb_per_s": {"one_thread": stat(10.0, 9.0, 11.0), "threads": stat(20.0, 19.0,
                                                                                     21.0)},
        "neuralab": stat(2.8, 2.7, 2.9), "neuralab_numpy": stat(4.2, 4.1, 4.3),
        "neuralab_reference": stat(5.6, 5.5, 5.7),
        "torch_fused": stat(1.4, 1.3, 1.5), "torch_foreach": stat(4.0, 4.0, 4.0),
        "torch": stat(7.0, 7.0, 7.0), "ratio_vs_torch_fused": 2.0}
    reference["ratios"]["size_sweep_worst_vs_torch_fused"] = 1.5
    reference["targets"]["size_sweep_worst_vs_torch_fused"] = ["<=", 1.0]
    return reference


def test_issue15_tables_put_each_number_in_its_place():
    text = render_markdown(crafted_issue15(crafted_reference()))
    # neuralab 0.13 s and 50 us against fused 0.2 s and 100 us
    assert "| PyTorch fused=True | 0.200 (0.200-0.200) | 0.65 | 100.0 (100.0-100.0) | 0.50 |" in (
        text)
    assert "| PyTorch foreach=True | 0.250 (0.250-0.250) | 0.52 |" in text
    assert "| PyTorch default | 0.260 (0.250-0.270) | 0.50 | 200.0 (190.0-210.0) | 0.25 |" in text
    # the captured step (as Trainer.fit), the graph path, PyTorch fused, the ratio
    assert ("| 2 hidden x 64, batch 128 | 55,050 | 0.50 (0.40-0.60) | 0.70 (0.60-0.80) | "
            "1.00 (0.90-1.10) | 0.50 |" in text)
    # 50 us captured against 80 us with the graph
    assert "| neuralab, graph built every step | | | 80.0 (80.0-80.0) | 0.62 |" in text
    # 784*128 + 128 + 31*(128*128 + 128) + 128*10 + 10 parameters
    assert "| 32 hidden x 128, batch 16 | 613,642 | 3.00 (2.90-3.10) |" in text
    assert "| size sweep, worst row vs PyTorch fused Adam | 1.500 | <= 1.0 | NO |" in text
    # 1e6 parameters in 2.8 ms: 0.36 G/s; the bound 1.4 ms is half of it
    assert "| neuralab (compiled kernel, threaded) | 2.80 (2.70-2.90) | 0.36 G | 50% |" in text
    assert ("| neuralab without numba (NumPy, blocked, threaded) | 4.20 (4.10-4.30) | 0.24 G | "
            "33% |" in text)
    assert "| neuralab, NumPy reference (whole group) | 5.60 (5.50-5.70) | 0.18 G | 25% |" in text
    assert "| PyTorch fused=True | 1.40 (1.30-1.50) | 0.71 G | 100% |" in text
    assert "20.0 (19.0-21.0) GB/s on 2" in flat(text) and "takes 1.40 ms" in flat(text)


def test_a_quick_run_says_so():
    reference = crafted_reference()
    reference["settings"]["quick"] = True
    rendered = pages.render_blocks(reference, crafted_profile())
    assert "a quick smoke run (not a measurement to quote)" in flat(rendered[
        "docs/performance.md"]["RESULTS"])
    assert "(a quick smoke run)" in rendered["README.md"]["SPEED"]


def test_markdown_table_flags_missed_targets():
    reference = crafted_reference()
    del reference["sweep"]
    text = render_markdown(reference)
    assert "| MLP s/epoch vs PyTorch | 0.500 | <= 0.8 | yes |" in text
    assert "| MLP FLOP rate / GEMM rate | 0.250 | >= 0.5 | NO |" in text
    assert "| batch size |" not in text


# ------------------------------------------------------------------ python -m bench.pages
@pytest.fixture
def checkout(tmp_path):
    """A copy of the two pages and crafted stored results in a temporary directory."""
    for rel in pages.PAGE_BLOCKS:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    (tmp_path / "reference.json").write_text(json.dumps(crafted_reference()))
    (tmp_path / "profile.json").write_text(json.dumps(crafted_profile()))
    return tmp_path


def test_update_pages_writes_the_blocks_and_nothing_else(checkout):
    before = {rel: (checkout / rel).read_text() for rel in pages.PAGE_BLOCKS}
    changed = pages.update_pages(checkout, checkout / "reference.json", checkout / "profile.json")
    assert sorted(p.name for p in changed) == ["README.md", "performance.md"]
    rendered = pages.render_blocks(crafted_reference(), crafted_profile())
    for rel, keys in pages.PAGE_BLOCKS.items():
        text = (checkout / rel).read_text()
        assert {k: blocks(text)[k] for k in keys} == rendered[rel]
        # outside the generated blocks the page is as it was
        assert typed_numbers(text) == typed_numbers(before[rel])
        assert len(text.splitlines()) - len(before[rel].splitlines()) == sum(
            len(rendered[rel][k].splitlines()) - len(blocks(before[rel])[k].splitlines())
            for k in keys)
    # a second run finds nothing to do
    assert pages.update_pages(checkout, checkout / "reference.json",
                              checkout / "profile.json") == []


def test_a_page_without_its_block_is_refused_before_anything_is_written(checkout):
    readme = checkout / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END GENERATED SPEED -->", ""))
    performance = (checkout / "docs" / "performance.md").read_text()
    with pytest.raises(PageError, match="README.md.*SPEED"):
        pages.update_pages(checkout, checkout / "reference.json", checkout / "profile.json")
    assert (checkout / "docs" / "performance.md").read_text() == performance


def test_stored_result_of_an_older_bench_is_refused_with_the_fix(checkout):
    old = crafted_reference()
    del old["machine"]["cpu"]
    (checkout / "reference.json").write_text(json.dumps(old))
    with pytest.raises(pages.StoredResultError, match="'cpu'.*rerun"):
        pages.update_pages(checkout, checkout / "reference.json", checkout / "profile.json")


def test_store_reference_copies_a_run_and_refuses_other_files(checkout):
    latest = checkout / "latest.json"
    run = copy.deepcopy(crafted_reference())
    latest.write_text(json.dumps(run))
    pages.store_reference(latest, checkout / "stored.json")
    assert json.loads((checkout / "stored.json").read_text()) == run
    latest.write_text(json.dumps({"mlp": {}}))
    with pytest.raises(pages.StoredResultError, match="lacks command, machine, ratios"):
        pages.store_reference(latest, checkout / "stored.json")
    latest.write_text("{not json")
    with pytest.raises(pages.StoredResultError, match="not valid JSON"):
        pages.store_reference(latest, checkout / "stored.json")
    assert json.loads((checkout / "stored.json").read_text()) == run


def test_cli_exits_2_with_one_line_for_a_missing_run(tmp_path):
    reference = ROOT / "bench" / "results" / "reference.json"
    before = reference.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "bench.pages", "--from",
                           str(tmp_path / "absent.json")], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "absent.json does not exist" in proc.stderr
    assert "run `python -m bench`" in proc.stderr and "Traceback" not in proc.stderr
    assert reference.read_bytes() == before


def test_readme_speed_names_pytorch_fused_adam_when_measured():
    speed = flat(pages.render_readme_speed(crafted_issue15(crafted_reference())))
    assert ("takes 0.13 s with neuralab (PyTorch 0.20 s with `Adam(fused=True)`, 0.26 s with its "
            "default Adam, scikit-learn 0.52 s)") in speed
    assert "(4-64-3, batch 16) 50 us (PyTorch 100 us fused, 200 us default)" in speed


def test_a_run_says_how_often_the_short_measurements_were_repeated():
    reference = crafted_reference()
    reference["settings"]["short_reps"] = 5
    text = flat(describe_run(reference))
    assert ("3 repetitions of 2 epochs each (5 of the small step, the size sweep and the update "
            "alone), medians") in text
    reference["settings"]["short_reps"] = 3
    assert "(3 of the small step" not in flat(describe_run(reference))
