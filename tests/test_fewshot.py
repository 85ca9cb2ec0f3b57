import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from routing.bundle import Bundle, load_bundle
from routing.cli import app
from routing.fewshot import (
    NearestAgencyClassifier,
    agency_similarity,
    blend,
    blend_router,
    few_shot_agencies,
    rank_with_few_shot,
    similarity_proba,
)
from routing.policy import decide
from routing.router import Router, top_k_from_proba
from routing.similar import SimilarIndex
from routing.suggest import suggest
from tests.conftest import Corpus, write_csv
from training.pipeline import train
from training.sample_corpus import AGENCIES

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "sample" / "complaints.csv"

# A new agency with four past complaints, among the 14 agencies of the sample corpus.
RARE = "BADAN PENGAWAS OBAT DAN MAKANAN"
RARE_TRAIN = [
    "Saya membeli roti di minimarket ternyata sudah kedaluwarsa dan berjamur, mohon ditindak.",
    "Ada kosmetik pemutih tanpa izin edar BPOM dijual bebas di toko online, mengandung merkuri.",
    "Obat batuk yang dijual di warung dekat rumah tidak punya nomor registrasi BPOM.",
    "Jajanan anak sekolah mengandung pewarna tekstil dan boraks, tolong diawasi.",
]
RARE_HELDOUT = [
    "Susu kemasan di supermarket sudah lewat tanggal kedaluwarsa tetapi masih dipajang.",
    "Krim wajah yang saya beli online membuat kulit iritasi, ternyata tidak terdaftar di BPOM.",
    "Penjual jamu mencampur bahan kimia obat ke dalam jamu tradisional.",
    "Bakso di pasar diduga mengandung boraks dan formalin.",
    "Suplemen herbal dijual tanpa izin edar dan mengaku bisa menyembuhkan semua penyakit.",
]
PER_AGENCY = 12


def _sample_by_agency() -> dict[str, list[str]]:
    """The complaints of each of the sample corpus's AGENCIES (its governments have too few)."""
    by_agency: dict[str, list[str]] = {agency: [] for agency in AGENCIES}
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["agency"] in by_agency:
                by_agency[row["agency"]].append(row["text"])
    return by_agency


# Two unseen complaints of every other agency.
OTHERS_HELDOUT = [
    t for rows in _sample_by_agency().values() for t in rows[PER_AGENCY : PER_AGENCY + 2]
]


@pytest.fixture(scope="module")
def fewshot_data() -> tuple[list[str], list[str]]:
    """12 complaints of each sample-corpus agency plus the 4 of RARE."""
    by_agency = _sample_by_agency()
    texts, labels = [], []
    for agency, rows in sorted(by_agency.items()):
        texts += rows[:PER_AGENCY]
        labels += [agency] * PER_AGENCY
    return [*texts, *RARE_TRAIN], [*labels, *[RARE] * len(RARE_TRAIN)]


def in_top3(proba: np.ndarray, classes, agency: str) -> np.ndarray:
    col = list(classes).index(agency)
    return (np.argsort(-proba, axis=1)[:, :3] == col).any(axis=1)


def test_agency_similarity_takes_the_best_or_mean_of_top_m():
    S = np.array([[0.9, 0.5, 0.2, 0.7]])
    items = ["A", "A", "B", "A"]
    np.testing.assert_allclose(agency_similarity(S, items, ["A", "B", "C"]), [[0.9, 0.2, 0.0]])
    np.testing.assert_allclose(
        agency_similarity(S, items, ["A", "B"], top_m=2),
        [[0.8, 0.2]],  # B has one example
    )


def test_agency_similarity_ignores_excluded_items():
    S = np.array([[-1.0, 0.4, 0.6]])
    np.testing.assert_allclose(
        agency_similarity(S, ["A", "A", "B"], ["A", "B"], top_m=2), [[0.4, 0.6]]
    )


