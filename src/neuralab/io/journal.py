"""An append-only journal of finished work, one JSON object per line (JSON Lines).

A long search writes each trial as it finishes, so that an interrupted search (Ctrl-C, a lost
machine) resumes without redoing finished trials.  The first line names the work
(``{"journal": ..., "fingerprint": ...}``): a journal written by a different search (other data,
settings or seed) is refused instead of mixed in.  Each record is written with one ``write``
call, flushed and fsynced; a process killed in the middle of a line leaves a torn last line,
which :meth:`Journal.records` drops (that trial is simply done again).

>>> journal = Journal("runs/search/trials.jsonl", kind="neuralab-search", fingerprint="ab12...")
>>> done = journal.records()          # [] for a new journal
>>> journal.append({"trial": 0, "fold": 0, "score": 0.31})
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .atomic import nan_to_none

__all__ = ["Journal", "JournalError"]


class JournalError(ValueError):
    """The journal file belongs to other work or is not a journal."""


class Journal:
    """The journal at ``path`` of the work named ``kind`` with ``fingerprint`` (a digest of
    everything that decides its results).  Created with its header on the first
    :meth:`append`."""

    def __init__(self, path: str | os.PathLike[str], *, kind: str, fingerprint: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self.fingerprint = fingerprint

    def _header(self) -> dict[str, Any]:
        return {"journal": self.kind, "version": 1, "fingerprint": self.fingerprint}

    def records(self) -> list[dict[str, Any]]:
        """The records written so far (none for a missing or empty file).  Raises
        :class:`JournalError` when the file is another search's journal or not a journal."""
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        complete = text.split("\n")[:-1]  # a last line without "\n" was cut short: dropped
        if not complete:
            return []
        try:
            header = json.loads(complete[0])
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("journal") != self.kind:
            raise JournalError(f"{self.path} is not a {self.kind} journal; remove it or choose "
                               f"another output directory")
        if header.get("fingerprint") != self.fingerprint:
            raise JournalError(f"{self.path} holds the trials of a different search (other "
                               f"data, settings or seed); rerun with the same settings to "
                               f"resume it, or remove it to start over")
        out = []
        for number, line in enumerate(complete[1:], start=2):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise JournalError(f"{self.path}, line {number}: not a JSON record; the "
                                   f"journal was edited or damaged, remove it to start "
                                   f"over") from None
            if not isinstance(record, dict):
                raise JournalError(f"{self.path}, line {number}: expected a JSON object")
            out.append(record)
        return out

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line (after the header, for a new file), flushed and fsynced
        before returning."""
        line = json.dumps(nan_to_none(record), sort_keys=True, allow_nan=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):
                # the torn last line of a killed writer: cut it off, this record replaces it
                with open(self.path, "r+b") as f:
                    f.truncate(data.rfind(b"\n") + 1)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "ab") as f:
            if fresh:
                f.write((json.dumps(self._header(), sort_keys=True) + "\n").encode())
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())
