"""The console in Chromium against the real service: what an admin does, view by view.

Each test starts from a fresh browser profile (no key, no language chosen). The service and
its database are shared, so statistics are compared before and after, and stored decisions
are looked up by their prediction id.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from .helpers import ADMIN_KEY, INTEGRATION_KEY, Service

pytest.importorskip("playwright.sync_api", reason="playwright not installed")
from playwright.sync_api import Page, expect

PLN_TEXT = (
    "listrik di rumah padam terus sejak kemarin, token PLN sudah diisi tapi meteran tetap mati"
)
TITLES = {"disposisi": "Disposisi", "antrean": "Antrean", "statistik": "Statistik"}
N_QUEUE = 50
# About agencies the test model never saw, so it is unsure: these rows need review.
UNSURE_TEXTS = [
    "sampah menumpuk di pasar dan bau sekali",
    "bansos PKH belum cair sejak januari",
    "pinjol ilegal menagih dengan ancaman",
]
# A role of a control (links, fields, buttons) followed by no quoted name: an unlabelled control.
UNNAMED_CONTROL = re.compile(
    r"^\s*- (?:button|link|textbox|searchbox|combobox|checkbox|radio|spinbutton|slider|switch)"
    r'(?! ")(?:\s*\[[^\]]*\])?(?::.*)?$',
    re.MULTILINE,
)


def sign_in(page: Page, service: Service, view: str = "disposisi", key: str = ADMIN_KEY) -> None:
    page.goto(f"{service.console}#{view}")
    page.get_by_label("Kunci API admin").fill(key)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", level=1, name=TITLES[view])).to_be_visible()


def suggest(page: Page, text: str = PLN_TEXT) -> dict:
    """Ask for suggestions in the Disposisi view; the service's answer."""
    page.get_by_label("Teks pengaduan").fill(text)
    with page.expect_response("**/v1/predict") as answer:
        page.get_by_role("button", name="Sarankan instansi").click()
    expect(page.get_by_role("heading", name="Saran instansi")).to_be_visible()
    return answer.value.json()


def test_unknown_and_non_admin_keys_get_a_clear_message(page, service, screenshots):
    page.goto(f"{service.console}#disposisi")
    key = page.get_by_label("Kunci API admin")
    key.fill("not-a-key")
    page.get_by_role("button", name="Masuk").click()
    alert = page.get_by_role("alert").filter(has_text="401")
    expect(alert).to_contain_text("Kunci API tidak dikenal")
    page.screenshot(path=screenshots / "masuk-kunci-salah.png")

    key.fill(INTEGRATION_KEY)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("alert").filter(has_text="403")).to_contain_text("bukan kunci admin")
    expect(page.get_by_role("navigation")).to_be_hidden()

    key.fill(ADMIN_KEY)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", level=1, name="Disposisi")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('routing.console.key')") == ADMIN_KEY
    assert page.evaluate("localStorage.length") == 0  # the key outlives no browser session

    page.reload()  # asked once per browser session
    expect(page.get_by_role("heading", level=1, name="Disposisi")).to_be_visible()
    expect(page.get_by_label("Kunci API admin")).to_be_hidden()


def test_a_key_the_service_stops_accepting_brings_back_the_sign_in(page, service):
    sign_in(page, service)
    page.evaluate("sessionStorage.setItem('routing.console.key', 'revoked-key')")
    page.get_by_label("Teks pengaduan").fill(PLN_TEXT)
    page.get_by_role("button", name="Sarankan instansi").click()
    expect(page.get_by_role("alert").first).to_contain_text("tidak lagi diterima")
    expect(page.get_by_label("Kunci API admin")).to_be_visible()


