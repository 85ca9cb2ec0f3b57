import itertools
import math
import random
import re
import unicodedata
from pathlib import Path

import joblib
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from routing import text as text_module
from routing.text import (
    DEFAULT_LEXICON_PATH,
    DEFAULT_STOPWORDS_PATH,
    MASK_TOKENS,
    TextNormalizer,
    clean_html,
    find_personal_data,
    load_lexicon,
    load_stopwords,
    mask_personal_data,
    near_duplicate_groups,
)

LONG_DIGIT_RUN = re.compile(r"[0-9]{10,}")


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer().fit([])


def write_lexicon(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- HTML --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("baris satu&#60;br />baris dua", "baris satu baris dua"),
        ("a&amp;#60;br&amp;#62;b", "a b"),
        ("PT PLN &amp; BPJS", "PT PLN & BPJS"),
        ("satu<br>dua<br/>tiga</p>", "satu dua tiga "),
        ("&lt;b&gt;tebal&lt;/b&gt;", " tebal "),
        ("&amp;amp;amp;", "&"),
        ("nilai <5 dan >3", "nilai <5 dan >3"),
        ("?id=1&not=2&reg=3", "?id=1&not=2&reg=3"),
        ("&tidak; dikenal", "&tidak; dikenal"),
        ("tanpa html", "tanpa html"),
    ],
)
def test_clean_html_unescapes_and_drops_tags(raw, expected):
    assert clean_html(raw) == expected


# --- masking -----------------------------------------------------------------------------------


def test_mask_tokens_are_the_published_placeholders():
    assert MASK_TOKENS == {
        "url": "[URL]",
        "email": "[EMAIL]",
        "phone": "[TELEPON]",
        "nik": "[NIK]",
        "bpjs": "[BPJS]",
        "npwp": "[NPWP]",
        "plate": "[NOPOL]",
        "number": "[NOMOR]",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NIK 3201234567890001 mohon dicek", "NIK [NIK] mohon dicek"),
        ("nik: 3201 2345 6789 0001.", "nik: [NIK]."),
        ("NIK 3201.2345.6789.0001", "NIK [NIK]"),
        ("nik 320123-456789-0001", "nik [NIK]"),
        ("NIK 32.01.23.456789.0001", "NIK [NIK]"),
        ("No KK 3201230101090042", "No KK [NIK]"),
        ("NIK3201234567890001", "NIK[NIK]"),
        ("hp 081234567890", "hp [TELEPON]"),
        ("hp 0812-3456-7890", "hp [TELEPON]"),
        ("hp 0812 3456 789", "hp [TELEPON]"),
        ("wa 0812.3456.7890", "wa [TELEPON]"),
        ("hubungi +62 812-3456-7890", "hubungi [TELEPON]"),
        ("hubungi +6281234567890", "hubungi [TELEPON]"),
        ("hubungi 62 812 3456 7890", "hubungi [TELEPON]"),
        ("telp (021) 1234567", "telp [TELEPON]"),
        ("telp 0274-123456", "telp [TELEPON]"),
        ("email budi.santoso99@gmail.com ya", "email [EMAIL] ya"),
        ("lihat https://www.lapor.go.id/laporan/detil/123, terima", "lihat [URL], terima"),
        ("lihat www.contoh.co.id/a?b=1.", "lihat [URL]."),
        ("No BPJS 0001234567890", "No BPJS [BPJS]"),
        ("npwp 01.234.567.8-901.234", "npwp [NPWP]"),
        ("npwp 012345678901234", "npwp [NPWP]"),
        ("NPWP saya 3201234567890001", "NPWP saya [NPWP]"),
        ("motor B 1234 XYZ hilang", "motor [NOPOL] hilang"),
        ("mobil AB 123 CD", "mobil [NOPOL]"),
        ("mobil D1234ABC", "mobil [NOPOL]"),
        ("ID pelanggan PLN 512345678901", "ID pelanggan PLN [NOMOR]"),
        ("rekening BRI 0123-01-012345-50-1", "rekening BRI [NOMOR]"),
        ("rek BCA 1234567890", "rek BCA [NOMOR]"),
        ("no KPJ 12345678901", "no KPJ [NOMOR]"),
        ("nomor 12 34 56 78 90 12", "nomor [NOMOR]"),
    ],
)
def test_mask_personal_data_replaces_with_placeholders(raw, expected):
    assert mask_personal_data(raw) == expected


