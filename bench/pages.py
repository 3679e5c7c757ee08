"""``python -m bench.pages [--from bench/results/latest.json]``: the speed numbers of the docs.

Regenerates the generated blocks of docs/performance.md and of the README's Speed section from
the two stored results, so that no speed number on those pages is typed by hand:

* ``bench/results/reference.json``: a run of ``python -m bench`` (``--from FILE`` first copies
  FILE there, e.g. the ``latest.json`` that a run just wrote);
* ``bench/results/profile.json``: a run of ``python -m bench.profile_mlp``.

tests/test_bench.py renders the blocks again from the stored files and fails when a page differs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.__main__ import RESULTS, ROOT, describe_run, render_markdown, wrap
from neuralab.io import atomic_write
from neuralab.io.pages import PageError, replace_block

REFERENCE = RESULTS / "reference.json"
PROFILE = RESULTS / "profile.json"
#: page (relative to the repository) -> the generated blocks it holds
PAGE_BLOCKS = {
    "docs/performance.md": ("RESULTS", "PROFILE", "GEMM SHARE", "SMALL STEP"),
    "README.md": ("SPEED",),
}


class StoredResultError(ValueError):
    """A stored result is missing, not JSON, or lacks a number that a page shows."""


def load_result(path: Path, command: str) -> dict[str, Any]:
    """The stored result at ``path``, written by ``command``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoredResultError(f"{path} does not exist; run `{command}` to make it") from None
    try:
        result = json.loads(text)
    except json.JSONDecodeError as err:
        raise StoredResultError(f"{path} is not valid JSON ({err}); rerun `{command}`") from None
    if not isinstance(result, dict):
        raise StoredResultError(f"{path} does not hold a result of `{command}`; rerun it")
    return result


# ------------------------------------------------------------------ the blocks
def _machine(meta: dict[str, Any]) -> str:
    return (f"{meta['cpu']}, {meta['platform']}, Python {meta['python']}, NumPy {meta['numpy']} "
            f"({meta['blas']})")


def render_profile(profile: dict[str, Any]) -> str:
    """The "where the time goes" block: the epoch against its floors, and its profiled parts."""
    p = profile
    whole = p["n_train"] >= 60000 or not p["data"].startswith("fashion")
    lines = [
        wrap(f"Measured with `{p['command']}` on {p['started']} at commit "
             f"`{p['machine']['commit']}`: {_machine(p['machine'])}, {p['machine']['threads']} "
             f"threads. Data: {p['data']}, {p['n_train']} samples"
             f"{'' if whole else ' (part of the training set: a smoke run)'}, batch "
             f"{p['batch_size']}, one epoch of {p['steps_per_epoch']} steps; each epoch time "
             f"is the best of {p['rounds']} interleaved runs."),
        "",
        "| one epoch of the 784-256-128-10 MLP with Adam | seconds |",
        "|---|---|",
        "| the epoch's matrix products alone (forward x W, backward x^T g and g W^T), "
        f"no framework | {p['matmul_floor_seconds']:.3f} |",
        f"| a hand-written NumPy MLP with Adam, no autograd | {p['numpy_mlp_seconds']:.3f} |",
        f"| neuralab (model, fused loss, autograd, Adam) | {p['neuralab_epoch_seconds']:.3f} |",
    ]
    if "captured_epoch_seconds" in p:
        lines[-1] = ("| neuralab, the graph built at every step (model, fused loss, autograd, "
                     f"Adam) | {p['neuralab_epoch_seconds']:.3f} |")
        lines.append("| neuralab, the captured step of `Trainer.fit` in a hand-written loop | "
                     f"{p['captured_epoch_seconds']:.3f} |")
    if "trainer_epoch_seconds" in p:
        lines.append("| the same through `Trainer.fit` (no validation, no callbacks, silent) | "
                     f"{p['trainer_epoch_seconds']:.3f} |")
    lines += [
        "",
        "| one neuralab epoch under cProfile, by part | seconds | share |",
        "|---|---|---|",
    ]
    total = p["profiled_epoch_seconds"]
    for key, seconds in p["profiled_parts_seconds"].items():
        if key == "other" and seconds < 0.0005:
            continue  # the profiler's own bookkeeping, nothing of the epoch
        lines.append(f"| {p['part_labels'][key]} | {seconds:.3f} | {seconds / total:.0%} |")
    lines.append(f"| the whole profiled epoch (with the profiler's overhead) | {total:.3f} | |")
    return "\n".join(lines) + "\n"


