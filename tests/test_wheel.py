"""The wheel on its own: built from the checkout, installed into a folder with `pip --target`,
and run from outside the checkout, it trains, evaluates, predicts and serves the sample corpus.

An editable install hides what a wheel lacks (a module, a data file, a migration, a console
file) and code that finds files through the source tree; these tests do not. The run happens in
tests/installed_wheel.py under `python -S`: without the site module no .pth file of an editable
install can put the checkout back on the path, so the wheel and the environment's third-party
packages (given on PYTHONPATH) are all it can import.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from serve_process import clean_env  # tests/ is on sys.path

from routing.text import load_lexicon

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
RUN = Path(__file__).with_name("installed_wheel.py")
# what pyproject.toml ships from data/: the files at its top, not data/sample/
DATA_FILES = sorted(
    p.name for p in (ROOT / "data").iterdir() if p.suffix in {".tsv", ".csv", ".txt"}
)
BUILD_INPUTS = ("pyproject.toml", "README.md", "routing", "training", "data")
TIMEOUT_S = 600


def _pip(*args: str | Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel and pip's output. Built from a copy of the sources: setuptools would reuse a
    checkout's stale build/ folder. This environment's setuptools builds it, offline."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    log = _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp / "dist", src)
    (wheel,) = (tmp / "dist").glob("routing-*.whl")
    return wheel, log


@pytest.fixture(scope="module")
def installed(build: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    wheel, _ = build
    _pip("install", "--no-deps", "--no-index", "--target", target, wheel)
    return target


@pytest.fixture(scope="module")
def run(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The run's output folder and its report (tests/installed_wheel.py)."""
    out = tmp_path_factory.mktemp("run")
    path = [str(installed), *site.getsitepackages()]
    done = subprocess.run(
        [sys.executable, "-S", "-P", str(RUN), str(SAMPLE), str(out)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=clean_env(
            PYTHONPATH=os.pathsep.join(path), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"
        ),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text("utf-8"))


def _under(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_building_the_wheel_shows_no_setuptools_warning(build):
    _, log = build
    assert "Warning:" not in log, log  # a Python warning category, e.g. BuildBackendWarning


def test_wheel_ships_every_module_and_the_data_files_but_not_the_sample_corpus(build):
    wheel, _ = build
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        p.relative_to(ROOT).as_posix()
        for package in ("routing", "training")
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules - names == set(), "add the missing subpackages to pyproject.toml"
    assert {f"routing/data/{name}" for name in DATA_FILES} <= names
    assert {"routing/console/index.html", "routing/storage/migrations/script.py.mako"} <= names
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"routing", "training"}
    assert not [name for name in names if "/sample/" in name]


def test_installed_data_files_are_the_ones_in_data(installed):
    for name in DATA_FILES:
        shipped = installed / "routing" / "data" / name
        assert shipped.read_bytes() == (ROOT / "data" / name).read_bytes(), name


def test_the_run_imports_only_the_wheel_and_reads_nothing_of_the_checkout(installed, run):
    _, report = run
    assert _under(report["routing_file"], installed)
    assert [f for f in report["module_files"] if not _under(f, installed)] == []
    checkout = [ROOT / "routing", ROOT / "training", ROOT / "data"]
    read = [f for f in report["opened"] if any(_under(f, d) for d in checkout)]
    assert [f for f in read if not _under(f, SAMPLE)] == []


def test_every_data_file_is_read_from_the_wheel(installed, run):
    # a loader that treats a missing file as empty would pass every other check
    _, report = run
    read = {Path(f).name for f in report["opened"] if _under(f, installed / "routing" / "data")}
    assert set(DATA_FILES) - read == set()


def test_the_wheel_trains_with_its_lexicon_and_loads_its_catalogue(run):
    out, report = run
    assert load_lexicon(out / "model" / "lexicon_id.tsv") == load_lexicon(
        ROOT / "data" / "lexicon_id.tsv"
    )
    assert report["labels_unknown_to_catalogue"] == {}


def test_the_wheel_evaluates_and_predicts_with_explanations(run):
    out, _ = run
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert metrics["n"] == len(pd.read_csv(SAMPLE / "complaints.csv"))
    assert metrics["accuracy"] > 0.9  # scored on its own training data
    rows = [
        json.loads(line) for line in (out / "predictions.jsonl").read_text("utf-8").splitlines()
    ]
    assert [row["id"] for row in rows] == pd.read_csv(SAMPLE / "incoming.csv")["id"].tolist()
    assert all(row["suggestions"][0]["explanation"] for row in rows)


def test_the_wheel_serves_a_prediction_and_the_console(installed, run):
    _, report = run
    assert report["predict_status"] == 200, report["predict"]
    assert report["predict"]["suggestions"][0]["explanation"]
    migrations = installed / "routing" / "storage" / "migrations"
    assert any(_under(f, migrations / "versions") for f in report["opened"])
    assert report["console_status"] == 200 and report["console_html"]
