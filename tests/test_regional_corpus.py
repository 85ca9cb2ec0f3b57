"""Synthetic regional complaints for the held-out-regencies benchmark
(training.regional_corpus)."""

import ast
from pathlib import Path

import pytest

import training.regional_corpus as regional_corpus
from routing.gazetteer import load_gazetteer
from training.regional_corpus import FORMS, ROLE_TOPICS, generate, office_code, pick_regions


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="module")
def regions(gazetteer):
    return [r for group in pick_regions(gazetteer, 8, 3, seed=5) for r in group]


@pytest.fixture(scope="module")
def corpus(gazetteer, regions):
    return generate(regions, 28, national=10, gazetteer=gazetteer, seed=7)


def test_the_generator_never_reads_the_place_finders_files():
    tree = ast.parse(Path(regional_corpus.__file__).read_text(encoding="utf-8"))
    imported, strings = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
    docstrings = {
        ast.get_docstring(n, clean=False)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
    }
    code_strings = [s for s in strings if s not in docstrings]
    assert imported and "routing.places" not in imported
    assert not any("places" in s or "aliases" in s for s in code_strings)


def test_regions_come_from_distinct_provinces_without_jakarta(gazetteer):
    groups = pick_regions(gazetteer, 8, 3, seed=5)
    provinces = [{r.province for r in group} for group in groups]
    assert all(len(p) == 1 for p in provinces)
    assert len(set().union(*provinces)) == 8
    assert "31" not in set().union(*provinces)
    assert all(r.level == "kabkota" for group in groups for r in group)


def test_same_arguments_give_the_same_complaints(gazetteer, regions, corpus):
    assert generate(regions, 28, national=10, gazetteer=gazetteer, seed=7) == corpus
    assert generate(regions, 28, national=10, gazetteer=gazetteer, seed=8) != corpus


def test_each_complaint_names_its_place_as_recorded(corpus):
    local = [c for c in corpus if c.role is not None]
    assert local and all(c.mention and c.place for c in local)
    for c in corpus:
        assert c.mention.lower() in c.text.lower()
        assert (c.form == "") == (c.mention == "")
    assert {c.form for c in corpus} - {""} == set(FORMS)


def test_offices_follow_the_level_of_the_topic(corpus):
    for c in corpus:
        if c.role is None:
            assert c.agency is not None and c.region is None
            continue
        text = c.text.lower()
        secondary = any(w in text for w in ("sman", "sma negeri", "smk negeri"))
        provincial = secondary or "jalan provinsi" in text
        assert c.region == (c.place[:2] if provincial else c.place), c.form
    national_roads = [c for c in corpus if c.agency == "KEMENPU"]
    assert national_roads and all("jalan nasional" in c.text.lower() for c in national_roads)
    assert {c.role for c in corpus} - {None} == set(ROLE_TOPICS)


def test_national_agencies_are_named_with_and_without_a_place(corpus):
    national = [c for c in corpus if c.agency not in (None, "KEMENPU")]
    assert any(c.place for c in national) and any(not c.place for c in national)


def test_office_codes_are_role_and_region():
    assert office_code("DINAS PU", "34.04") == "DINAS PU-34.04"
