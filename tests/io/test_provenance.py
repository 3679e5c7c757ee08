"""neuralab.io.provenance: the BLAS recorded with a stored result is NumPy's own."""

import os

import threadpoolctl

from neuralab.io.provenance import blas_description, run_metadata


def test_numpys_blas_is_recorded_when_scipys_is_listed_first(monkeypatch):
    site = os.path.join(os.sep, "venv", "site-packages")
    listed = [
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.30",
         "architecture": "Haswell", "num_threads": 2,
         "filepath": os.path.join(site, "scipy.libs", "libscipy_openblas.so")},
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.31",
         "architecture": "SkylakeX", "num_threads": 1,
         "filepath": os.path.join(site, "numpy.libs", "libscipy_openblas64_.so")},
    ]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: listed)
    assert blas_description() == "OpenBLAS 0.3.31, SkylakeX kernel, 1 threads"
    # without NumPy's among them (a system BLAS), the first one listed
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: listed[:1])
    assert blas_description() == "OpenBLAS 0.3.30, Haswell kernel, 2 threads"


def test_run_metadata_names_the_code_and_the_machine():
    meta = run_metadata()
    assert set(meta) >= {"commit", "cpu", "blas", "numpy", "python", "platform"}
    assert "CPUs" in meta["cpu"]
