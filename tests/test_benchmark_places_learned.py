"""benchmarks/places_learned.py: honest splits, candidates from the finder's mentions, cutoffs."""

import pandas as pd

from benchmarks.places_learned import (
    apply_cutoff,
    candidate_features,
    choose_cutoff,
    leave_one_round_out,
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
