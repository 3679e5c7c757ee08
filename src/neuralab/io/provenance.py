"""Where a stored result came from: the code's commit, the CPU, the BLAS and its kernel.

Float32 results differ between CPUs and BLAS kernels, so every stored result that a page quotes
records the machine it was measured on.

>>> run_metadata()["blas"]
'OpenBLAS 0.3.31, SkylakeX kernel, 2 threads'
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from ..version import __version__


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux) and the number of CPUs."""
    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    return f"{name or platform.processor() or platform.machine()} ({os.cpu_count()} CPUs)"


def blas_description() -> str:
    """NumPy's BLAS, its version, the kernel it chose for this CPU and its thread count (needs
    threadpoolctl; 'unknown' without it).  Once SciPy (or scikit-learn) is loaded its own BLAS is
    listed too, often first: NumPy's is the one shipped inside the numpy package."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to record it)"
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    numpys = [info for info in blas
              if f"{os.sep}numpy" in os.path.dirname(info.get("filepath") or "")]
    for info in numpys or blas:
        if info.get("user_api") == "blas":
            api = {"openblas": "OpenBLAS", "mkl": "MKL"}.get(info.get("internal_api"),
                                                              info.get("internal_api"))
            kernel = f", {info['architecture']} kernel" if info.get("architecture") else ""
            return f"{api} {info.get('version')}{kernel}, {info.get('num_threads')} threads"
    return "unknown"


def git_commit(where: str | os.PathLike[str] | None = None) -> str:
    """The short commit of the checkout that holds ``where`` (default: this package), with
    ``+modified`` when tracked files differ from it; ``"unknown"`` outside a git checkout."""
    root = Path(where) if where is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+modified" if dirty.stdout.strip() else "")


def run_metadata() -> dict[str, Any]:
    """A dict describing the code and the machine of a run (JSON-ready strings)."""
    return {
        "neuralab": __version__,
        "commit": git_commit(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "platform": f"{platform.system()} {platform.machine()}",
    }
