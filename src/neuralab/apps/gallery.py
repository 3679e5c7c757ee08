"""The gallery of the labs: one HTML page with every lab's figures, claim and verdict.

``neuralab lab run all [--quick]`` runs every lab into ``runs/lab-NAME/`` and then writes
``runs/index.html`` with :func:`write_gallery`.  For each lab the page shows its title, the claim
it checks, the verdict of the run (**held** or **not held**) with the lab's own summary (the
measured numbers, per seed) and its checks one by one, every figure, and where it was measured
(quick or full configuration, commit, CPU, BLAS).  A table at the top lists every lab with its
verdict and links to its section.

Everything is read from the lab directories (``result.json`` and the PNG figures it names), so a
gallery can be written again from directories of an earlier run.  The page is self-contained like
the run report (:mod:`neuralab.apps.report`): the figures are embedded as ``data:`` URIs, there
is no script, a Content-Security-Policy lets the browser fetch nothing, and every text from a
result is escaped.  Each lab's section carries ``data-lab`` and ``data-verdict`` (``held`` or
``not-held``) so that a test or a script can read the verdicts back.

>>> write_gallery("runs/index.html", [GalleryEntry("xor-numpy", title, claim, "runs/lab-xor-numpy")])
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_write
from .report import _esc, _png_size, html_page

GALLERY_NAME = "index.html"

_GALLERY_STYLE = """
.held { color: #1d6b2c; font-weight: 600; }
.not-held { color: #a3231b; font-weight: 600; }
section.lab { margin-top: 2.5rem; }
ul.checks { margin: .3rem 0 .8rem; padding-left: 1.2rem; }
"""


@dataclass
class GalleryEntry:
    """One lab of the gallery: its name, title and claim (from the lab module) and the directory
    its run wrote (``result.json`` and the figures)."""

    name: str
    title: str
    claim: str
    run_dir: str | os.PathLike


def _stored(entry: GalleryEntry) -> dict:
    path = Path(entry.run_dir) / "result.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"lab {entry.name!r} has no result in {entry.run_dir} (no "
                                f"result.json): run `neuralab lab run {entry.name}` first") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); run the lab again") from None
    missing = ([k for k in ("claim_holds", "summary", "figures") if k not in stored]
               if isinstance(stored, dict) else ["everything"])
    if missing:
        raise ValueError(f"{path} is not the result of a lab run (missing {missing}); run the "
                         f"lab again")
    return stored


def _figure(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f'<p class="note">Figure missing: <code>{_esc(path.name)}</code>.</p>'
    size = _png_size(data)
    if size is None:
        return f'<p class="note">Not a PNG image: <code>{_esc(path.name)}</code>.</p>'
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="{uri}" alt="{_esc(path.stem)}" width="{size[0]}" '
            f'height="{size[1]}"><figcaption><code>{_esc(path.name)}</code></figcaption>'
            f"</figure>")


def _where(stored: dict) -> str:
    meta = stored.get("meta") or {}
    which = "quick" if stored.get("quick") else "full"
    parts = [f"{which} configuration"]
    parts += [f"{label} {meta[key]}" for key, label in
              (("commit", "commit"), ("cpu", "on"), ("numpy", "NumPy"), ("blas", "")) if key in meta]
    return ", ".join(p.strip() for p in parts)


def _section(entry: GalleryEntry, stored: dict) -> str:
    held = bool(stored["claim_holds"])
    verdict = "held" if held else "not-held"
    checks = (stored.get("result") or {}).get("checks") if isinstance(stored.get("result"),
                                                                        dict) else None
    check_list = ""
    if isinstance(checks, dict) and checks:
        check_list = '<ul class="checks">' + "".join(
            f'<li><span class="{"held" if ok else "not-held"}">{"yes" if ok else "NO"}</span> '
            f"{_esc(name)}</li>" for name, ok in checks.items()) + "</ul>"
    figures = "".join(_figure(Path(entry.run_dir) / name) for name in stored["figures"]
                      if str(name).endswith(".png"))
    return (
        f'<section class="lab" id="lab-{_esc(entry.name)}" data-lab="{_esc(entry.name)}" '
        f'data-verdict="{verdict}">'
        f"<h2><code>{_esc(entry.name)}</code>: {_esc(entry.title)}</h2>"
        f"<p><strong>Claim:</strong> {_esc(entry.claim)}</p>"
        f'<p><strong>Verdict:</strong> the claim <span class="{verdict}">'
        f'{"held" if held else "did not hold"}</span> in this run '
        f'(<span class="note">{_esc(_where(stored))}</span>).</p>'
        f"{check_list}{figures}"
        f"<details open><summary>Measured numbers</summary><pre>{_esc(stored['summary'])}</pre>"
        f"</details></section>"
    )


def render_gallery(entries: list[GalleryEntry]) -> str:
    """The gallery page of ``entries`` as a string (see the module's docstring)."""
    if not entries:
        raise ValueError("the gallery needs at least one lab")
    stored = [_stored(e) for e in entries]
    held = sum(bool(s["claim_holds"]) for s in stored)
    rows = "".join(
        f'<tr><td><a href="#lab-{_esc(e.name)}"><code>{_esc(e.name)}</code></a></td>'
        f"<td>{_esc(e.title)}</td>"
        f'<td class="{"held" if s["claim_holds"] else "not-held"}">'
        f'{"held" if s["claim_holds"] else "not held"}</td></tr>'
        for e, s in zip(entries, stored, strict=True))
    title = "neuralab labs: the lecture's claims, measured"
    body = (
        f"<h1>{_esc(title)}</h1>\n"
        f'<p class="subtitle" id="count" data-held="{held}" data-labs="{len(entries)}">'
        f"{held} of {len(entries)} claims held.</p>\n"
        f"<table><tr><th>lab</th><th>what it shows</th><th>verdict</th></tr>{rows}</table>\n"
        + "\n".join(_section(e, s) for e, s in zip(entries, stored, strict=True)))
    return html_page(title, body, "<code>neuralab lab run all</code>, "
                     "<code>neuralab.apps.gallery</code>", style=_GALLERY_STYLE)


def write_gallery(out: str | os.PathLike, entries: list[GalleryEntry]) -> Path:
    """Write the gallery of ``entries`` to ``out`` atomically and return its path."""
    return atomic_write(Path(out), render_gallery(entries).encode("utf-8"))