# How people really write personal data (all numbers and addresses made up): the words in
# front, the written form that must disappear, and the placeholder that takes its place.
ZW = "\u200b"  # zero-width space
KEYCAP = "\ufe0f\u20e3"  # "0️⃣": the digit, a variation selector, the combining keycap
PERSONAL_DATA_FORMS = [
    # NIK / KK: groups, slashes, double spaces, full-width and styled digits, invisible joins
    ("NIK", "3273/0115/0190/0001", "[NIK]"),
    ("NIK", "3273 / 0115 / 0190 / 0001", "[NIK]"),
    ("NIK", "3273  0115  0190  0001", "[NIK]"),
    ("NIK", "3273-0115 0190.0001", "[NIK]"),
    ("NIK", "327301/150190/0001", "[NIK]"),
    ("NIK", "32/7301/150190/0001", "[NIK]"),
    ("NIK", "32 73 01 150190 0001", "[NIK]"),
    ("NIK", "3273–0115–0190–0001", "[NIK]"),  # en dashes
    ("NIK", "３２７３０１１５０１９００００１", "[NIK]"),
    ("NIK", "３２７３\u3000０１１５\u3000０１９０\u3000０００１", "[NIK]"),
    ("NIK", "𝟑𝟐𝟕𝟑𝟎𝟏𝟏𝟓𝟎𝟏𝟗𝟎𝟎𝟎𝟎𝟏", "[NIK]"),
    ("NIK", "٣٢٧٣٠١١٥٠١٩٠٠٠٠١", "[NIK]"),  # Arabic-Indic digits
    ("NIK", f"3273{ZW}0115{ZW}0190{ZW}0001", "[NIK]"),
    ("NIK", ZW.join("3273011501900001"), "[NIK]"),
    ("NIK", "3273\u20600115\u20600190\u20600001", "[NIK]"),  # word joiner
    ("NIK", "3273\u00ad0115\u00ad0190\u00ad0001", "[NIK]"),  # soft hyphen
    ("NIK", "3273\ufeff011501900001", "[NIK]"),  # byte order mark
    ("NIK", "3273\u00a00115\u00a00190\u00a00001", "[NIK]"),  # no-break space
    ("No KK", "3273/0101/0900/0042", "[NIK]"),
    # mobile numbers: brackets, slashes, spaced dashes, +62 (0), full width, invisible joins
    ("hp", "(0812) 3456-7890", "[TELEPON]"),
    ("hp", "(0812) 3456 7890", "[TELEPON]"),
    ("hp", "(081234567890)", "[TELEPON]"),
    ("hp", "+62 (812) 3456 7890", "[TELEPON]"),
    ("hp", "+62 (0)812-3456-7890", "[TELEPON]"),
    ("hp", "(+62) 812 3456 7890", "[TELEPON]"),
    ("hp", "+62 0812 3456 7890", "[TELEPON]"),
    ("hp", "62(812)34567890", "[TELEPON]"),
    ("hp", "0812/3456/7890", "[TELEPON]"),
    ("hp", "0812 / 3456 / 7890", "[TELEPON]"),
    ("hp", "0812  3456  7890", "[TELEPON]"),
    ("hp", "0812 - 3456 - 7890", "[TELEPON]"),
    ("hp", "0812—3456—7890", "[TELEPON]"),  # em dashes
    ("wa", "+62 812/3456/7890", "[TELEPON]"),
    ("hp", "０８１２－３４５６－７８９０", "[TELEPON]"),
    ("hp", f"0812{ZW}3456{ZW}7890", "[TELEPON]"),
    ("hp", "".join(digit + KEYCAP for digit in "081234567890"), "[TELEPON]"),
    # landlines
    ("telp", "(021) 123 4567", "[TELEPON]"),
    ("telp", "021/1234567", "[TELEPON]"),
    ("telp", "0274 - 123456", "[TELEPON]"),
    # e-mail written to dodge scrapers, or with look-alike letters
    ("email", "nama (at) gmail.com", "[EMAIL]"),
    ("email", "nama(at)gmail(dot)com", "[EMAIL]"),
    ("email", "nama [at] gmail [dot] com", "[EMAIL]"),
    ("email", "nama{at}yahoo{dot}co{dot}id", "[EMAIL]"),
    ("email", "nama (AT) gmail (DOT) com", "[EMAIL]"),
    ("email", "nama (at) gmail (titik) com", "[EMAIL]"),
    ("email", "nama @ gmail.com", "[EMAIL]"),
    ("email", "nama@ gmail.com", "[EMAIL]"),
    ("email", "nama at gmail dot com", "[EMAIL]"),
    ("email", "nama AT gmail DOT com", "[EMAIL]"),
    ("email", "budi[dot]santoso[at]gmail[dot]com", "[EMAIL]"),
    ("email", "budi@gmаil.com", "[EMAIL]"),  # a Cyrillic "а"
    ("email", "budi@ɡmail.com", "[EMAIL]"),  # a Latin script "ɡ"
    ("email", "ｎａｍａ＠ｇｍａｉｌ．ｃｏｍ", "[EMAIL]"),
    ("email", "nama＠gmail.com", "[EMAIL]"),
    ("email", "𝐧𝐚𝐦𝐚@𝐠𝐦𝐚𝐢𝐥.𝐜𝐨𝐦", "[EMAIL]"),
    ("email", f"budi.santoso@gmail{ZW}.com", "[EMAIL]"),
    # bank accounts of 5-8 digits, told from other numbers by the word in front
    ("rek BCA", "1234567", "[NOMOR]"),
    ("rek. BRI", "12345678", "[NOMOR]"),
    ("no. rek", "123-4567", "[NOMOR]"),
    ("no rek:", "98765", "[NOMOR]"),
    ("norek", "87654321", "[NOMOR]"),
    ("no.rek", "55667788", "[NOMOR]"),
    ("REK", "123456", "[NOMOR]"),
    ("rekening a.n. Budi Santoso", "7654321", "[NOMOR]"),
    ("Rekening Mandiri", "1234 5678", "[NOMOR]"),
    ("rekening", "０１２３４５６", "[NOMOR]"),
]


