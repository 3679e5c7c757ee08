"""The labs' plotting helpers (they live in :mod:`neuralab.io.figures`)."""

from ..io.figures import pyplot, save

__all__ = ["pyplot", "save"]
