"""Figures as files: matplotlib with the Agg backend (never a window), written atomically.  Used
by the labs, the demo and ``neuralab train``; matplotlib comes with the ``[lab]`` extra."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .atomic import atomic_write


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
    """Save ``fig`` to ``path`` atomically (:func:`~neuralab.io.atomic_write`: a unique
    temporary file and a rename, so two processes drawing the same figure never clash), then
    close it.  The format comes from the suffix (``.png``, ``.svg``, ``.pdf``), PNG without one.
    """
    path = Path(path)
    # rendered in memory first: matplotlib infers the format from a file name, and the
    # temporary name must stay the atomic writer's own
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=path.suffix[1:].lower() or "png", dpi=110, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    atomic_write(path, buffer.getbuffer())
    return path
