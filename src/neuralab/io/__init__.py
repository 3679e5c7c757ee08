"""Files: models as safetensors + JSON architecture (:func:`save`, :func:`load`), the safetensors
format itself in NumPy, and atomic writes.

>>> neuralab.save(model, "model.safetensors")
>>> model = neuralab.load("model.safetensors")
"""

from .atomic import atomic_write, to_jsonable, write_json
from .model import load, save
from .rundir import RunDirectory, RunDirectoryExists, check_writable_directory
from .safetensors import SafetensorsError, read_safetensors, write_safetensors

__all__ = [
    "RunDirectory", "RunDirectoryExists", "SafetensorsError", "atomic_write",
    "check_writable_directory", "load", "read_safetensors", "save", "to_jsonable", "write_json",
    "write_safetensors",
]
