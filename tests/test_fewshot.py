import csv
from pathlib import Path

import numpy as np
import pytest

from routing.fewshot import (
    NearestAgencyClassifier,
    agency_similarity,
    blend,
    blend_router,
    similarity_proba,
)
from routing.router import Router
from routing.similar import SimilarIndex

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
    by_agency: dict[str, list[str]] = {}
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            by_agency.setdefault(row["agency"], []).append(row["text"])
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
