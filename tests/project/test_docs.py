"""Every command shown in README.md and docs/ runs as written: each ```bash and ```python block
of a page runs, in order, in a scratch folder (a block may use the files an earlier one
wrote), with the installed fastdnn. A block whose info string says ``norun`` is not run and
must say why; blocks that read the course's cat data (``load_data("datasets")``) run where
../shared/data has it and are skipped elsewhere."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import DATA, ROOT

PAGES = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(bash|python)([^\n]*)\n(.*?)^```", re.S | re.M)
CAT = ("load_data(\"datasets\")", "../shared/data")


def blocks(page):
    """(language, info string after it, code) of every bash or python block of a page."""
    return FENCE.findall((ROOT / page).read_text())


def _folder(tmp_path):
    """The scratch folder: datasets/ holds the cat data where ../shared has it."""
    work = tmp_path / "work"
    (work / "datasets").mkdir(parents=True)
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        if (DATA / name).exists():
            shutil.copy(DATA / name, work / "datasets" / name)
    return work


def test_the_pages_have_blocks_and_every_norun_says_why():
    assert len(PAGES) >= 11
    counted = 0
    for page in PAGES:
        for language, info, code in blocks(page):
            counted += 1
            words = info.strip()
            if words.startswith("norun"):
                assert len(words) > len("norun") + 10, f"{page}: a norun block says why: {code}"
            else:
                assert not words, f"{page}: unknown info string {info!r}"
    assert counted >= 20


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_block_runs_as_written(page, tmp_path):
    work = _folder(tmp_path)
    have_cat = (work / "datasets" / "train_catvnoncat.h5").exists()
    env = dict(os.environ, MPLBACKEND="Agg")
    ran, skipped = 0, 0
    for language, info, code in blocks(page):
        if info.strip().startswith("norun"):
            continue
        if any(c in code for c in CAT) and not have_cat:
            skipped += 1
            continue
        argv = ["bash", "-e", "-c", code] if language == "bash" else [sys.executable, "-c", code]
        r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{page}, this block failed:\n{code}\n{r.stdout}\n{r.stderr}"
        ran += 1
    if not ran and skipped:
        pytest.skip(f"{page}: its blocks need the cat data, not found under {DATA}")
