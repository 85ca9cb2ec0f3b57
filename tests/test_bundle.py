import io
import json
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio

from routing import bundle as bundle_module
from routing.bundle import (
    CALIBRATION_FILE,
    MANIFEST,
    NOVELTY_FILE,
    ROUTER_FILE,
    SCHEMA_VERSION,
    SIMILAR_FILE,
    STOPWORDS_FILE,
    TRAINING_ROWS_FILE,
    BundleError,
    _finalize_manifest,
    content_version,
    load_bundle,
    read_manifest,
    retarget_bundle,
    sha256_file,
)
from routing.policy import Policy, choose_threshold
from routing.router import Router
from routing.text import DEFAULT_LEXICON_PATH, TextNormalizer, load_stopwords
from training.pipeline import TrainResult, train

KEY = "test-signing-key"
PROBE = ["listrik mati trs sejak kemarin", "paspor saya belum jadi", "air pdam keruh"]


@pytest.fixture
def bundle_copy(trained_bundle, tmp_path) -> Path:
    """A private copy of the session bundle that a test may damage."""
    return Path(shutil.copytree(trained_bundle, tmp_path / "bundle"))


@pytest.fixture(scope="module")
def signed_result(tmp_path_factory, small_csv) -> TrainResult:
    out = tmp_path_factory.mktemp("signed") / "bundle"
    return train(small_csv, "text", "agency", out, signing_key=KEY)


@pytest.fixture(scope="module")
def signed_bundle(signed_result) -> Path:
    return signed_result.bundle_path


def _manifest(path: Path) -> dict:
    return json.loads((path / MANIFEST).read_text(encoding="utf-8"))


def _write_manifest(path: Path, manifest: dict) -> None:
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _forbid_unpickling(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        pytest.fail("a model file of a bundle that failed verification was loaded")

    monkeypatch.setattr(sio, "loads", refuse)


def test_save_load_round_trip_keeps_predictions(trained_bundle, small_csv):
    bundle = load_bundle(trained_bundle)
    assert isinstance(bundle.router, Router)
    again = load_bundle(trained_bundle)
    np.testing.assert_array_equal(
        bundle.router.predict_proba(PROBE), again.router.predict_proba(PROBE)
    )
    # The loaded router equals a fresh fit with the same seed and data.
    import csv

    with small_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fresh = Router(random_state=0).fit([r["text"] for r in rows], [r["agency"] for r in rows])
    np.testing.assert_array_equal(bundle.router.predict_proba(PROBE), fresh.predict_proba(PROBE))


def test_manifest_records_provenance_policy_metrics_and_checksums(trained_bundle, small_csv):
    manifest = read_manifest(trained_bundle)
    for key in (
        "schema_version",
        "model_version",
        "created_at",
        "git_commit",
        "library_versions",
        "hyperparameters",
        "seed",
        "training_data",
        "labels",
        "policy",
        "metrics",
        "artifacts",
    ):
        assert key in manifest, key
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["seed"] == 0
    assert manifest["hyperparameters"]["C"] == 0.3
    assert manifest["library_versions"]["scikit-learn"]
    assert manifest["training_data"]["sha256"] == sha256_file(small_csv)
    assert manifest["training_data"]["rows_used"] == 150
    assert manifest["labels"] == sorted(manifest["labels"])
    assert len(manifest["labels"]) == 5
    assert 0 < manifest["policy"]["threshold"] <= 1
    assert manifest["policy"]["target_precision"] == 0.99
    assert 0 <= manifest["metrics"]["validation"]["macro_f1"] <= 1
    assert set(manifest["artifacts"]) == {
        ROUTER_FILE,
        CALIBRATION_FILE,
        SIMILAR_FILE,
        NOVELTY_FILE,
        DEFAULT_LEXICON_PATH.name,
        STOPWORDS_FILE,
        TRAINING_ROWS_FILE,
    }
    for name, digest in manifest["artifacts"].items():
        assert digest == sha256_file(trained_bundle / name)


def test_model_version_is_stable_when_reread(trained_bundle):
    first = read_manifest(trained_bundle)["model_version"]
    assert load_bundle(trained_bundle).model_version == first
    assert read_manifest(trained_bundle)["model_version"] == first
    assert content_version(_manifest(trained_bundle)) == first


def test_same_seed_and_data_give_the_same_model_version(
    trained_bundle, small_csv, tmp_path, monkeypatch
):
    # the same code too: a commit made while the tests run must not count as new code
    commit = read_manifest(trained_bundle)["git_commit"]
    monkeypatch.setattr(bundle_module, "git_commit", lambda cwd=None: commit)
    again = train(small_csv, "text", "agency", tmp_path / "again", id_col="id", seed=0)
    assert again.model_version == read_manifest(trained_bundle)["model_version"]


def test_tampered_router_is_refused_before_unpickling(bundle_copy, monkeypatch):
    path = bundle_copy / ROUTER_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match=f"checksum mismatch for {ROUTER_FILE}"):
        load_bundle(bundle_copy)


