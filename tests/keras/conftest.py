"""Keras 3 is the oracle of neuralab.keras; it runs on its PyTorch backend (torch is in the test
extra already), chosen before keras is first imported."""

from __future__ import annotations

import os

import pytest

os.environ["KERAS_BACKEND"] = "torch"


@pytest.fixture(scope="session")
def keras():
    import keras as keras_module

    assert keras_module.backend.backend() == "torch"
    return keras_module
