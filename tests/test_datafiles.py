"""Where the data files are read from; tests/test_wheel.py checks the same in an installed wheel."""

from __future__ import annotations

from pathlib import Path

from routing.datafiles import DATA_DIR, data_file
from routing.text import DEFAULT_LEXICON_PATH

ROOT = Path(__file__).resolve().parents[1]


def test_a_checkout_reads_the_files_people_edit_in_data():
    assert DATA_DIR == ROOT / "data"
    assert data_file("agencies.csv") == ROOT / "data" / "agencies.csv"
    assert DEFAULT_LEXICON_PATH == ROOT / "data" / "lexicon_id.tsv"