def test_truncated_file_is_refused(bundle_copy, monkeypatch):
    path = bundle_copy / CALIBRATION_FILE
    path.write_bytes(path.read_bytes()[:100])
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(bundle_copy)


def test_missing_artifact_is_refused(bundle_copy):
    (bundle_copy / ROUTER_FILE).unlink()
    with pytest.raises(BundleError, match="missing"):
        load_bundle(bundle_copy)


def test_hand_edited_threshold_is_refused(bundle_copy, monkeypatch):
    manifest = _manifest(bundle_copy)
    manifest["policy"]["threshold"] = 0.01
    _write_manifest(bundle_copy, manifest)
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match="model_version"):
        load_bundle(bundle_copy)


@pytest.mark.parametrize("schema", [1, 2, 3, SCHEMA_VERSION + 1])
def test_other_schema_version_is_refused_with_a_line_saying_to_retrain(
    bundle_copy, monkeypatch, schema
):
    manifest = _manifest(bundle_copy)
    manifest["schema_version"] = schema
    _write_manifest(bundle_copy, manifest)
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError) as exc:
        load_bundle(bundle_copy)
    message = str(exc.value)
    assert f"bundle schema version {schema} is not supported" in message
    assert f"reads version {SCHEMA_VERSION} only" in message
    assert "retrain it with `routing train`" in message
    assert "\n" not in message


def test_a_bundle_without_its_optional_parts_loads_without_them(bundle_copy):
    """No precision bound, no agencies in its calibration scores, no novelty detector."""
    manifest = _manifest(bundle_copy)
    for key in ("threshold_lower_bound", "bound_confidence", "thresholds"):
        del manifest["policy"][key]
    (bundle_copy / NOVELTY_FILE).unlink()
    del manifest["artifacts"][NOVELTY_FILE]
    with np.load(bundle_copy / CALIBRATION_FILE) as cal:
        np.savez(
            bundle_copy / CALIBRATION_FILE, confidence=cal["confidence"], correct=cal["correct"]
        )
    manifest["artifacts"][CALIBRATION_FILE] = sha256_file(bundle_copy / CALIBRATION_FILE)
    _finalize_manifest(manifest, bundle_copy, None)
    old = load_bundle(bundle_copy)
    assert old.novelty is None
    assert old.calibration.agency is None
    assert old.policy.threshold_lower_bound is None
    with pytest.raises(BundleError, match="per-agency"):
        retarget_bundle(bundle_copy, 0.9, per_agency=True)
    assert retarget_bundle(bundle_copy, 0.9).reached


def test_policy_round_trips_typed(signed_result):
    policy = load_bundle(signed_result.bundle_path, signing_key=KEY).policy
    assert isinstance(policy, Policy)
    assert policy == signed_result.policy
    assert Policy.from_dict(read_manifest(signed_result.bundle_path)["policy"]) == policy
    assert isinstance(policy.threshold, float)
    assert isinstance(policy.reached, bool)
    assert isinstance(policy.n_calibration, int)


def _reseal(path: Path, key: str) -> None:
    """Checksum and sign the bundle's files as they are now, as its maker could."""
    _finalize_manifest(_manifest(path), path, key)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (ROUTER_FILE, {"classes_": ["a"]}, f"{ROUTER_FILE} holds a dict, not a Router"),
        (ROUTER_FILE, Router(), f"the router in {ROUTER_FILE} is not fitted"),
        (SIMILAR_FILE, Router(), f"{SIMILAR_FILE} holds a Router, not a SimilarIndex"),
    ],
)
def test_signed_bundle_holding_other_objects_is_refused(
    signed_bundle, tmp_path, name, content, reason
):
    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    sio.dump(content, copy / name)
    _reseal(copy, KEY)
    read_manifest(copy, signing_key=KEY)  # checksums and signature pass
    with pytest.raises(BundleError) as exc:
        load_bundle(copy, signing_key=KEY)
    assert reason in str(exc.value)
    assert "\n" not in str(exc.value)