def _queue_csv(texts: list[str]) -> bytes:
    """A queue file whose longest column is not the complaint, so the picker must be used."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nomor", "uraian", "keterangan"])
    for i, text in enumerate(texts, start=1):
        writer.writerow([f"Q-{i:03d}", text, "catatan operator, tidak untuk model. " * 8])
    return out.getvalue().encode("utf-8")


def test_queue_scores_a_file_filters_decides_and_exports(
    page, service, heldout_corpus, screenshots
):
    texts = list(heldout_corpus.texts[: N_QUEUE - len(UNSURE_TEXTS)]) + UNSURE_TEXTS
    texts[0] = f'{texts[0]}\nBaris kedua, dengan "kutipan"; dan koma.'
    texts[1] = f"=HYPERLINK(1) {texts[1]}"
    assert len(texts) == N_QUEUE
    sign_in(page, service, "antrean")

    upload = {"name": "masuk.csv", "mimeType": "text/csv", "buffer": _queue_csv(texts)}
    page.get_by_label("Pilih berkas CSV atau JSONL").set_input_files(upload)
    expect(page.locator(".file-summary")).to_contain_text("50 baris · 3 kolom")
    page.get_by_label("Kolom teks pengaduan").select_option("uraian")
    page.get_by_label("Kolom ID (opsional)").select_option("nomor")
    page.get_by_role("button", name="Nilai semua pengaduan").click()
    expect(page.get_by_text("Dinilai 50 dari 50 pengaduan")).to_be_visible()

    rows = page.locator("tbody tr[data-row]")
    expect(rows).to_have_count(N_QUEUE)
    expect(rows.locator(".suggested-agency")).to_have_count(N_QUEUE)
    assert all(a.strip() for a in rows.locator(".suggested-agency").all_inner_texts())
    expect(rows.first.locator("td").nth(1)).to_have_text("Q-001")
    n_review = rows.locator(".badge-review").count()
    assert 0 < n_review < N_QUEUE, "the file should hold both decisions"

    page.get_by_label("Tampilkan").select_option("review")
    expect(rows).to_have_count(n_review)
    expect(rows.locator(".badge-review")).to_have_count(n_review)
    page.get_by_label("Tampilkan").select_option("all")
    expect(rows).to_have_count(N_QUEUE)

    first_top = rows.nth(0).locator(".suggested-agency").inner_text()
    page.get_by_role("button", name=f"Setujui baris 1: {first_top}").click()
    expect(page.get_by_role("status").filter(has_text="Baris 1 tersimpan")).to_be_visible()
    second_top = rows.nth(1).locator(".suggested-agency").inner_text()
    other = next(a for a in service.agencies() if a != second_top)
    page.get_by_role("button", name="Koreksi baris 2", exact=True).click()
    editor = page.get_by_role("combobox", name="Instansi untuk baris 2")
    expect(editor).to_be_focused()
    editor.fill(other)
    editor.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Baris 2 tersimpan")).to_contain_text(other)
    expect(rows.nth(1).locator(".final-agency")).to_have_text(other)
    page.screenshot(
        path=screenshots / "antrean.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 1500},
    )

    with page.expect_download() as download:
        page.get_by_role("button", name="Ekspor CSV").click()
    assert download.value.suggested_filename == "masuk-disposisi.csv"
    exported = list(
        csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig")))
    )
    assert len(exported) == N_QUEUE
    assert [r["nomor"] for r in exported] == [f"Q-{i:03d}" for i in range(1, N_QUEUE + 1)]
    assert exported[0]["uraian"] == texts[0]  # quotes, semicolon, comma and newline survive
    assert exported[1]["uraian"] == f"'{texts[1]}"  # a spreadsheet must not run it as a formula
    assert (exported[0]["final_agency"], exported[0]["final_status"]) == (first_top, "accepted")
    assert (exported[1]["final_agency"], exported[1]["final_status"]) == (other, "corrected")
    assert all(r["suggested_agency"] and r["prediction_id"] for r in exported)
    assert sum(r["decision"] == "review" for r in exported) == n_review
    for r in exported[2:]:
        expected = r["suggested_agency"] if r["decision"] == "auto" else ""
        assert r["final_agency"] == expected


def test_suggest_accept_and_the_statistics_count_it(page, service, screenshots):
    sign_in(page, service)
    before = service.stats()
    answer = suggest(page)
    top = answer["suggestions"][0]

    result = page.locator(".result")
    badge = {"auto": "Otomatis", "review": "Perlu ditinjau"}[answer["decision"]]
    expect(result.locator(".result-head .badge")).to_have_text(badge)
    # every reason for review is listed, by its code, in words
    reasons = result.locator(".reason-list li")
    expect(reasons).to_have_count(len(answer["reasons"]))
    for i, reason in enumerate(answer["reasons"]):
        expect(reasons.nth(i)).to_have_attribute("data-code", reason["code"])
        expect(reasons.nth(i)).not_to_be_empty()
    cards = result.locator(".suggestion-card")
    expect(cards).to_have_count(len(answer["suggestions"]))
    expect(cards.first.locator(".agency-name")).to_contain_text(top["agency"])
    expect(cards.first.locator(".confidence-value")).to_have_text(re.compile(r"^>?\d+(,\d)?\s?%$"))
    marks = {m.lower() for m in result.locator(".complaint-text mark").all_inner_texts()}
    assert marks and marks <= {w.lower() for w in top["explanation"]}
    expect(result.locator(".complaint-text")).to_have_text(PLN_TEXT)
    # the console asks for similar past complaints (the API sends them only when asked)
    assert len(answer["similar"]) == 3
    similar = page.get_by_role("region", name="Pengaduan serupa sebelumnya")
    expect(similar.locator(".snippet")).to_have_count(3)

    second = answer["suggestions"][1]
    cards.nth(1).get_by_role("button", name=re.compile("Sorot kata")).click()
    expect(result.locator(".complaint-panel strong")).to_have_text(second["agency"])
    marks = {m.lower() for m in result.locator(".complaint-text mark").all_inner_texts()}
    assert marks <= {w.lower() for w in second["explanation"]}
    cards.first.get_by_role("button", name=re.compile("Sorot kata")).click()
    expect(result.locator(".complaint-panel strong")).to_have_text(top["agency"])

    page.get_by_role("button", name=f"Setujui: {top['agency']}").click()
    confirmation = page.get_by_role("status").filter(has_text="Tersimpan")
    expect(confirmation).to_contain_text(top["agency"])
    expect(confirmation).to_contain_text("Saran teratas diterima")
    page.screenshot(path=screenshots / "disposisi.png", full_page=True)

    after = service.stats()
    agency = top["agency"]
    accepted_before = before["by_agency"].get(agency, {}).get("accepted", 0)
    assert after["by_agency"][agency]["accepted"] == accepted_before + 1
    assert after["accepted"] == before["accepted"] + 1

    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1, name="Statistik")).to_be_visible()
    table = page.get_by_role("table", name="Tingkat penerimaan per instansi")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=agency))
    counts = after["by_agency"][agency]
    expect(row.get_by_role("cell")).to_have_text(
        [
            str(counts["predictions"]),
            str(counts["decisions"]),
            str(counts["accepted"]),
            re.compile(r"\d+(,\d)?\s?%"),
        ]
    )
    expect(page.locator(".tile").filter(has_text="Diterima").locator(".tile-value")).to_have_text(
        str(after["accepted"])
    )
    expect(page.get_by_role("img", name="Tingkat penerimaan per instansi")).to_be_visible()
    page.screenshot(path=screenshots / "statistik.png", full_page=True)


def test_another_agency_is_stored_as_chosen_and_a_new_one_needs_confirming(page, service):
    sign_in(page, service)
    answer = suggest(page)
    top = answer["suggestions"][0]["agency"]
    other = next(a for a in service.agencies() if a != top)

    field = page.get_by_role("combobox", name="Atau pilih instansi lain")
    field.fill(other.lower())  # any capitalisation finds the agency as the model spells it
    page.get_by_role("button", name="Simpan").click()
    confirmation = page.get_by_role("status").filter(has_text="Tersimpan")
    expect(confirmation).to_contain_text(other)
    expect(confirmation).to_contain_text("Saran dikoreksi")
    stored = service.latest_feedback(answer["prediction_id"])
    assert (stored.agency, stored.accepted, stored.new_agency) == (other, False, False)

    field.fill("DINAS CONTOH BARU")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator(".picker .field-error")).to_contain_text("belum dikenal")
    assert service.latest_feedback(answer["prediction_id"]).agency == other

    page.get_by_label("Catat sebagai instansi baru").check()
    page.get_by_role("button", name="Simpan").click()
    expect(confirmation).to_contain_text("DINAS CONTOH BARU (instansi baru)")
    stored = service.latest_feedback(answer["prediction_id"])
    assert (stored.agency, stored.new_agency) == ("DINAS CONTOH BARU", True)


def test_complaint_text_and_similar_complaints_are_shown_as_text_never_as_markup(page, service):
    """Untrusted text (the complaint, snippets of past ones) must never run or render as HTML."""
    attack = '<img src=x onerror="window.__xss=1"> listrik padam <b>tebal</b>'

    def add_similar(route):
        response = route.fetch()
        body = response.json()
        body["similar"] = [
            {"id": "S-9", "agency": "PT PLN (PERSERO)", "similarity": 0.82, "snippet": attack},
        ]
        route.fulfill(response=response, json=body)

    page.route("**/v1/predict", add_similar)
    sign_in(page, service)
    suggest(page, attack)
    similar = page.get_by_role("region", name="Pengaduan serupa sebelumnya")
    expect(similar.locator(".snippet")).to_have_text(attack)
    expect(similar).to_contain_text("Kemiripan 82%")
    expect(similar.locator(".agency-tag")).to_have_text("PT PLN (PERSERO)")
    expect(page.locator(".complaint-text")).to_have_text(attack)
    assert page.locator("main img, main b").count() == 0
    assert page.evaluate("window.__xss") is None


def test_the_jurisdiction_and_its_reasons_are_shown_and_the_admin_corrects_it(page, service):
    """The served sample model has no catalogue: the answer is given a place here, as a
    catalogue model answers it."""
    sent: list[dict] = []

    def with_a_place(route):
        sent.append(route.request.post_data_json)
        response = route.fetch()
        body = response.json()
        body["jurisdiction"] = {
            "code": "34.04",
            "name": "KABUPATEN SLEMAN",
            "level": "kabkota",
            "source": "location",
            "evidence": "Sleman",
        }
        body["decision"] = "review"
        body["reasons"] = [
            {"code": "no_jurisdiction", "role": "PDAM", "candidates": ["PEMKAB-34.04", "PDAM-BDG"]},
            {"code": "location_conflict", "location": "34.04", "text": "32.73"},
        ]
        route.fulfill(response=response, json=body)

    page.route("**/v1/predict", with_a_place)
    sign_in(page, service)
    page.get_by_label("Lokasi (opsional)").fill("Sleman")
    answer = suggest(page)
    assert sent[-1]["location"] == "Sleman"
    place = page.locator(".result .jurisdiction")
    expect(place).to_contain_text("KABUPATEN SLEMAN (kabupaten/kota, 34.04)")
    expect(place).to_contain_text("dari lokasi: “Sleman”")
    reasons = page.locator(".reason-list li")
    expect(reasons.nth(0)).to_have_attribute("data-code", "no_jurisdiction")
    expect(reasons.nth(0)).to_contain_text("PDAM")
    expect(reasons.nth(0)).to_contain_text("PEMKAB-34.04, PDAM-BDG")
    expect(reasons.nth(1)).to_have_attribute("data-code", "location_conflict")
    expect(reasons.nth(1)).to_contain_text("Lokasi yang diberikan (34.04) bertentangan")

    page.get_by_label("Wilayah yang benar (opsional)").fill("3273")
    top = answer["suggestions"][0]["agency"]
    page.get_by_role("button", name=f"Setujui: {top}").click()
    expect(page.get_by_role("status").filter(has_text="Tersimpan")).to_be_visible()
    stored = service.latest_feedback(answer["prediction_id"])
    assert (stored.agency, stored.jurisdiction) == (top, "32.73")

    page.get_by_role("button", name="English", exact=True).click()
    expect(place).to_contain_text("KABUPATEN SLEMAN (regency/city, 34.04)")
    expect(reasons.nth(1)).to_contain_text("The location given (34.04) contradicts")


def test_a_prediction_without_a_place_says_so(page, service):
    sign_in(page, service)
    answer = suggest(page)
    assert answer["jurisdiction"] is None  # the sample model has no catalogue
    expect(page.locator(".result .jurisdiction")).to_contain_text("tidak ditemukan")


def test_language_switch_translates_the_page_and_is_remembered(page, service, screenshots):
    page.goto(service.console)
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_label("Admin API key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Views")
    expect(nav.get_by_role("link")).to_have_text(["Disposition", "Queue", "Statistics"])

    page.reload()
    expect(page.get_by_role("heading", level=1, name="Disposition")).to_be_visible()
    page.get_by_label("Complaint text").fill(PLN_TEXT)
    page.get_by_role("button", name="Suggest agencies").click()
    expect(page.get_by_role("heading", name="Suggested agencies")).to_be_visible()
    expect(page.locator(".result-head .badge")).to_have_text(
        re.compile("^(Automatic|Needs review)$")
    )
    page.screenshot(path=screenshots / "english.png", full_page=True)

    page.get_by_role("button", name="Indonesia", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Disposisi")).to_be_visible()
    expect(page.get_by_role("heading", name="Saran instansi")).to_be_visible()  # result kept
    assert page.evaluate("document.documentElement.lang") == "id"


def _assert_labelled_and_reachable(page: Page, where: str) -> None:
    """Every control has a name and is reached by Tab, from the top of the page."""
    snapshot = page.locator("body").aria_snapshot()
    assert not UNNAMED_CONTROL.findall(snapshot), f"{where}: unlabelled controls\n{snapshot}"
    total = page.evaluate(
        """() => {
            document.querySelectorAll("[data-kb]").forEach((e) => delete e.dataset.kb);
            const all = document.querySelectorAll(
                'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])');
            const usable = [...all].filter((e) => !e.disabled && e.getClientRects().length > 0);
            usable.forEach((e, i) => (e.dataset.kb = String(i)));
            document.activeElement?.blur();
            return usable.length;
        }"""
    )
    reached: set[str] = set()
    for _ in range(total * 3 + 10):  # a date field takes one Tab per part
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement?.dataset?.kb ?? ''"))
        if len(reached - {""}) == total:
            break
    missing = page.evaluate(
        """(reached) => [...document.querySelectorAll('[data-kb]')]
            .filter((e) => !reached.includes(e.dataset.kb))
            .map((e) => e.outerHTML.slice(0, 120))""",
        sorted(reached),
    )
    assert not missing, f"{where}: not reachable by keyboard: {missing}"


def test_every_control_is_labelled_and_reachable_by_keyboard(page, service):
    page.goto(service.console)
    _assert_labelled_and_reachable(page, "sign-in")
    sign_in(page, service)
    page.get_by_label("Teks pengaduan").fill(PLN_TEXT)
    page.get_by_label("Teks pengaduan").press("Control+Enter")  # no mouse needed to ask
    expect(page.get_by_role("heading", name="Saran instansi")).to_be_focused()
    _assert_labelled_and_reachable(page, "Disposisi")

    page.get_by_role("link", name="Antrean").click()
    upload = {"name": "tiga.csv", "mimeType": "text/csv", "buffer": _queue_csv(UNSURE_TEXTS)}
    page.get_by_label("Pilih berkas CSV atau JSONL").set_input_files(upload)
    page.get_by_label("Kolom teks pengaduan").select_option("uraian")
    page.get_by_role("button", name="Nilai semua pengaduan").click()
    expect(page.locator("tbody tr[data-row]")).to_have_count(len(UNSURE_TEXTS))
    correct = page.get_by_role("button", name="Koreksi baris 1", exact=True)
    correct.click()
    editor = page.get_by_role("combobox", name="Instansi untuk baris 1")
    expect(editor).to_be_focused()
    editor.press("Escape")  # closes the editor and gives focus back
    expect(editor).to_be_hidden()
    expect(correct).to_be_focused()
    correct.press("Enter")
    expect(editor).to_be_focused()
    _assert_labelled_and_reachable(page, "Antrean")

    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("table").first).to_be_visible()
    _assert_labelled_and_reachable(page, "Statistik")