def test_the_corpus_of_written_forms_is_large_and_holds_no_duplicates():
    forms = [form for _, form, _ in PERSONAL_DATA_FORMS]
    assert len(forms) >= 50
    assert len(set(forms)) == len(forms)


@pytest.mark.parametrize(("before", "form", "placeholder"), PERSONAL_DATA_FORMS)
def test_mask_personal_data_masks_every_written_form(before, form, placeholder):
    raw = f"{before} {form}, mohon dibantu."
    assert mask_personal_data(raw) == f"{before} {placeholder}, mohon dibantu."
    [(_, start, end)] = find_personal_data(raw)
    assert raw[start:end] == form  # positions in the text as written, not in its folded form


def test_spans_are_positions_in_the_text_as_written():
    # characters that fold to two (⑫ -> "12", ½ -> "1⁄2"), to nothing (zero-width) or to one
    raw = "½ NIK ⑫73011501900001 ﬁle hp ０８１２\u200b３４５６\u200b７８９０. ok"
    spans = find_personal_data(raw)
    assert [(kind, raw[start:end]) for kind, start, end in spans] == [
        ("nik", "⑫73011501900001"),
        ("phone", "０８１２\u200b３４５６\u200b７８９０"),
    ]
    assert mask_personal_data(raw) == "½ NIK [NIK] ﬁle hp [TELEPON]. ok"


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}


_PIECES = [
    *("NIK ", "3201234567890001", "3201 2345 6789 0001", "hp ", "081234567890", "(021) 1234567"),
    *("+62 812-3456-7890", "budi@mail.com", "nama (at) gmail.com", "rek ", "1234567", "Rp "),
    *("B 1234 XYZ", "01.234.567.8-901.234", "0001234567890", "2019", "12", "/", "-", ".", "("),
    *(")", " ", ", ", "\n", "x", "atau "),
]