def test_similarity_proba_is_a_softmax_sharpened_by_temperature():
    sim = np.array([[0.80, 0.75, 0.10]])
    soft, sharp = similarity_proba(sim, temperature=1.0), similarity_proba(sim, temperature=0.01)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    assert sharp[0, 0] > soft[0, 0]
    assert sharp.argmax() == 0
    with pytest.raises(ValueError):
        similarity_proba(sim, temperature=0)


def test_blend_interpolates_between_router_and_similarity():
    router = np.array([[0.7, 0.2, 0.1]])
    sim = np.array([[0.1, 0.9, 0.1]])
    np.testing.assert_allclose(blend(router, sim, weight=0.0), router)
    np.testing.assert_allclose(blend(router, sim, weight=1.0), similarity_proba(sim))
    mixed = blend(router, sim, weight=0.5)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    assert mixed[0].argmax() == 1
    with pytest.raises(ValueError):
        blend(router, sim[:, :2])


def test_nearest_agency_puts_a_four_example_agency_in_top3_for_its_complaints(fewshot_data):
    clf = NearestAgencyClassifier(mode="tfidf").fit(*fewshot_data)
    assert len(clf.classes_) == 15
    assert in_top3(clf.predict_proba(RARE_HELDOUT), clf.classes_, RARE).all()


def test_nearest_agency_works_from_one_example_per_agency():
    texts = ["listrik padam di rumah", "paspor belum jadi", "sampah tidak diangkut"]
    clf = NearestAgencyClassifier(mode="tfidf").fit(texts, ["PLN", "IMIGRASI", "DLH"])
    assert clf.predict(
        ["listrik di rumah padam lagi", "sampah menumpuk tidak diangkut"]
    ).tolist() == [
        "PLN",
        "DLH",
    ]


@pytest.mark.parametrize("aggregate", ["centroid", "nearest"])
def test_both_aggregates_rank_the_matching_agency_first(aggregate):
    texts = ["listrik padam", "token listrik gagal", "paspor hilang", "antrean paspor lama"]
    clf = NearestAgencyClassifier(mode="tfidf", aggregate=aggregate)
    clf.fit(texts, ["PLN", "PLN", "IMIGRASI", "IMIGRASI"])
    predicted = clf.predict(["listrik rumah padam", "paspor anak hilang"])
    assert predicted.tolist() == ["PLN", "IMIGRASI"]


def test_unknown_aggregate_is_refused():
    clf = NearestAgencyClassifier(mode="tfidf", aggregate="median").fit(["a b", "c d"], ["X", "Y"])
    with pytest.raises(ValueError, match="aggregate"):
        clf.predict(["a b"])


def test_nearest_agency_has_no_profile_mode():
    with pytest.raises(ValueError, match="profile"):
        NearestAgencyClassifier(mode="tfidf+profile").fit(["a", "b"], ["X", "Y"])


def test_blended_router_keeps_a_four_example_agency_in_top3(fewshot_data):
    texts, labels = fewshot_data
    router = Router(random_state=0).fit(texts, labels)
    index = SimilarIndex(mode="tfidf").fit(texts, labels)
    blended = blend_router(router, index, RARE_HELDOUT, weight=0.5)
    assert blended.shape == (len(RARE_HELDOUT), len(router.classes_))
    np.testing.assert_allclose(blended.sum(axis=1), 1.0)
    assert in_top3(blended, router.classes_, RARE).all()
    # complaints of the other agencies are not pulled towards it
    blended_others = blend_router(router, index, OTHERS_HELDOUT, weight=0.5)
    assert (router.classes_[blended_others.argmax(axis=1)] != RARE).all()


# --- few-shot agencies in suggest() ----------------------------------------------------------

# The router sees 10 times as many complaints of every other agency as of RARE.
BUNDLE_PER_AGENCY = 40
# Two unseen complaints of every other agency of the bundle.
BUNDLE_OTHERS_HELDOUT = [
    t
    for rows in _sample_by_agency().values()
    for t in rows[BUNDLE_PER_AGENCY : BUNDLE_PER_AGENCY + 2]
]