def test_signed_bundle_with_a_malformed_policy_is_refused_before_unpickling(
    signed_bundle, tmp_path, monkeypatch
):
    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    manifest = _manifest(copy)
    del manifest["policy"]["threshold"]
    _finalize_manifest(manifest, copy, KEY)
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match="policy is malformed"):
        load_bundle(copy, signing_key=KEY)


class _Planted:
    """Unpickling it creates `marker`: the proof that unverified bytes were loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_file_replaced_after_verification_is_never_loaded(signed_bundle, tmp_path, monkeypatch):
    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    marker = tmp_path / "unpickled"
    verify = bundle_module.read_manifest

    def verify_then_replace(path, **kwargs):
        manifest = verify(path, **kwargs)
        joblib.dump(_Planted(marker), Path(path) / ROUTER_FILE)  # what a racing writer would do
        return manifest

    monkeypatch.setattr(bundle_module, "read_manifest", verify_then_replace)
    with pytest.raises(BundleError, match=f"checksum mismatch for {ROUTER_FILE}"):
        load_bundle(copy, signing_key=KEY)
    assert not marker.exists()


def test_directory_without_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="not a bundle directory"):
        load_bundle(tmp_path / "missing")


def test_corrupt_manifest_json_is_refused(bundle_copy):
    (bundle_copy / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(bundle_copy)


def test_signed_bundle_loads_with_the_right_key(signed_bundle):
    bundle = load_bundle(signed_bundle, signing_key=KEY)
    assert bundle.manifest["signature"]
    assert bundle.router.predict_proba(PROBE).shape == (3, 5)


def test_signed_bundle_is_refused_with_a_wrong_key(signed_bundle, monkeypatch):
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match="signature does not match"):
        load_bundle(signed_bundle, signing_key="another-key")


def test_unsigned_bundle_is_refused_when_a_key_is_configured(trained_bundle, monkeypatch):
    _forbid_unpickling(monkeypatch)
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(trained_bundle, signing_key=KEY)


def test_signature_catches_edits_that_recompute_the_model_version(signed_bundle, tmp_path):
    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    manifest = _manifest(copy)
    manifest["policy"]["threshold"] = 0.01
    manifest["model_version"] = content_version(manifest)
    _write_manifest(copy, manifest)
    load_bundle(copy)  # checksums alone cannot tell
    with pytest.raises(BundleError, match="signature"):
        load_bundle(copy, signing_key=KEY)


def test_retarget_moves_the_threshold_and_the_bundle_still_verifies(bundle_copy):
    before = load_bundle(bundle_copy)
    choice = retarget_bundle(bundle_copy, 0.9)
    expected = choose_threshold(before.calibration.confidence, before.calibration.correct, 0.9)
    assert choice == expected
    assert choice.bound_confidence == 0.9 and choice.threshold_lower_bound >= 0.9
    after = load_bundle(bundle_copy)
    assert after.policy == choice
    assert after.policy.threshold != before.policy.threshold
    assert after.policy.target_precision == 0.9
    assert after.model_version != before.model_version
    np.testing.assert_array_equal(
        after.router.predict_proba(PROBE), before.router.predict_proba(PROBE)
    )


def test_retarget_keeps_a_signed_bundle_signed(signed_bundle, tmp_path):
    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    retarget_bundle(copy, 0.9, signing_key=KEY)
    assert load_bundle(copy, signing_key=KEY).policy.target_precision == 0.9


def test_bundle_keeps_its_own_copy_of_the_lexicon(tmp_path, small_csv):
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text("informal\tformal\ntrs\tterus\nsy\tsaya\nlistrk\tlistrik\n", "utf-8")
    normalizer = TextNormalizer(lexicon_path=str(lexicon))
    result = train(
        small_csv, "text", "agency", tmp_path / "bundle", router_params={"normalizer": normalizer}
    )
    stored = (result.bundle_path / DEFAULT_LEXICON_PATH.name).read_text("utf-8")
    assert "trs\tterus" in stored
    assert "listrk\tlistrik" in stored
    probe = ["listrk mati trs sy tunggu", *PROBE]
    before = load_bundle(result.bundle_path).router.predict_proba(probe)

    lexicon.write_text("informal\tformal\ntrs\tpaspor\nsy\timigrasi\nlistrk\tpaspor\n", "utf-8")
    # The edit matters to anything that reads the file again...
    edited = TextNormalizer(lexicon_path=str(lexicon)).fit([])
    assert edited.normalize("listrk trs") == "paspor paspor"
    # ...but not to the trained bundle.
    bundle = load_bundle(result.bundle_path)
    assert bundle.router.normalizer_.normalize("listrk trs") == "listrik terus"
    np.testing.assert_array_equal(bundle.router.predict_proba(probe), before)


def test_bundle_explains_with_its_own_copy_of_the_stop_list(trained_bundle, tmp_path, monkeypatch):
    """Editing data/stopwords.txt changes no trained bundle's explanations; a bundle made
    before there was a stop list uses the packaged one."""
    bundle = load_bundle(trained_bundle)
    assert bundle.explainer is bundle.explainer  # built once per bundle
    assert bundle.explainer.stop_words == load_stopwords() >= {"di", "dan", "saya", "yang"}
    edited = tmp_path / "stopwords.txt"
    edited.write_text("listrik\n", encoding="utf-8")
    monkeypatch.setattr("routing.text.DEFAULT_STOPWORDS_PATH", edited)
    assert load_bundle(trained_bundle).explainer.stop_words >= {"di", "dan", "saya", "yang"}
    older = load_bundle(trained_bundle)
    del older.manifest["artifacts"][STOPWORDS_FILE]
    assert older.explainer.stop_words == {"listrik"}


def _with_constructor(data: bytes, module: str, name: str) -> bytes:
    """A skops file like `data` whose top object is built by calling `module.name` instead."""
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    schema["__module__"], schema["__class__"] = module, name
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            body = json.dumps(schema) if item == "schema.json" else source.read(item)
            target.writestr(item, body)
    return out.getvalue()


class _Code:
    """Stored by skops as a call of its own type with `source`: the template of a crafted file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        return (type(self), (self.source,))


