"""Shared by the lab tests: the labs whose quick run reads Fashion-MNIST ask for it here."""

import os

import pytest

from neuralab.labs import common


@pytest.fixture
def fashion_mnist():
    """Skip the test when Fashion-MNIST is not installed, or fail it when CI is set (CI has the
    Debian package dataset-fashion-mnist, so a missing data set is a broken machine there)."""
    if not common.fashion_mnist_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Fashion-MNIST is missing (dataset-fashion-mnist)")
        pytest.skip("this lab test needs Fashion-MNIST (sudo apt-get install "
                    "dataset-fashion-mnist); it fails instead of skipping when CI is set")
