"""The labs are written with the public API only, so a student can copy any lab out of the package
and run it as a script: no relative import, no private module or name (issue 10)."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

import neuralab.labs

LABS_DIR = Path(neuralab.labs.__file__).parent
LAB_FILES = sorted(p for p in LABS_DIR.glob("*.py") if p.name != "__init__.py")


def _bad_imports(source: str) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                bad.append(f"line {node.lineno}: relative import from {'.' * node.level}{module}")
            elif module != "__future__" and any(part.startswith("_") for part in module.split(".")):
                bad.append(f"line {node.lineno}: private module {module}")
            bad += [f"line {node.lineno}: private name {alias.name} from {module}"
                    for alias in node.names if alias.name.startswith("_")]
        elif isinstance(node, ast.Import):
            bad += [f"line {node.lineno}: private module {alias.name}" for alias in node.names
                    if any(part.startswith("_") for part in alias.name.split("."))]
    return bad


def test_the_scan_finds_relative_and_private_imports():
    source = ("from .. import nn\nfrom . import _plot\nfrom neuralab.io._x import y\n"
              "from neuralab.train.trainer import _labels\nimport neuralab._secret\n"
              "from __future__ import annotations\nfrom neuralab import nn, optim\n")
    assert len(_bad_imports(source)) == 6  # line 2 twice: relative and a private name


def test_there_are_labs_to_scan():
    assert len(LAB_FILES) >= 15


@pytest.mark.parametrize("path", LAB_FILES, ids=[p.stem for p in LAB_FILES])
def test_a_lab_imports_only_the_public_api(path):
    assert _bad_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", LAB_FILES, ids=[p.stem for p in LAB_FILES])
def test_a_lab_copied_out_of_the_package_still_imports(path, tmp_path):
    copy = tmp_path / f"my_{path.name}"
    shutil.copy(path, copy)
    spec = importlib.util.spec_from_file_location(f"copied_{path.stem}", copy)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    if path.stem != "common":
        assert callable(module.run) and hasattr(module, "Config")