@pytest.fixture(scope="module")
def fewshot_bundle(tmp_path_factory) -> Bundle:
    """A default bundle (`--embedder none`: tfidf+profile index): 40 complaints of each
    sample-corpus agency and the 4 of RARE."""
    texts, labels = [], []
    for agency, rows in sorted(_sample_by_agency().items()):
        texts += rows[:BUNDLE_PER_AGENCY]
        labels += [agency] * BUNDLE_PER_AGENCY
    texts, labels = [*texts, *RARE_TRAIN], [*labels, *[RARE] * len(RARE_TRAIN)]
    folder = tmp_path_factory.mktemp("fewshot")
    ids = [f"c{i}" for i in range(len(texts))]
    csv_path = write_csv(folder / "train.csv", Corpus(texts, labels, ids))
    result = train(csv_path, "text", "agency", folder / "bundle", id_col="id")
    return load_bundle(result.bundle_path)


def with_threshold(bundle: Bundle, threshold: float) -> Bundle:
    return replace(bundle, policy=replace(bundle.policy, threshold=threshold))


def rank_of(agency: str, agencies: list[str]) -> int:
    return agencies.index(agency) if agency in agencies else len(agencies)


@pytest.mark.parametrize(
    ("query", "expected", "moved"),
    [
        ("listrik padam di rumah", ["PLN", "DLH", "IMIGRASI"], True),
        ("paspor saya hilang", ["DLH", "PLN", "IMIGRASI"], False),
    ],
    ids=["close-to-few-shot", "close-to-another"],
)
def test_only_few_shot_agencies_move_and_only_up(query, expected, moved):
    texts = ["listrik padam rumah", "paspor hilang di kantor imigrasi", "sampah menumpuk di jalan"]
    index = SimilarIndex(mode="tfidf").fit(texts, ["PLN", "IMIGRASI", "DLH"])
    classes = np.array(["DLH", "IMIGRASI", "PLN"], dtype=object)
    proba = np.array([[0.5, 0.2, 0.3]])  # the router: DLH, PLN, IMIGRASI
    few = np.array([False, False, True])  # PLN
    pairs, rerouted = rank_with_few_shot(index, [query], classes, proba, few, 3)
    assert [a for a, _ in pairs[0]] == expected
    assert dict(pairs[0]) == {"DLH": 0.5, "IMIGRASI": 0.2, "PLN": 0.3}
    assert rerouted.tolist() == [moved]


def test_bundle_knows_its_few_shot_agencies(fewshot_bundle):
    classes = fewshot_bundle.router.classes_
    few = few_shot_agencies(fewshot_bundle.similar, classes)
    assert few is not None and classes[few].tolist() == [RARE]


def test_suggest_puts_a_four_example_agency_in_top3_for_complaints_like_its_examples(
    fewshot_bundle,
):
    router_ranks = [
        rank_of(RARE, [a for a, _ in pairs])
        for pairs in fewshot_bundle.router.top_k(RARE_HELDOUT, len(fewshot_bundle.labels))
    ]
    predictions = suggest(fewshot_bundle, RARE_HELDOUT, top_k=3)
    ranks = [rank_of(RARE, [s.agency for s in p.suggestions]) for p in predictions]
    assert max(ranks) < 3
    # similarity moves it up where the router ranks it lower, never down
    assert all(r <= own for r, own in zip(ranks, router_ranks, strict=True))
    assert sum(ranks) < sum(router_ranks)
    for prediction in predictions:
        assert [s.few_shot for s in prediction.suggestions] == [
            s.agency == RARE for s in prediction.suggestions
        ]


