"""Files: models as safetensors + JSON architecture (:func:`save`, :func:`load`), the safetensors
format itself in NumPy, training checkpoints (:func:`write_checkpoint`, :func:`read_checkpoint`),
and atomic writes.

>>> neuralab.save(model, "model.safetensors")
>>> model = neuralab.load("model.safetensors")
"""

from .atomic import atomic_write, to_jsonable, write_json
from .checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from .model import load, save
from .rundir import RunDirectory, RunDirectoryExists, check_writable_directory
from .safetensors import SafetensorsError, read_safetensors, write_safetensors

__all__ = [
    "CheckpointError", "RunDirectory", "RunDirectoryExists", "SafetensorsError", "atomic_write",
    "check_writable_directory", "load", "read_checkpoint", "read_safetensors", "save",
    "to_jsonable", "write_checkpoint", "write_json", "write_safetensors",
]