@given(
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
    st.lists(st.sampled_from(["plain", "full width", "zero-width after"]), max_size=80),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_masking_sees_through_full_width_and_invisible_characters(text, disguises):
    disguised = "".join(
        _FULL_WIDTH.get(char, char) if how == "full width" else char + "\u200b" * (how != "plain")
        for char, how in zip(text, [*disguises, *["plain"] * len(text)], strict=False)
    )
    masked = mask_personal_data(disguised)
    assert unicodedata.normalize("NFKC", masked).replace("\u200b", "") == mask_personal_data(text)


@pytest.mark.parametrize(
    "raw",
    [
        "sejak tahun 2019",
        "pada tanggal 12-05-2019 dan 13/05/2019",
        "tanggal 12 05 2019",
        "dari 2018 2019 2020",
        "tagihan Rp 1.500.000 naik",
        "tagihan Rp 1.500.000.000 naik",
        "tagihan Rp1500000000 naik",
        "bayar 500 ribu",
        "RT 03 RW 05 kelurahan",
        "RT 003/RW 005",
        "RT 3 RW 5",
        "sesuai UU 13 TH 2003",
        "jam 08.00-16.00 2019",
        "sudah 3 kali, 45 hari",
        "stand meter 12345678",
        "petugas P2TL dan SP2HP",
        "lulusan D3 PLN",
        "plat b 1234 xyz kecil",
        # money, dates, addresses and laws written with the separators personal data uses
        "tagihan Rp 50.000 per bulan",
        "Rp 150.000/bulan, Rp 1.250.000,00",
        "harga 50.000 - 100.000 - 150.000",
        "RT 03/RW 05 kelurahan",
        "RT 003 / RW 005",
        "sesuai UU 27/2022 dan UU No. 27 Tahun 2022",
        "Permendagri 108/2019, PP 24/2018, Perda No. 5 Tahun 2019",
        "Jl. Merdeka No. 45/12 Blok C2 No. 7, rumah no 12A",
        "kode pos 40115, KM 12, lantai 2/3, ruang 101",
        "tanggal 27/10/2022, tgl 1/2/2023, pukul 10.30 WIB",
        "tahun 2019/2020 dan 2020 - 2021",
        "3 x 24 jam, 2x sehari",
        "rekening listrik Rp 250.000 naik",
        "rekening air naik Rp250000",
        "tagihan rekening bulan 12 2023",
        "rekening listrik 150000 rupiah",
        "rekaman CCTV 123456 hilang",
        "10 sak @ 50.000 dan harga @ Rp 5.000",
        "kirim (at) kantor desa",
        "sudah lapor at kantor",
        "atau ke atas (0,5 persen)",
        "(021) dan (0274)",
    ],
)
def test_mask_personal_data_keeps_ordinary_numbers(raw):
    assert mask_personal_data(raw) == raw
    assert find_personal_data(raw) == []


def test_mask_personal_data_keeps_surrounding_text_exactly():
    raw = "Yth  Bapak,\nNIK\t3201234567890001 (hp 081234567890)!"
    assert mask_personal_data(raw) == "Yth  Bapak,\nNIK\t[NIK] (hp [TELEPON])!"


def test_find_personal_data_returns_sorted_non_overlapping_spans():
    raw = "NIK 3201234567890001 hp 081234567890 npwp 01.234.567.8-901.234 budi@mail.com"
    spans = find_personal_data(raw)
    assert [kind for kind, _, _ in spans] == ["nik", "phone", "npwp", "email"]
    assert [raw[start:end] for _, start, end in spans] == [
        "3201234567890001",
        "081234567890",
        "01.234.567.8-901.234",
        "budi@mail.com",
    ]
    ends = [end for _, _, end in spans]
    starts = [start for _, start, _ in spans]
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))


def test_find_personal_data_answers_are_not_shared_between_calls():
    # long texts are answered from a cache: a caller changing its list must not change ours
    raw = "mohon bantuan, NIK saya 3201234567890001 belum terdaftar sebagai penerima bansos"
    first = find_personal_data(raw)
    first.clear()
    again = find_personal_data(raw)
    assert [raw[start:end] for _, start, end in again] == ["3201234567890001"]
    assert mask_personal_data(raw).count("[NIK]") == 1


def test_find_personal_data_prefers_nik_over_phone_when_adjacent():
    spans = find_personal_data("3201234567890001 081234567890")
    assert [kind for kind, _, _ in spans] == ["nik", "phone"]


@pytest.mark.parametrize(
    ("sep", "size"), [("", 0), (" ", 4), (" ", 5), ("-", 3), ("-", 4), (".", 4)]
)
def test_mask_personal_data_leaves_no_long_digit_run_for_random_numbers(sep, size):
    # Dots every 3 digits are left out on purpose: "1.500.000.000" is an amount of money.
    rng = random.Random(f"{sep}{size}")
    for _ in range(100):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(10, 20)))
        groups = [digits[i : i + size] for i in range(0, len(digits), size)] if sep else [digits]
        masked = mask_personal_data(f"mohon cek nomor {sep.join(groups)} segera")
        assert masked.startswith("mohon cek nomor [")
        assert not LONG_DIGIT_RUN.search(re.sub(r"[ .-]", "", masked))