def test_few_shot_suggestions_show_the_routers_probabilities(fewshot_bundle):
    texts = RARE_HELDOUT + BUNDLE_OTHERS_HELDOUT
    proba = fewshot_bundle.router.predict_proba(texts)
    column = {a: j for j, a in enumerate(fewshot_bundle.router.classes_)}
    for row, prediction in zip(proba, suggest(fewshot_bundle, texts, top_k=5), strict=True):
        for s in prediction.suggestions:
            assert s.confidence == pytest.approx(row[column[s.agency]])
        # every agency but the few-shot one keeps the router's order
        others = [s.confidence for s in prediction.suggestions if s.agency != RARE]
        assert others == sorted(others, reverse=True)


def test_a_changed_first_suggestion_is_never_routed_automatically(fewshot_bundle):
    bundle = with_threshold(fewshot_bundle, 0.0)  # the router alone would auto-route all
    texts = RARE_HELDOUT + BUNDLE_OTHERS_HELDOUT
    own_top = bundle.router.predict(texts)
    predictions = suggest(bundle, texts)
    changed = [p.top.agency != top for p, top in zip(predictions, own_top, strict=True)]
    assert any(changed)
    for prediction, moved in zip(predictions, changed, strict=True):
        codes = [reason["code"] for reason in prediction.reasons]
        assert ("few_shot" in codes) == moved
        if moved:
            assert prediction.decision == "review"
            assert {"code": "few_shot", "agency": prediction.top.agency} in prediction.reasons
        else:  # any other reason is the novelty detector's or the ambiguity rule's
            assert prediction.decision == ("review" if codes else "auto")
            assert set(codes) <= {"out_of_scope", "ambiguous"}


def test_other_agencies_complaints_keep_the_routers_first_suggestion(fewshot_bundle):
    predictions = suggest(fewshot_bundle, BUNDLE_OTHERS_HELDOUT)
    own_top = fewshot_bundle.router.predict(BUNDLE_OTHERS_HELDOUT)
    assert [p.top.agency for p in predictions] == own_top.tolist()


def test_bundle_without_few_shot_agencies_gets_the_routers_ranking_untouched(
    trained_bundle, heldout_corpus, monkeypatch
):
    bundle = load_bundle(trained_bundle)
    assert few_shot_agencies(bundle.similar, bundle.router.classes_) is None

    def fail(*args, **kwargs):
        raise AssertionError("few-shot ranking computed for a bundle without few-shot agencies")

    monkeypatch.setattr("routing.suggest.rank_with_few_shot", fail)
    texts = heldout_corpus.texts
    proba = bundle.router.predict_proba(texts)
    expected = top_k_from_proba(proba, bundle.router.classes_, 3)
    predictions = suggest(bundle, texts, similar=2)
    for prediction, pairs, row in zip(predictions, expected, proba, strict=True):
        assert [(s.agency, s.confidence) for s in prediction.suggestions] == pairs
        assert not any(s.few_shot for s in prediction.suggestions)
        assert prediction.decision == decide(float(row.max()), bundle.policy.threshold)


def test_cli_predict_marks_few_shot_suggestions(fewshot_bundle, tmp_path):
    texts = RARE_HELDOUT + BUNDLE_OTHERS_HELDOUT
    data = write_csv(tmp_path / "in.csv", Corpus(texts, [""] * len(texts), [""] * len(texts)))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["predict", str(data), "--model", str(fewshot_bundle.path), "--text-col", "text",
         "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = suggest(fewshot_bundle, texts)
    for line, prediction in zip(lines, expected, strict=True):
        for got, want in zip(line["suggestions"], prediction.suggestions, strict=True):
            assert got["agency"] == want.agency
            assert got.get("few_shot", False) is want.few_shot
            assert got["agency_code"] == want.agency_code
            assert set(got) == ({"agency", "agency_code", "confidence", "few_shot"}
                                if want.few_shot else
                                {"agency", "agency_code", "confidence"})  # fmt: skip
    assert any(s.few_shot for p in expected for s in p.suggestions)
