"""No measured number is typed by hand in docs/ or the README.

Measurements (accuracy, speed, a lab's numbers) live in generated blocks written from stored
results (`neuralab.io.pages`); the prose may hold only constants that are no measurement, each on
the list below with the reason.  tests/labs/test_pages.py and tests/test_bench.py check that every
generated block equals its stored result."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralab.io.pages import typed_numbers

ROOT = Path(__file__).resolve().parents[1]
# docs/labs/figures/ holds the stored results themselves (summary.md is written by the lab run)
PAGES = sorted([ROOT / "README.md",
                *(p for p in (ROOT / "docs").rglob("*.md") if "figures" not in p.parts)])

#: (page relative to the repository, number as written) -> why it is not a measurement
CONSTANTS = {
    ("README.md", "3.11"): "the Python version of the quick start",
    ("docs/nn.md", "0.01"): "default slope of LeakyReLU and factor of the L1/L2 penalties",
    ("docs/nn.md", "0.044715"): "the constant of GELU's tanh approximation",
    ("docs/initializers.md", "0.01"): "the lecture's std 0.01 initialization",
    ("docs/search.md", "90 %"): "share of a log-uniform range, arithmetic",
    ("docs/training.md", "0.01"): "SGD's default learning rate",
    ("docs/keras.md", "0.001"): "Keras' default rate of Adam, AdamW, RMSprop and Adagrad",
    ("docs/keras.md", "0.004"): "Keras' default weight decay of AdamW",
    ("docs/keras.md", "0.99"): "Keras' default BatchNormalization momentum",
    ("docs/keras.md", "0.01"): "Keras' SGD rate; PyTorch's momentum equal to Keras' 0.99",
    ("docs/training.md", "5 %"): "data.table.STRAY_TEXT_SHARE, a setting (checked below)",
}


def test_the_stray_text_share_quoted_is_the_setting():
    from neuralab.data.table import STRAY_TEXT_SHARE

    text = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    assert f"at most {STRAY_TEXT_SHARE:.0%}".replace("%", " %") in text


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_measured_number_is_typed(page):
    rel = str(page.relative_to(ROOT))
    typed = [n for n in typed_numbers(page.read_text(encoding="utf-8"))
             if (rel, n) not in CONSTANTS]
    assert typed == [], (
        f"{rel} types {typed}: generate measured numbers from a stored result "
        f"(neuralab.io.pages), or add a constant to CONSTANTS with the reason")
