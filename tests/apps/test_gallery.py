"""The gallery of the labs (neuralab.apps.gallery, written by `neuralab lab run all`): every lab's
figures, claim and verdict with its numbers, self-contained, escaped, and opened without an error
by a real browser (Debian's Chromium driven by playwright, as the run report)."""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest

from neuralab import cli, labs
from neuralab.apps.gallery import GalleryEntry, render_gallery, write_gallery

from .browser import browse
from .test_report import HOSTILE


@pytest.fixture(scope="module")
def lab_dirs(tmp_path_factory):
    """A real quick run of one lab, and a copy of it whose result says the claim failed."""
    root = tmp_path_factory.mktemp("gallery")
    labs.run("activations", quick=True, out_dir=root / "lab-activations")
    failed = root / "lab-failed"
    shutil.copytree(root / "lab-activations", failed)
    stored = json.loads((failed / "result.json").read_text())
    stored["claim_holds"] = False
    stored["result"]["checks"] = {HOSTILE: False, "a check that held": True}
    stored["summary"] = "measured 0.123 < bound 0.5 & " + HOSTILE
    (failed / "result.json").write_text(json.dumps(stored))
    return root


def entries(root):
    lab = labs.get("activations")
    return [GalleryEntry("activations", lab.TITLE, lab.CLAIM, root / "lab-activations"),
            GalleryEntry("failed", "A lab that failed", "claim " + HOSTILE, root / "lab-failed")]


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section class="lab" id="lab-[^"]*" data-lab="([^"]*)" '
                           r'data-verdict="([^"]*)"', page))


def test_the_gallery_shows_every_lab_with_its_verdict_numbers_and_figures(lab_dirs):
    page = render_gallery(entries(lab_dirs))
    assert sections(page) == {"activations": "held", "failed": "not-held"}
    assert 'data-held="1" data-labs="2"' in page and "1 of 2 claims held." in page
    # the lab's claim, its summary with the measured numbers and every check, as text
    stored = json.loads((lab_dirs / "lab-activations" / "result.json").read_text())
    assert html.escape(labs.get("activations").CLAIM, quote=True) in page
    assert html.escape(stored["summary"], quote=True) in page
    for name in stored["result"]["checks"]:
        assert html.escape(name, quote=True) in page
    assert "did not hold" in page and "quick configuration" in page
    # every figure embedded, none linked: two labs with one figure each
    assert page.count('<img src="data:image/png;base64,') == 2
    assert not re.search(r'src="(?!data:)', page)
    # hostile text from a result is escaped, never markup
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "<script" not in page.lower()


def test_a_missing_or_foreign_result_is_a_clear_error(lab_dirs, tmp_path):
    with pytest.raises(FileNotFoundError, match="neuralab lab run nothing"):
        render_gallery([GalleryEntry("nothing", "t", "c", tmp_path)])
    (tmp_path / "result.json").write_text('{"lab": "x"}')
    with pytest.raises(ValueError, match="not the result of a lab run"):
        render_gallery([GalleryEntry("x", "t", "c", tmp_path)])
    (tmp_path / "result.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        render_gallery([GalleryEntry("x", "t", "c", tmp_path)])
    with pytest.raises(ValueError, match="at least one lab"):
        render_gallery([])


def test_a_missing_figure_is_named_not_fatal(lab_dirs, tmp_path):
    run = tmp_path / "lab-activations"
    shutil.copytree(lab_dirs / "lab-activations", run)
    (run / "activations.png").unlink()
    page = render_gallery([GalleryEntry("activations", "t", "c", run)])
    assert "Figure missing: <code>activations.png</code>" in page


def test_lab_run_all_writes_the_gallery(tmp_path, monkeypatch, capsys):
    # `all` over a registry cut to one fast lab: the command's own path, in a fresh directory
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(labs, "names", lambda: ["activations"])
    assert cli.main(["lab", "run", "all", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "wrote runs/index.html" in out
    page = (tmp_path / "runs" / "index.html").read_text(encoding="utf-8")
    assert sections(page) == {"activations": "held"}
    # a single lab by name writes no gallery
    (tmp_path / "runs" / "index.html").unlink()
    assert cli.main(["lab", "run", "activations", "--quick", "--out", "other"]) == 0
    assert not (tmp_path / "runs" / "index.html").exists()


def test_chromium_opens_the_gallery_without_an_error(lab_dirs, tmp_path):
    gallery = write_gallery(tmp_path / "index.html", entries(lab_dirs))

    def follow_the_link(page):
        page.click("a[href='#lab-failed']")
        return {"hash": page.evaluate("() => location.hash")}

    visit = browse(gallery, {
        "images": "() => Array.from(document.images, i => [i.complete, i.naturalWidth])",
        "verdicts": "() => Array.from(document.querySelectorAll('section[data-lab]'), "
                    "e => [e.dataset.lab, e.dataset.verdict])",
        "text": "() => document.body.innerText",
        "scripts": "() => document.scripts.length",
    }, then=follow_the_link)
    assert visit.errors == [] and visit.fetched == []
    images = visit.values["images"]
    assert len(images) == 2 and all(complete and width > 0 for complete, width in images)
    assert dict(visit.values["verdicts"]) == {"activations": "held", "failed": "not-held"}
    text = visit.values["text"]
    assert "1 of 2 claims held." in text and "measured 0.123 < bound 0.5" in text
    assert HOSTILE in text and visit.values["scripts"] == 0  # a hostile name is text
    assert visit.values["hash"] == "#lab-failed"
