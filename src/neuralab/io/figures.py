"""Figures as files: matplotlib with the Agg backend (never a window), written atomically.  Used
by the labs, the demo and ``neuralab train``; matplotlib comes with the ``[lab]`` extra."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or a clear error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "the labs draw figures with matplotlib: pip install 'neuralab[lab]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    """Save ``fig`` to ``path`` through a temporary file and a rename, then close it."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    os.replace(tmp, path)
    return path
