"""Files: models as safetensors + JSON architecture (:func:`save`, :func:`load`), the safetensors
format itself in NumPy, and atomic writes.

>>> neuralab.save(model, "model.safetensors")
>>> model = neuralab.load("model.safetensors")
"""

from .atomic import atomic_write, to_jsonable, write_json
from .model import load, save
from .safetensors import SafetensorsError, read_safetensors, write_safetensors

__all__ = [
    "SafetensorsError", "atomic_write", "load", "read_safetensors", "save", "to_jsonable",
    "write_json", "write_safetensors",
]
