import json
import re
from pathlib import Path

import pandas as pd
import pytest

from training.data import DataError, detect_format, read_table, require_columns

ROWS = [
    {"laporan": "Listrik mati sejak pagi", "tujuan": "PT PLN", "kode": "a1"},
    {"laporan": "KTP elektronik belum jadi", "tujuan": "Kemendagri", "kode": "a2"},
]


def _write(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("in.csv", "csv"),
        ("in.tsv", "csv"),
        ("in.jsonl", "jsonl"),
        ("in.ndjson", "jsonl"),
        ("in.parquet", "parquet"),
    ],
)
def test_round_trip_keeps_custom_columns_as_python_str(tmp_path, name, fmt):
    table = read_table(_write(tmp_path / name, ROWS))

    assert table.format == fmt
    assert list(table.frame.columns) == ["laporan", "tujuan", "kode"]
    assert table.frame.to_dict("records") == ROWS
    assert all(table.frame[c].dtype == object for c in table.frame.columns)
    assert all(type(v) is str for v in table.frame["laporan"])
    assert table.non_utf8_rows == 0
    assert len(table.sha256) == 64


def test_sha256_changes_with_file_bytes(tmp_path):
    a = read_table(_write(tmp_path / "a.csv", ROWS))
    b = read_table(_write(tmp_path / "b.csv", ROWS[:1] + ROWS[:1]))
    assert a.sha256 != b.sha256


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"  \n\n", "empty"),
        ("header.csv", b"text,agency\n", "no rows (header only)"),
        ("empty.jsonl", b"", "empty"),
        ("blank.jsonl", b"\n\n", "no rows"),
        ("ragged.csv", b"text,agency\na,b\nc,d,e\n", "line 3"),
        ("quote.csv", b'text,agency\n"unclosed,b\n', "cannot parse"),
        ("bad.jsonl", b'{"text": "a"}\n\n{"text": \n', "line 3"),
        ("list.jsonl", b'{"text": "a"}\n[1, 2]\n', "line 2: expected a JSON object"),
        ("utf16-no-bom.csv", "text,agency\n".encode("utf-16-le"), "UTF-16"),
        ("fake.parquet", b"not parquet at all", "Parquet"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(DataError, match=re.escape(message)) as info:
        read_table(path)

    assert "\n" not in str(info.value)
    assert name in str(info.value)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize("suffix", [".txt", ".xlsx", ""])
def test_unknown_suffix_is_a_data_error(tmp_path, suffix):
    with pytest.raises(DataError, match="format"):
        detect_format(tmp_path / f"data{suffix}")


def test_explicit_format_overrides_suffix(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text('{"t": "x", "a": "y"}\n')
    assert read_table(path, format="jsonl").frame.to_dict("records") == [{"t": "x", "a": "y"}]
    with pytest.raises(DataError, match="unknown format 'xml'"):
        read_table(path, format="xml")


def test_require_columns_names_missing_and_lists_available(tmp_path):
    frame = pd.DataFrame({"a": [1], "b": [2], "c": [3]})
    require_columns(frame, ["a", "c"], "f.csv")

    with pytest.raises(DataError) as info:
        require_columns(frame, ["a", "text"], "f.csv")

    assert str(info.value) == "missing column 'text' in f.csv; available: a, b, c"


def test_non_utf8_csv_row_is_counted_and_kept(tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes(
        b'text,agency\ncaf\xe9 tutup,Polri\n"multi\nline caf\xe9",OJK\njalan rusak,Kemendagri\n'
    )

    table = read_table(path)

    assert table.non_utf8_rows == 2
    assert table.frame["text"].tolist() == ["café tutup", "multi\nline café", "jalan rusak"]


def test_non_utf8_jsonl_line_is_counted_and_kept(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"text": "caf\xe9", "agency": "OJK"}\n{"text": "ok", "agency": "Polri"}\n')

    table = read_table(path)

    assert table.non_utf8_rows == 1
    assert table.frame["text"].tolist() == ["café", "ok"]


def test_byte_undefined_in_cp1252_falls_back_to_latin1(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"text,agency\nx\x81y,OJK\n")

    table = read_table(path)

    assert table.non_utf8_rows == 1
    assert table.frame["text"].tolist() == ["x\x81y"]


def test_utf8_bom_and_utf16_bom_are_decoded(tmp_path):
    bom8 = tmp_path / "bom8.csv"
    bom8.write_bytes("\ufefftext,agency\ncafé,OJK\n".encode())
    bom16 = tmp_path / "bom16.csv"
    bom16.write_bytes("text,agency\ncafé,OJK\n".encode("utf-16"))

    for path in (bom8, bom16):
        table = read_table(path)
        assert list(table.frame.columns) == ["text", "agency"]
        assert table.frame["text"].tolist() == ["café"]
        assert table.non_utf8_rows == 0


def test_jsonl_keeps_line_separator_characters_inside_strings(tmp_path):
    path = tmp_path / "sep.jsonl"
    path.write_text('{"text": "a\u2028b", "agency": "OJK"}\n', encoding="utf-8")

    assert read_table(path).frame["text"].tolist() == ["a\u2028b"]


def test_json_array_file_is_read(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(ROWS))

    assert read_table(path).frame.to_dict("records") == ROWS


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl", "big.parquet"])
def test_one_megabyte_text_loads(tmp_path, name):
    big = "listrik padam, " * 70_000  # ~1 MB
    table = read_table(
        _write(
            tmp_path / name, [{"text": big, "agency": "PT PLN"}, {"text": "ok", "agency": "Polri"}]
        )
    )

    assert table.frame["text"].tolist()[0] == big
    assert len(table.frame) == 2


def test_a_folder_is_read_as_its_shards_in_name_order(tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "b.csv").write_text("id,text\n3,c\n", encoding="utf-8")
    (folder / "a.jsonl").write_text('{"id": "1", "text": "a"}\n{"id": "2", "text": "b"}\n')
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden.csv").write_text("id,text\n9,z\n", encoding="utf-8")
    table = read_table(folder)
    assert table.frame["id"].tolist() == ["1", "2", "3"]
    assert table.frame["text"].tolist() == ["a", "b", "c"]
    assert table.format == "mixed"


def test_an_empty_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="holds no files"):
        read_table(tmp_path)
