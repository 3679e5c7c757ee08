"""The version of neuralab, in one place (the package, saved files and pyproject read it)."""

__version__ = "0.1.0"
