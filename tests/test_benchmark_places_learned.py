"""benchmarks/places_learned.py: honest splits, candidates from the finder's mentions, cutoffs."""

import numpy as np
import pandas as pd

from benchmarks.places_learned import (
    EMBEDDING_FEATURE,
    Scorer,
    apply_cutoff,
    candidate_features,
    choose_cutoff,
    context_windows,
    leave_one_round_out,
    with_context_embeddings,
)
from routing.places import default_place_finder


def test_leave_one_round_out_never_puts_a_complaint_in_train_and_test():
    # "b" is drawn in rounds 1 and 2, "d" in rounds 2 and 3 (annotated differently there)
    frame = pd.DataFrame(
        {
            "round": [1, 1, 2, 2, 2, 3, 3],
            "id": ["a", "b", "b", "c", "d", "d", "e"],
            "gold": ["32.73", "", "", "34.04", "35", "", "31.71"],
        }
    )
    splits = leave_one_round_out(frame)
    assert [s.held_out for s in splits] == [1, 2, 3]
    for split in splits:
        assert not set(split.train["id"]) & set(split.test["id"])
        assert split.train["id"].is_unique
        assert len(split.test) == int((frame["round"] == split.held_out).sum())
    by_round = {s.held_out: s for s in splits}
    assert set(by_round[2].train["id"]) == {"a", "e"}
    # training keeps a complaint drawn twice once, with its earliest round's annotation
    train3 = by_round[3].train.set_index("id")
    assert sorted(train3.index) == ["a", "b", "c"] and train3.loc["b", "round"] == 1


def test_candidates_are_the_regions_named_with_their_rule_flag_and_context():
    text = "Jalan di Kabupaten Sleman rusak parah. Saya warga Kota Bandung yang sering lewat."
    found = candidate_features(default_place_finder(), text)
    assert set(found.codes) == {"34.04", "32.73"}
    features = dict(zip(found.codes, found.features, strict=True))
    assert features["32.73"]["before=warga"] == 1.0 and "before=warga" not in features["34.04"]
    assert features["34.04"]["head=kabupaten"] == 1.0
    for code, f in features.items():
        assert f["rules_chose"] == float(code == found.rules)
    # the best candidate is given only at or above the cutoff
    scored = [("34.04", 0.7), ("32.73", 0.3), ("", 0.0)]
    assert apply_cutoff(scored, 0.5) == ["34.04", "", ""]
    gold = ["34.04", "", ""]
    assert apply_cutoff(scored, choose_cutoff(gold, scored, "best F1")) == gold


class _LengthEmbedder:
    """A stand-in encoder: each text's length and its count of zeros."""

    dim = 2

    def encode(self, texts):
        return np.array([[len(t), t.count("0")] for t in texts], dtype=float)


def test_each_candidate_gets_its_own_context_window_embedded():
    finder = default_place_finder()
    text = "Jalan di Kabupaten Sleman rusak sejak 2019. Saya warga Kota Bandung yang sering lewat."
    found = {"x": candidate_features(finder, text)}
    codes = found["x"].codes
    windows = dict(zip(codes, context_windows(finder, text, codes), strict=True))
    assert "Kota Bandung" in windows["32.73"] and "Sleman rusak sejak 0000" in windows["34.04"]
    embedded = with_context_embeddings(found, {"x": text}, finder, _LengthEmbedder())
    for code, f in zip(embedded["x"].codes, embedded["x"].features, strict=True):
        assert f[f"{EMBEDDING_FEATURE}0"] == len(windows[code])
        assert f[f"{EMBEDDING_FEATURE}1"] == windows[code].count("0")
        assert "rules_chose" in f  # the other features are kept
    # only a context variant's scorer reads them
    key = f"{EMBEDDING_FEATURE}0"
    assert not Scorer("logistic")._wanted(key) and Scorer("logistic", context=True)._wanted(key)
