"""Benchmarks of neuralab against PyTorch (CPU) and scikit-learn; run with ``python -m bench``.

Not part of the installed package: nothing in ``src/neuralab`` imports it.
"""