def render_gemm_share(profile: dict[str, Any], reference: dict[str, Any]) -> str:
    """Figures derived from the profile: FLOP rates as shares of the GEMM rate, what a given
    share would leave for the work that is not a product, and what Adam costs."""
    p = profile
    goal = reference["targets"]["mlp_fraction_of_gemm"][1]
    gemm, haswell = p["gemm_gflops"], p["gemm_gflops_haswell"]
    epoch_flops = p["flops_per_sample"] * p["n_train"]
    products_rate = p["flops_per_sample"] * p["matmul_floor_samples"] / p["matmul_floor_seconds"]
    # the epoch a user gets: the captured step where the profile has it, else the graph's
    epoch = p.get("captured_epoch_seconds", p["neuralab_epoch_seconds"])
    loop = "captured" if "captured_epoch_seconds" in p else "hand-written neuralab"
    epoch_rate = epoch_flops / epoch
    epoch_at_goal = epoch_flops / (goal * gemm * 1e9)
    adam = p["adam_step_seconds"]
    adam_parts = p["profiled_parts_seconds"]["optimizer"]
    rows = [
        ("GEMM rate of NumPy (2048 x 2048 float32), this kernel / OPENBLAS_CORETYPE=Haswell",
         f"{gemm:.0f} / {haswell:.0f} GFLOP/s"),
        ("matrix products of one epoch (counted, not measured)",
         f"{epoch_flops / 1e9:.1f} GFLOP"),
        ("the products alone: FLOP rate (share of the GEMM rate)",
         f"{products_rate / 1e9:.0f} GFLOP/s ({products_rate / 1e9 / gemm:.0%})"),
        ("neuralab's epoch: FLOP rate (share of the GEMM rate; of the Haswell GEMM rate)",
         f"{epoch_rate / 1e9:.0f} GFLOP/s ({epoch_rate / 1e9 / gemm:.0%}; "
         f"{epoch_rate / 1e9 / haswell:.0%})"),
        (f"epoch time at {goal:.0%} of the GEMM rate (the target)", f"{epoch_at_goal:.3f} s"),
        (f"left at {goal:.0%} for everything that is not a product "
         "(that time minus the products alone)",
         f"{epoch_at_goal - p['matmul_floor_seconds']:.3f} s"),
        ("neuralab's epoch outside the products (epoch minus the products alone)",
         f"{epoch - p['matmul_floor_seconds']:.3f} s"),
        ("neuralab's epoch / the hand-written NumPy epoch",
         f"{epoch / p['numpy_mlp_seconds']:.2f}"),
        *([(f"`Trainer.fit`'s epoch / the {loop} loop's",
            f"{p['trainer_epoch_seconds'] / epoch:.2f}")]
          if "trainer_epoch_seconds" in p else []),
        ("the optimizer in the profiled epoch (share of it)",
         f"{adam_parts:.3f} s ({adam_parts / p['profiled_epoch_seconds']:.0%})"),
        (f"one Adam step on the {p['parameters']} parameters: neuralab / PyTorch"
         + (" fused" if p.get("torch_adam") == "fused" else ""),
         f"{adam['neuralab'] * 1e3:.3f} / "
         + (f"{adam['torch'] * 1e3:.3f} ms" if adam.get("torch") is not None
            else "(PyTorch not installed) ms")),
    ]
    lines = ["| derived from the profile above | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines) + "\n"


def render_small_step(profile: dict[str, Any]) -> str:
    """The phases of one step of the 4-64-3 network."""
    small = profile["small_step_us"]
    labels = {"forward": "forward with the loss", "backward": "zero_grad and backward",
              "optimizer": "the optimizer's step (Adam)"}
    lines = [
        wrap(f"One step of the 4-64-3 network (batch 16, Adam), from the profile run above: the "
             f"best of three runs of {profile['small_steps']} steps, per phase."),
        "",
        "| phase | microseconds |",
        "|---|---|",
    ]
    lines += [f"| {labels.get(k, k)} | {v:.1f} |" for k, v in small.items()]
    lines.append(f"| sum | {sum(small.values()):.1f} |")
    return "\n".join(lines) + "\n"


def render_readme_speed(reference: dict[str, Any]) -> str:
    """The README's sentences with the headline numbers of the stored benchmark run."""
    r = reference
    m = r["mlp"]
    epoch = {fw: m[fw]["epoch_seconds"]["median"] for fw in ("neuralab", "torch", "sklearn")}
    step = {fw: r["small_step_us"][fw]["median"] for fw in ("neuralab", "torch")}
    imports = {fw: r["import_seconds"][fw]["median"] for fw in ("neuralab", "torch")}
    data = ("Fashion-MNIST" if m["data"].startswith("fashion")
            else "synthetic Fashion-MNIST-shaped")
    quick = " (a quick smoke run)" if r["settings"].get("quick") else ""
    torch_epoch = f"PyTorch {epoch['torch']:.2f} s"
    torch_step = f"PyTorch {step['torch']:.0f} us"
    if "torch_fused" in m and "torch_fused" in r["small_step_us"]:
        # PyTorch's fastest Adam (fused=True) first: the reference of issue 15
        torch_epoch = (f"PyTorch {m['torch_fused']['epoch_seconds']['median']:.2f} s with "
                       f"`Adam(fused=True)`, {epoch['torch']:.2f} s with its default Adam")
        torch_step = (f"PyTorch {r['small_step_us']['torch_fused']['median']:.0f} us fused, "
                      f"{step['torch']:.0f} us default")
    text = (
        f"Measured with `{r['command']}`{quick} on {r['machine']['cpu']} with "
        f"{r['machine']['threads']} threads ({r['started'][:10]}): an epoch of "
        f"{m['n_train']} {data} images through a 784-256-128-10 MLP with Adam takes "
        f"{epoch['neuralab']:.2f} s with neuralab ({torch_epoch}, scikit-learn "
        f"{epoch['sklearn']:.2f} s), a training step of an iris-sized network (4-64-3, batch 16) "
        f"{step['neuralab']:.0f} us ({torch_step}), and `import neuralab` "
        f"{imports['neuralab']:.2f} s (`import torch` {imports['torch']:.2f} s)."
    )
    return wrap(text) + "\n"


def render_blocks(reference: dict[str, Any], profile: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Page (relative to the repository) -> block key -> body, from the two stored results."""
    try:
        return {
            "docs/performance.md": {
                "RESULTS": describe_run(reference) + "\n\n" + render_markdown(reference) + "\n",
                "PROFILE": render_profile(profile),
                "GEMM SHARE": render_gemm_share(profile, reference),
                "SMALL STEP": render_small_step(profile),
            },
            "README.md": {"SPEED": render_readme_speed(reference)},
        }
    except (KeyError, TypeError, ZeroDivisionError) as err:
        raise StoredResultError(
            f"a stored result lacks {err} (written by an older `python -m bench` or "
            f"`python -m bench.profile_mlp`?); rerun them") from None


def update_pages(root: Path = ROOT, reference: Path = REFERENCE,
                 profile: Path = PROFILE) -> list[Path]:
    """Rewrite the generated blocks of the pages under ``root``; returns the pages that changed.

    Every page is checked (and rendered) before the first one is written."""
    rendered = render_blocks(load_result(reference, "python -m bench"),
                             load_result(profile, "python -m bench.profile_mlp"))
    new_texts: dict[Path, tuple[str, str]] = {}
    for rel, bodies in rendered.items():
        page = root / rel
        old = page.read_text(encoding="utf-8")
        text = old
        for key, body in bodies.items():
            try:
                text = replace_block(text, key, body)
            except PageError as err:
                raise PageError(f"{page}: {err}") from None
        new_texts[page] = (old, text)
    changed = []
    for page, (old, text) in new_texts.items():
        if text != old:
            atomic_write(page, text.encode("utf-8"))
            changed.append(page)
    return changed


def store_reference(source: Path, reference: Path = REFERENCE) -> None:
    """Copy the run ``source`` (a ``latest.json`` of ``python -m bench``) to ``reference``."""
    result = load_result(source, "python -m bench")
    missing = [k for k in ("command", "machine", "mlp", "ratios", "targets") if k not in result]
    if missing:
        raise StoredResultError(f"{source} is not a result of the current `python -m bench` "
                                f"(it lacks {', '.join(missing)}); rerun it")
    if not math.isfinite(result["mlp"]["neuralab"]["epoch_seconds"]["median"]):
        raise StoredResultError(f"{source} holds no finite epoch time; rerun `python -m bench`")
    atomic_write(reference, (json.dumps(result, indent=2) + "\n").encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, metavar="FILE",
                        help="first store this run of `python -m bench` as "
                             "bench/results/reference.json")
    args = parser.parse_args(argv)
    try:
        if args.source is not None:
            store_reference(args.source)
            print(f"stored {args.source} as {REFERENCE.relative_to(ROOT)}")
        changed = update_pages()
    except (StoredResultError, PageError, OSError) as err:
        print(f"python -m bench.pages: {err}", file=sys.stderr)
        return 2
    for page in changed:
        print(f"updated {page.relative_to(ROOT)}")
    if not changed:
        print("the pages already hold the stored results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
