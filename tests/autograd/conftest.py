"""Make the op table importable from the other autograd test modules (``from test_ops_table
import OPS``): with ``--import-mode=importlib`` pytest puts no test directory on ``sys.path``."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