def test_a_signed_model_file_that_would_run_code_is_refused_with_one_line(signed_bundle, tmp_path):
    marker = tmp_path / "ran"
    code = _Code(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    crafted = _with_constructor(sio.dumps(code), "builtins", "exec")
    sio.loads(crafted, trusted=["builtins.exec"])  # the crafted file is live: trusted, it runs
    assert marker.exists()
    marker.unlink()

    copy = Path(shutil.copytree(signed_bundle, tmp_path / "signed"))
    (copy / ROUTER_FILE).write_bytes(crafted)
    _reseal(copy, KEY)
    read_manifest(copy, signing_key=KEY)  # checksums and signature pass: skops refuses it
    with pytest.raises(BundleError) as exc:
        load_bundle(copy, signing_key=KEY)
    message = str(exc.value)
    assert f"{ROUTER_FILE} holds types this routing does not trust" in message
    assert "builtins.exec" in message
    assert "\n" not in message
    assert not marker.exists()


class _Opaque:
    """A type no bundle trusts."""


def test_an_artifact_holding_an_untrusted_type_is_never_written(trained_bundle, tmp_path):
    bundle = load_bundle(trained_bundle)
    bundle.similar.embedder = _Opaque()
    with pytest.raises(BundleError) as exc:
        bundle_module.save_bundle(
            tmp_path / "out",
            bundle.router,
            policy=bundle.policy,
            calibration=bundle.calibration,
            metrics={},
            training={},
            seed=0,
            similar=bundle.similar,
        )
    assert f"{SIMILAR_FILE} would hold types a bundle does not load" in str(exc.value)
    assert "_Opaque" in str(exc.value)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.iterdir())  # no staging folder left behind


def test_a_bundle_trained_with_a_catalogue_carries_its_authority(small_csv, tmp_path):
    from routing.authority import AGENCIES_FILE, AUTHORITY_FILE
    from routing.datafiles import data_file

    out = tmp_path / "roles"
    train(small_csv, "text", "agency", out, id_col="id", agencies=data_file(AGENCIES_FILE))
    loaded = load_bundle(out)
    assert "PDAM" in loaded.labels  # PDAM TIRTAWENING KOTA BANDUNG, learned as its role
    assert loaded.authority is not None
    assert (out / AUTHORITY_FILE).read_bytes() == data_file(AUTHORITY_FILE).read_bytes()
    place = type("Place", (), {"code": "32.73", "candidates": ()})()
    assert loaded.authority.resolve("PDAM", place, "").agency.code == "PDAM-BDG"
    # the files are covered by the manifest's checksums
    with (out / AUTHORITY_FILE).open("a", encoding="utf-8") as fh:
        fh.write("PDAM,,pusat,PLN,,\n")
    with pytest.raises(BundleError, match=f"checksum mismatch for {AUTHORITY_FILE}"):
        load_bundle(out)


def test_a_bundle_trained_without_a_catalogue_has_no_authority(trained_bundle):
    assert load_bundle(trained_bundle).authority is None
