"""The lecture's white-wine data ships with the package (UCI Wine Quality, CC BY 4.0)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

import neuralab
from neuralab.data import load_wine_quality, wine_quality_path

ROOT = Path(__file__).resolve().parents[2]


def test_load_wine_quality_gives_the_uci_white_wines():
    X, y, names = load_wine_quality()
    assert X.shape == (4898, 11) and X.dtype == np.float32 and y.dtype == np.int64
    assert names[0] == "fixed acidity" and names[-1] == "alcohol"
    # the first wine of the UCI file: 7, 0.27, 0.36, 20.7, 0.045, 45, 170, 1.001, 3, 0.45, 8.8; 6
    np.testing.assert_allclose(X[0], [7, 0.27, 0.36, 20.7, 0.045, 45, 170, 1.001, 3, 0.45, 8.8],
                               rtol=1e-6)
    assert y[0] == 6 and set(np.unique(y)) == {3, 4, 5, 6, 7, 8, 9}
    assert np.bincount(y)[6] == 2198  # the published class counts: grade 6 is the largest


def test_the_file_lies_inside_the_package_with_licence_and_citation():
    path = wine_quality_path()
    assert Path(neuralab.__file__).parent in path.parents
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "Cortez" in readme and "Decision Support Systems" in readme


def test_a_built_wheel_carries_the_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("neuralab-*.whl")
    members = set(zipfile.ZipFile(wheel).namelist())
    assert "neuralab/data/datasets/files/winequality-white.csv" in members
    assert "neuralab/data/datasets/files/README.md" in members