@pytest.mark.parametrize("bad", [None, math.nan, 123, b"bytes"])
def test_text_functions_reject_non_str(bad):
    for function in (clean_html, mask_personal_data, find_personal_data):
        with pytest.raises(TypeError, match=type(bad).__name__):
            function(bad)


# --- lexicon -----------------------------------------------------------------------------------


def test_default_stop_list_holds_function_words_and_their_informal_spellings():
    stop_words = load_stopwords()
    assert load_stopwords(DEFAULT_STOPWORDS_PATH) == stop_words
    assert {"di", "dan", "saya", "yang", "the", "and"} <= stop_words
    assert {"yg", "dgn", "sy", "utk", "dr", "tdk", "gk"} <= stop_words
    # a stop word is never evidence: agency words stay out of the list
    assert not {"listrik", "bpjs", "paspor", "polisi", "air"} & stop_words


def test_load_stopwords_reads_comments_and_refuses_malformed_lines(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("# function words\nyang\n\ndi  # a preposition\n", encoding="utf-8")
    assert load_stopwords(path) == {"yang", "di"}
    path.write_text("yang\ndan lain\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"stop\.txt:2: .* must be one word"):
        load_stopwords(path)
    path.write_text("Yang\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"stop\.txt:1: .* must be lowercase"):
        load_stopwords(path)


def test_default_lexicon_holds_the_common_informal_spellings():
    lexicon = load_lexicon()
    assert load_lexicon(DEFAULT_LEXICON_PATH) == lexicon
    assert len(lexicon) >= 80
    expected = {
        "yg": "yang",
        "tdk": "tidak",
        "gak": "tidak",
        "nggak": "tidak",
        "sy": "saya",
        "gue": "saya",
        "blm": "belum",
        "udah": "sudah",
        "karna": "karena",
        "dgn": "dengan",
        "d": "di",
        "gimana": "bagaimana",
        "tlg": "tolong",
        "trs": "terus",
        "trima": "terima",
        "utk": "untuk",
        "bpk": "bapak",
        "sampe": "sampai",
        "mhn": "mohon",
        "skrg": "sekarang",
        "pdhl": "padahal",
        "dpt": "dapat",
        "msh": "masih",
    }
    assert {key: lexicon[key] for key in expected} == expected
    assert "kk" not in lexicon


def test_default_lexicon_does_not_touch_placeholders():
    lexicon = load_lexicon()
    placeholder_words = {token.strip("[]").lower() for token in MASK_TOKENS.values()}
    assert placeholder_words.isdisjoint(lexicon)


def test_load_lexicon_reads_custom_file_with_comments(tmp_path):
    path = write_lexicon(
        tmp_path / "lex.tsv",
        "# my lexicon",
        "informal\tformal",
        "",
        "# negation",
        "gpp\ttidak apa-apa",
        "bbrp\tberapa ",
    )
    assert load_lexicon(path) == {"gpp": "tidak apa-apa", "bbrp": "berapa"}
    assert load_lexicon(str(path)) == load_lexicon(path)


@pytest.mark.parametrize(
    ("lines", "line_no", "message"),
    [
        (["yg\tyang"], 1, "header"),
        (["informal\tformal", "yg yang"], 2, "2 tab-separated columns"),
        (["informal\tformal", "yg\tyang\textra"], 2, "got 3"),
        (["informal\tformal", "yg\t"], 2, "empty"),
        (["informal\tformal", "Yg\tyang"], 2, "lowercase"),
        (["informal\tformal", "tidak ada\ttiada"], 2, "one word"),
        (["informal\tformal", "yg\tyang", "# c", "yg\tyg"], 4, "line 2"),
    ],
)
def test_load_lexicon_names_file_and_line_of_a_malformed_entry(tmp_path, lines, line_no, message):
    path = write_lexicon(tmp_path / "bad.tsv", *lines)
    with pytest.raises(ValueError, match=message) as error:
        load_lexicon(path)
    assert f"bad.tsv:{line_no}:" in str(error.value)


def test_load_lexicon_rejects_empty_file(tmp_path):
    path = write_lexicon(tmp_path / "empty.tsv", "# nothing here")
    with pytest.raises(ValueError, match=r"empty\.tsv"):
        load_lexicon(path)


# --- TextNormalizer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sy blm trima bansos", "saya belum terima bansos"),
        ("listrik mati trs", "listrik mati terus"),
        ("listrik mati trsss!!!", "listrik mati terus!!!"),
        ("d rumah", "di rumah"),
        ("Sy, BLM dapat.", "saya, belum dapat."),
        ("tolooong pak, gimana ini???", "tolong pak, bagaimana ini???"),
        ("bangettt", "banget"),
        ("maaf saat ini", "maaf saat ini"),
        ("golongan III dan PPPK", "golongan iii dan pppk"),
        ("1 s/d 5", "1 s/d 5"),
        ("  banyak    spasi\n\tdan baris  ", "banyak spasi dan baris"),
        ("NIK 3201234567890001 yg", "nik [nik] yang"),
        ("motor B 1234 XYZ", "motor [nopol]"),
        ("Terima&#60;br />kasih &amp; salam", "terima kasih & salam"),
        ("", ""),
    ],
)
def test_normalize_runs_all_steps(normalizer, raw, expected):
    assert normalizer.normalize(raw) == expected


@pytest.mark.parametrize(
    ("flag", "raw", "expected_off", "expected_on"),
    [
        ("html", "a &amp; b", "a &amp; b", "a & b"),
        ("lowercase", "Budi PULANG", "Budi PULANG", "budi pulang"),
        ("collapse_repeats", "tolooong", "tolooong", "tolong"),
        ("mask", "nik 3201234567890001", "nik 3201234567890001", "nik [nik]"),
        ("lexicon", "sy blm", "sy blm", "saya belum"),
    ],
)
def test_each_step_can_be_switched_off(flag, raw, expected_off, expected_on):
    assert TextNormalizer(**{flag: False}).fit([]).normalize(raw) == expected_off
    assert TextNormalizer().fit([]).normalize(raw) == expected_on


def test_all_steps_off_leaves_text_unchanged():
    steps = dict(html=False, lowercase=False, collapse_repeats=False, mask=False, lexicon=False)
    raw = "Sy blm trima &amp; tolooong NIK 3201234567890001 B 1234 XYZ"
    assert TextNormalizer(**steps).fit([]).normalize(raw) == raw


def test_transform_returns_one_normalized_text_per_input(normalizer):
    assert normalizer.transform(("sy", "yg")) == ["saya", "yang"]
    assert normalizer.fit_transform(["tdk"]) == ["tidak"]


@pytest.mark.parametrize("bad", [None, math.nan])
def test_transform_rejects_missing_texts_naming_the_type(normalizer, bad):
    with pytest.raises(TypeError, match=rf"item 1 is {type(bad).__name__}"):
        normalizer.transform(["ok", bad])


def test_normalizer_must_be_fitted_first():
    with pytest.raises(NotFittedError):
        TextNormalizer().normalize("sy")
    with pytest.raises(NotFittedError):
        TextNormalizer().transform(["sy"])


def test_init_only_stores_parameters_so_clone_works():
    normalizer = TextNormalizer(mask=False, lexicon_path="nowhere.tsv")
    cloned = clone(normalizer)
    assert cloned.get_params() == normalizer.get_params()
    assert not hasattr(cloned, "lexicon_")


def test_fit_with_lexicon_off_needs_no_file():
    normalizer = TextNormalizer(lexicon=False, lexicon_path="does-not-exist.tsv").fit([])
    assert normalizer.lexicon_ == {}


def test_custom_lexicon_path_is_used(tmp_path):
    path = write_lexicon(tmp_path / "lex.tsv", "informal\tformal", "pln\tperusahaan listrik")
    normalizer = TextNormalizer(lexicon_path=str(path)).fit([])
    assert normalizer.normalize("sy lapor pln") == "sy lapor perusahaan listrik"


def test_fitted_normalizer_keeps_its_lexicon_after_file_changes(tmp_path):
    path = write_lexicon(tmp_path / "lex.tsv", "informal\tformal", "sy\tsaya")
    normalizer = TextNormalizer(lexicon_path=str(path)).fit([])
    joblib.dump(normalizer, tmp_path / "normalizer.joblib")

    write_lexicon(path, "informal\tformal", "sy\tsayang", "blm\tbelum")
    restored = joblib.load(tmp_path / "normalizer.joblib")

    assert normalizer.normalize("sy blm") == "saya blm"
    assert restored.normalize("sy blm") == "saya blm"
    assert TextNormalizer(lexicon_path=str(path)).fit([]).normalize("sy blm") == "sayang belum"


def test_megabyte_of_adversarial_digits_completes_and_is_masked(normalizer):
    rng = random.Random(7)
    text = "".join(rng.choices("0123456789 .", k=1_000_000))
    out = normalizer.normalize(text)
    assert out
    assert not LONG_DIGIT_RUN.search(out)


def test_megabyte_of_complaint_like_text_completes(normalizer):
    chunk = "Sy blm trima bansos&#60;br />NIK 3201234567890001 hp 0812-3456-7890 tolooong!!! "
    text = chunk * (1_000_000 // len(chunk))
    out = normalizer.normalize(text)
    assert out.startswith("saya belum terima bansos nik [nik] hp [telepon] tolong!!! ")
    assert not LONG_DIGIT_RUN.search(out)


def _pathological_texts() -> dict[str, str]:
    rng = random.Random(3)
    size = 20_000

    def repeat(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "digits and separators": "".join(rng.choices("0123456789 ./-()", k=size)),
        "spaced slashes": repeat("1 / "),
        "brackets": repeat("0 ( "),
        "(at)": repeat("(at)"),
        "words and (at)": repeat("a (at) "),
        "an address that never ends": "x@" + repeat("a (dot) "),
        "an address of digits": "x@" + repeat("1."),
        "at and dot words": repeat("a at a dot "),
        "rek": repeat("rek 1 "),
        "+62": repeat("(+62 (0 "),
        "numbers one digit short": repeat("081234567 "),
        "zero-width digits": repeat("1\u200b"),
        "full-width digits": repeat("１２ "),
        "NIK groups": repeat("3273/"),
        "@": repeat("a @ a "),
    }


@pytest.mark.parametrize("name", list(_pathological_texts()))
def test_pathological_texts_finish_and_are_masked(name):
    # every rule is linear in the text; a catastrophic backtrack would hang this test
    text = _pathological_texts()[name]
    spans = find_personal_data(text)
    assert all(0 <= start < end <= len(text) for _, start, end in spans)
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(spans))
    masked = mask_personal_data(text)
    assert not LONG_DIGIT_RUN.search(unicodedata.normalize("NFKC", masked).replace("\u200b", ""))


SHORTCUT_TRICKY_TEXTS = [
    "NPWP saya tertera di kartu",
    "mobil B XYZ dan AB CD diparkir",
    "hubungi nol delapan satu dua",
    "www.lapor.go.id dan budi@mail.com",
    "WWW.LAPOR.GO.ID, Www.Lapor.go.id, https://lapor.go.id/x",
    "Rp. sejuta, tanggal dua",
    "٣٢٠١٢٣٤٥٦٧٨٩٠٠٠١ angka Arab",
    "tanggal 12 Mei 2019 rumah no 7",
    "kantor (021) 1234567 dan 0274-123456",
    "plat B 1 CD dan D1234ABC",
    "hp 0812 3456 78 atau +62 812-3456-7890",
    "BPJS 0001234567890 dan NIK 3201 2345 6789 0001",
    "NPWP: 3201234567890001 dan 01.234.567.8-901.234",
    # one piece of personal data with the fewest digits its rule allows, alone in the text
    "telp (021) 12345 kantor",
    "hp 0812345678 ya",
    "kartu 0001234567890",
    "npwp 012345678901234",
    "nik 3201234567890001",
    "plat B 1 CD",
    "rekening 123456789",
]


def test_skipping_rules_by_digit_count_and_hints_changes_no_answer(monkeypatch, small_corpus):
    """Rules are skipped when the text holds fewer ASCII digits than a match needs, or none
    of their hints; running every rule on every text must find exactly the same spans."""
    texts = [*small_corpus.texts, *SHORTCUT_TRICKY_TEXTS]
    texts += [f"{before} {form}" for before, form, _ in PERSONAL_DATA_FORMS]
    texts += [re.sub("[0-9]", "", t) for t in texts]
    texts += [re.sub("[0-9](?=[0-9])", "", t) for t in texts]  # fewer digits, same layout
    shortcut = [text_module._scan(t) for t in texts]
    every_rule = tuple(rule._replace(min_digits=0, hints=()) for rule in text_module._RULES)
    monkeypatch.setattr(text_module, "_RULES_BY_DIGITS", (every_rule,))
    assert [text_module._scan(t) for t in texts] == shortcut
    assert sum(map(bool, shortcut)) > 10, "the texts hold personal data to find"


@given(st.text(alphabet="0123456789 .-()+\nNPWPnpwBDXYZ:/@abctT[]{}<>rek", max_size=60))
@hypothesis_settings(max_examples=500, deadline=None)
def test_every_match_holds_its_rule_s_digits_and_a_hint(text):
    for rule in text_module._RULES:
        for match in rule.pattern.finditer(text):
            held = match.group()
            assert sum(c.isascii() and c.isdigit() for c in held) >= rule.min_digits, rule.kind
            assert not rule.hints or any(hint in held.lower() for hint in rule.hints), rule.kind


def test_every_match_in_the_corpus_holds_its_rule_s_digits_and_a_hint(small_corpus):
    for text in [*small_corpus.texts, *SHORTCUT_TRICKY_TEXTS]:
        for rule in text_module._RULES:
            for match in rule.pattern.finditer(text):
                held = match.group()
                assert sum(c in "0123456789" for c in held) >= rule.min_digits, rule.kind
                assert not rule.hints or any(hint in held.lower() for hint in rule.hints), rule.kind


@example("aaa")
@example("tolooong...   xxxiii")
@example("éé\u0301é")
@given(st.text(alphabet="axiwIXé\u0301 .0_\n", max_size=40))
def test_the_no_triple_shortcut_collapses_repeats_like_the_full_rule(text):
    assert text_module._collapse_repeats(text) == text_module._REPEATS.sub(
        text_module._collapse_run, text
    )


# --- near duplicates ---------------------------------------------------------------------------

CAMPAIGN = (
    "Yth PLN, token listrik id pelanggan {customer} tidak masuk padahal sdh bayar Rp {amount} "
    "tgl {date}. NIK {nik}, hp {phone}. Mohon dibantu."
)
CAMPAIGN_NUMBERS = [
    # a 12-digit customer id is masked as [NOMOR], an 8-digit one is not: both are numbers
    ("532110987654", "150.000", "03-05-2021", "3201123456789012", "081234567890"),
    ("12345678", "1.500.000", "2021-12-31", "3174 0912 3456 0001", "+62 821 9876 5432"),
    ("987654321098", "20.000", "1/2/2022", "3578123412341234", "0857-1111-2222"),
]


def campaign(*numbers: str) -> str:
    customer, amount, date, nik, phone = numbers
    return CAMPAIGN.format(customer=customer, amount=amount, date=date, nik=nik, phone=phone)


def test_complaints_identical_but_for_their_numbers_form_one_group():
    texts = [campaign(*numbers) for numbers in CAMPAIGN_NUMBERS]
    texts.append("&lt;b&gt;YTH PLN&lt;/b&gt;, token listrik ID pelanggan 4455 tidak masuk!!")
    texts.append("Yth PLN token listrik id pelanggan 99 tidak masuk")
    texts.append("Jalan di RT 03 RW 05 rusak parah sejak 2019")
    texts.append("Jalan di RT 07 RW 01 rusak parah sejak 2021.")

    groups = near_duplicate_groups(texts)

    assert groups.tolist() == [0, 0, 0, 1, 1, 2, 2]


def test_complaints_that_differ_in_a_word_are_different_groups():
    texts = [
        campaign(*CAMPAIGN_NUMBERS[0]),
        campaign(*CAMPAIGN_NUMBERS[1]).replace("tidak masuk", "sudah masuk"),
        "listrik padam di rumah saya",
        "air padam di rumah saya",
        "listrik padam di rumah saya sejak pagi",
        "lihat https://lapor.go.id/123",
        "lihat budi@example.com",
    ]

    groups = near_duplicate_groups(texts)

    assert groups.tolist() == list(range(len(texts)))


def test_near_duplicate_groups_of_no_texts_is_empty_and_refuses_non_text():
    assert near_duplicate_groups([]).tolist() == []
    with pytest.raises(TypeError):
        near_duplicate_groups(["listrik padam", None])
