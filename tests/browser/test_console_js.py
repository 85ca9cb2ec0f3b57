"""The console's pure JavaScript functions, imported into Chromium and called directly.

These are the parts where a mistake corrupts data rather than looks wrong: reading the
queue's CSV/JSONL files, writing the export, splitting batches, finding the words to
highlight, and the two string dictionaries.
"""

from __future__ import annotations

import re

import pytest

from routing.api.routes.console import CONSOLE_DIR

KEY_PREFIXES = (
    "app",
    "nav",
    "decision",
    "login",
    "error",
    "dispose",
    "picker",
    "queue",
    "stats",
    "reason",
)
# Keys the scripts build at run time: `queue.status.${status}`, `queue.problem.${problem}`, ...
BUILT_KEYS = (
    [f"queue.status.{s}" for s in ("accepted", "corrected", "auto", "pending", "skipped", "failed")]
    + [f"queue.problem.{p}" for p in ("empty", "too_long", "nul", "refused")]
    + [f"error.{code}" for code in (401, 403, 404, 413, 429, 503)]
    + [f"reasonName.{c}" for c in ("low_confidence", "ambiguous", "out_of_scope", "few_shot")]
)


@pytest.fixture
def js(page, service):
    """call(module, function, *args): the function's result, JSON round-tripped."""
    page.goto(service.console)

    def call(module: str, function: str, *args):
        return page.evaluate(
            """async ([module, fn, args]) => {
                const m = await import(`./js/${module}`);
                try { return { value: await m[fn](...args) }; }
                catch (error) { return { error: `${error.name}: ${error.message}` }; }
            }""",
            [module, function, list(args)],
        )

    return call


def test_csv_fields_may_hold_delimiters_quotes_and_newlines(js):
    text = 'id,text\r\n1,"listrik, padam"\n2,"baris satu\nbaris dua"\n3,"kata ""kutip"""\n\n'
    assert js("csv.js", "parseCSV", text) == {
        "value": [
            ["id", "text"],
            ["1", "listrik, padam"],
            ["2", "baris satu\nbaris dua"],
            ["3", 'kata "kutip"'],
        ]
    }


def test_csv_from_an_indonesian_spreadsheet_uses_semicolons_and_a_bom(js):
    text = '\ufeffid;text\n1;"a;b"\n'
    assert js("csv.js", "parseCSV", text) == {"value": [["id", "text"], ["1", "a;b"]]}


def test_csv_with_an_unterminated_quote_is_refused(js):
    assert js("csv.js", "parseCSV", 'id,text\n1,"tidak ditutup\n')["error"].startswith(
        "SyntaxError"
    )


def test_read_table_names_every_column_and_pads_short_rows(js):
    table = js("csv.js", "readTable", "id,,id\n1,a,x\n2\n", "q.csv")["value"]
    assert table["columns"] == ["id", "column_2", "id_2"]
    assert table["rows"] == [
        {"id": "1", "column_2": "a", "id_2": "x"},
        {"id": "2", "column_2": "", "id_2": ""},
    ]


def test_read_table_reads_json_lines_and_names_a_bad_line(js):
    text = '{"id": 1, "text": "air keruh", "meta": {"k": 2}}\n\n{"text": "jalan rusak"}\n'
    table = js("csv.js", "readTable", text, "q.jsonl")["value"]
    assert table["columns"] == ["id", "text", "meta"]
    assert table["rows"][0] == {"id": "1", "text": "air keruh", "meta": '{"k":2}'}
    assert table["rows"][1] == {"id": "", "text": "jalan rusak", "meta": ""}
    error = js("csv.js", "readTable", '{"text": "a"}\n{oops\n', "q.jsonl")["error"]
    assert "line 2" in error


def test_export_round_trips_and_defuses_spreadsheet_formulas(js):
    rows = [["1", 'a, "b"\nc'], ["2", "=SUM(A1)"], ["3", "+62 812"], ["4", "biasa"]]
    text = js("csv.js", "toCSV", ["id", "text"], rows)["value"]
    assert text.startswith("\ufeffid,text\r\n")
    parsed = js("csv.js", "parseCSV", text)["value"]
    assert parsed[1:] == [["1", 'a, "b"\nc'], ["2", "'=SUM(A1)"], ["3", "'+62 812"], ["4", "biasa"]]


def test_highlight_marks_whole_words_in_any_case(js):
    segments = js(
        "highlight.js",
        "highlightSegments",
        "Listrik PADAM, listriknya padam!",
        ["listrik", "padam"],
    )["value"]
    assert [s["text"] for s in segments if s["mark"]] == ["Listrik", "PADAM", "padam"]
    assert "".join(s["text"] for s in segments) == "Listrik PADAM, listriknya padam!"
    assert js("highlight.js", "highlightSegments", "tanpa kata", [])["value"] == [
        {"text": "tanpa kata", "mark": False}
    ]


def test_batches_stay_within_the_item_and_size_limits(js):
    small = [{"item": {"text": f"keluhan {i}", "complaint_id": None}} for i in range(250)]
    sizes = js("batch.js", "chunk", small)["value"]
    assert [len(c) for c in sizes] == [100, 100, 50]
    big = [{"item": {"text": "é" * 20_000, "complaint_id": None}} for _ in range(40)]
    chunks = js("batch.js", "chunk", big, {"maxItems": 1000, "maxBytes": 900_000})["value"]
    assert sum(len(c) for c in chunks) == 40
    assert all(len(c) * 40_000 <= 900_000 for c in chunks)  # é is 2 bytes in UTF-8


def test_texts_the_service_would_refuse_are_recognised(js):
    problems = {
        "": "empty",
        " \n\u200b ": "empty",
        "a\u0000b": "nul",
        "x" * 20_001: "too_long",
        "x" * 20_000: None,
        "😀" * 20_000: None,  # 20,000 characters, though 40,000 JavaScript code units
    }
    for text, problem in problems.items():
        assert js("batch.js", "textProblem", text) == {"value": problem}, text[:20]


def test_both_languages_have_every_string_the_page_uses(js, page):
    js("i18n.js", "getLanguage")  # loads the module
    dictionaries = page.evaluate("import('./js/i18n.js').then((m) => m.STRINGS)")
    assert set(dictionaries["id"]) == set(dictionaries["en"])
    sources = [p.read_text(encoding="utf-8") for p in CONSOLE_DIR.rglob("*.js")]
    sources.append((CONSOLE_DIR / "index.html").read_text(encoding="utf-8"))
    literal = re.compile(rf'"((?:{"|".join(KEY_PREFIXES)})\.[A-Za-z_.]+)"')
    used = {key for text in sources for key in literal.findall(text)} | set(BUILT_KEYS)
    assert len(used) > 100
    assert not used - set(dictionaries["id"])
    assert all(value.strip() for d in dictionaries.values() for value in d.values())
