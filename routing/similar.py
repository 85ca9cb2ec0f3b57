"""Similar past complaints: the training complaints nearest to a new one, with their agency.

An admin checking a suggestion trusts "these three earlier complaints went to PLN" more than a
bare probability. The index keeps, per training complaint, only what is needed to find and show
it: its id, agency, a short *masked* snippet (never the raw text) and its vectors.

Similarity is a weighted sum of cosines, each in [0, 1] for these vectors, so the sum is too:

    tfidf      cosine of word TF-IDF vectors (hashed, `hashed_tfidf`: no vocabulary of
               complaint words, names included, is stored)
    embedding  cosine of sentence embeddings (`routing.embeddings`), stored as float16
    profile    Bhattacharyya coefficient sum_a sqrt(p(a|query) p(a|past complaint)) of the
               router's probabilities; past complaints use out-of-fold probabilities, so the
               term says "the model reads these two texts alike", not "this is its label"

The mode names the terms used, joined by "+" ("hybrid" = "tfidf+embedding"); `weights` sets
their shares. Retrieval depends on the text alone: results are never filtered by the
suggested agency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import normalize as l2_normalize

from routing.features import CharWbNgrams, prediction_config
from routing.text import TextNormalizer, clean_html, mask_personal_data

__all__ = [
    "DEFAULT_MODE",
    "DEFAULT_WEIGHTS",
    "MODES",
    "TERMS",
    "SimilarIndex",
    "hashed_tfidf",
    "make_snippet",
]

TERMS = ("tfidf", "embedding", "profile")
MODES = ("tfidf", "embedding", "hybrid", "hybrid+profile")
DEFAULT_MODE = "hybrid+profile"
# Shares of each term when all are used; terms a mode leaves out are dropped and the rest
# rescaled to sum to 1. Chosen by benchmarks/semantic.py, table a (same-agency precision@3 of
# unseen LAPOR-10 complaints); see benchmarks/results/semantic.md.
DEFAULT_WEIGHTS: dict[str, float] = {"tfidf": 0.3, "embedding": 0.6, "profile": 0.1}
SNIPPET_CHARS = 200
# Like the router's, but Indic vowel signs (U+0900-U+0DFF) count as word characters: Python's
# \w does not match them, which would cut Nepali words apart at every vowel sign.
_TOKEN_PATTERN = r"(?u)\[\w+\]|[\w\u0900-\u0DFF]{2,}"


def make_snippet(text: str, max_chars: int = SNIPPET_CHARS) -> str:
    """The first `max_chars` characters of a complaint, HTML removed and personal data masked.

    Masking runs on the whole text before cutting, so a number split by the cut cannot escape.
    """
    text = " ".join(mask_personal_data(clean_html(text)).split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut) + "…"


def _terms(mode: str) -> tuple[str, ...]:
    terms = tuple(mode.replace("hybrid", "tfidf+embedding").split("+"))
    if not terms or len(set(terms)) != len(terms) or not set(terms) <= set(TERMS):
        raise ValueError(
            f"unknown similarity mode {mode!r}; expected {', '.join(MODES)} "
            f"or terms from {', '.join(TERMS)} joined by '+'"
        )
    return terms


class SimilarIndex:
    """Nearest past complaints by text, with masked snippets; picklable and compact.

    Parameters
    ----------
    mode : str
        Similarity terms to combine: one of MODES or TERMS joined by "+".
    weights : dict or None
        Share of each term (keys "tfidf", "embedding", "profile"); None means DEFAULT_WEIGHTS.
    embedder : Embedder or None
        Encodes texts for the embedding term; needed when the mode uses embeddings and
        `query` is not given the query embeddings.
    char_ngrams : bool
        Add character n-grams to the TF-IDF term (see `hashed_tfidf`).
    snippet_chars : int
        Length of the stored masked snippet.
    """

    def __init__(
        self,
        *,
        mode: str = DEFAULT_MODE,
        weights: dict[str, float] | None = None,
        embedder: Any = None,
        char_ngrams: bool = False,
        snippet_chars: int = SNIPPET_CHARS,
    ):
        self.mode = mode
        self.weights = weights
        self.embedder = embedder
        self.char_ngrams = char_ngrams
        self.snippet_chars = snippet_chars

    # -- building -------------------------------------------------------------------------

    @property
    def terms(self) -> tuple[str, ...]:
        return _terms(self.mode)

    def _term_weights(self) -> dict[str, float]:
        weights = self.weights if self.weights is not None else DEFAULT_WEIGHTS
        chosen = {t: float(weights.get(t, 0.0)) for t in self.terms}
        total = sum(chosen.values())
        if total <= 0 or any(w < 0 for w in chosen.values()):
            raise ValueError(f"weights for {self.terms} must be non-negative, not all zero")
        return {t: w / total for t, w in chosen.items()}

    def fit(
        self,
        texts: Sequence[str],
        agencies: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        embeddings: np.ndarray | None = None,
        profiles: np.ndarray | None = None,
        classes: Sequence[str] | None = None,
    ) -> SimilarIndex:
        """Index past complaints.

        `embeddings` may be given when already computed (else the embedder encodes `texts`);
        `profiles` are out-of-fold router probabilities (columns in `classes` order), needed
        by the "+profile" modes: a fitted Router's `oof_proba_` and `classes_`.
        """
        texts = list(texts)
        n = len(texts)
        if len(agencies) != n or (ids is not None and len(ids) != n):
            raise ValueError("texts, agencies and ids must have the same length")
        self.weights_ = self._term_weights()
        self.ids_ = np.asarray([str(i) for i in (ids if ids is not None else range(n))], object)
        self.agencies_ = np.asarray([str(a) for a in agencies], dtype=object)
        self.snippets_ = np.asarray([make_snippet(t, self.snippet_chars) for t in texts], object)
        self._cache: dict[Any, Any] = {}
        if "tfidf" in self.terms:
            self.normalizer_ = TextNormalizer().fit([])
            self.tfidf_ = hashed_tfidf(char_ngrams=self.char_ngrams)
            self.tfidf_matrix_ = self.tfidf_.fit_transform(self.normalizer_.transform(texts))
        if "embedding" in self.terms:
            E = self._embed(texts) if embeddings is None else np.asarray(embeddings, np.float32)
            if E.shape[0] != n:
                raise ValueError(f"{E.shape[0]} embeddings for {n} complaints")
            self.embeddings_ = l2_normalize(E).astype(np.float16)
        if "profile" in self.terms:
            if profiles is None or classes is None:
                raise ValueError(f"mode {self.mode!r} needs profiles and classes")
            P = np.asarray(profiles, dtype=np.float64)
            if P.shape != (n, len(classes)):
                raise ValueError(f"profiles must have shape ({n}, {len(classes)})")
            self.classes_ = np.asarray([str(c) for c in classes], dtype=object)
            self.profiles_ = _sqrt_profile(P).astype(np.float16)
        return self

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.embedder is None:
            raise ValueError(f"mode {self.mode!r} needs an embedder or precomputed embeddings")
        return np.asarray(self.embedder.encode(texts), dtype=np.float32)

    # -- querying -------------------------------------------------------------------------

    def _query_vectors(
        self,
        texts: list[str],
        embeddings: np.ndarray | None,
        proba: np.ndarray | None,
        normalized: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Each term's unit vectors for the query texts."""
        out: dict[str, Any] = {}
        if "tfidf" in self.weights_:
            if normalized is None:
                normalized = self.normalizer_.transform(texts)
            elif len(normalized) != len(texts):
                raise ValueError(f"{len(normalized)} normalized texts for {len(texts)} texts")
            with prediction_config():
                out["tfidf"] = self.tfidf_.transform(normalized)
        if "embedding" in self.weights_:
            E = self._embed(texts) if embeddings is None else np.asarray(embeddings, np.float32)
            if E.shape[0] != len(texts):
                raise ValueError(f"{E.shape[0]} embeddings for {len(texts)} texts")
            out["embedding"] = l2_normalize(E)
        if "profile" in self.weights_:
            if proba is None:
                raise ValueError(f"mode {self.mode!r} needs the router's probabilities (proba=)")
            P = np.asarray(proba, dtype=np.float64)
            if P.shape != (len(texts), len(self.classes_)):
                raise ValueError(f"proba must have shape ({len(texts)}, {len(self.classes_)})")
            out["profile"] = _sqrt_profile(P).astype(np.float32)
        return out

    def _item_vectors(self, term: str) -> Any:
        if term == "tfidf":
            return self.tfidf_matrix_
        return self._float32("embeddings_" if term == "embedding" else "profiles_")

    def _memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """`make()`, computed once per process and key (the memo is never pickled)."""
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def _float32(self, name: str) -> np.ndarray:
        """float32 copy of a stored float16 matrix."""
        return self._memo(name, lambda: getattr(self, name).astype(np.float32))

    def _weighted(self, queries: dict[str, Any], targets: Callable[[str], Any]) -> np.ndarray:
        S = None
        for term, Q in queries.items():
            T = targets(term)
            part = (Q @ self._transposed(T)).toarray() if sp.issparse(T) else np.asarray(Q @ T.T)
            S = self.weights_[term] * part if S is None else S + self.weights_[term] * part
        return np.clip(S, 0.0, 1.0).astype(np.float32)

    def _transposed(self, T: sp.spmatrix) -> sp.csr_matrix:
        """T.T as CSR, made once per matrix and process: scipy would otherwise convert the
        transpose of the whole index on every query."""
        # T is kept alive beside its transpose, so its id stays its own
        return self._memo(("transposed", id(T)), lambda: (T, sp.csr_matrix(T.T)))[1]

    def similarity(
        self,
        texts: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        proba: np.ndarray | None = None,
        normalized: Sequence[str] | None = None,
    ) -> np.ndarray:
        """(len(texts), n_indexed) similarities in [0, 1].

        `embeddings` (query embeddings), `proba` (router probabilities, columns in the
        order of the classes given to fit) and `normalized` (the texts as the index's
        normalizer writes them, see `shares_normalization`) spare recomputing what the
        caller already has.
        """
        queries = self._query_vectors(list(texts), embeddings, proba, normalized)
        return self._weighted(queries, self._item_vectors)

    def centroid_similarity(
        self,
        texts: Sequence[str],
        classes: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        proba: np.ndarray | None = None,
    ) -> np.ndarray:
        """(len(texts), len(classes)): similarity to each agency's centroid, per term.

        A centroid is the normalized mean of an agency's past complaints' vectors: one
        prototype per agency, which ranks agencies with few, varied examples better than
        the single nearest complaint does. An agency with no complaints here scores 0.
        """
        classes = [str(c) for c in classes]

        def make() -> dict[str, Any]:
            member = self.agencies_[None, :] == np.asarray(classes, dtype=object)[:, None]
            M = sp.csr_matrix(member.astype(np.float32))
            return {term: _l2_rows(M @ self._item_vectors(term)) for term in self.weights_}

        centroids = self._memo(("centroids", tuple(classes)), make)
        queries = self._query_vectors(list(texts), embeddings, proba)
        return self._weighted(queries, centroids.__getitem__)

    def agency_counts(self, classes: Sequence[str]) -> np.ndarray:
        """Indexed past complaints of each agency in `classes` (0 for one not indexed)."""
        classes = tuple(str(c) for c in classes)

        def make() -> np.ndarray:
            values, counts = np.unique(self.agencies_.astype(str), return_counts=True)
            n_of = dict(zip(values.tolist(), counts.tolist(), strict=True))
            return np.asarray([n_of.get(c, 0) for c in classes], dtype=np.int64)

        return self._memo(("counts", classes), make)

    def query(
        self,
        texts: Sequence[str],
        k: int = 3,
        *,
        embeddings: np.ndarray | None = None,
        proba: np.ndarray | None = None,
        normalized: Sequence[str] | None = None,
        exclude_ids: Sequence[str | None] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """The k most similar past complaints per text, best first.

        Each is ``{"id", "agency", "similarity", "snippet"}``. `exclude_ids` (one per text,
        or None) skips that past complaint: for leave-one-out evaluation only.
        """
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        texts = list(texts)
        S = self.similarity(texts, embeddings=embeddings, proba=proba, normalized=normalized)
        if exclude_ids is not None:
            if len(exclude_ids) != len(texts):
                raise ValueError("exclude_ids needs one entry per text")
            position = {cid: j for j, cid in enumerate(self.ids_)}
            for i, cid in enumerate(exclude_ids):
                j = position.get(str(cid)) if cid is not None else None
                if j is not None:
                    S[i, j] = -1.0
        k = min(k, S.shape[1])
        out = []
        for row in S:
            top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            top = top[np.argsort(-row[top], kind="stable")]
            out.append(
                [
                    {
                        "id": str(self.ids_[j]),
                        "agency": str(self.agencies_[j]),
                        "similarity": round(float(row[j]), 4),
                        "snippet": str(self.snippets_[j]),
                    }
                    for j in top
                    if row[j] >= 0.0
                ]
            )
        return out

    def shares_normalization(self, normalizer: Any) -> bool:
        """Whether texts normalized by `normalizer` (a fitted TextNormalizer, the router's)
        are what this index's TF-IDF term reads, so they can be passed as `normalized`."""
        if "tfidf" not in self.weights_:
            return False
        own = self.normalizer_
        return self._memo(
            ("same normalizer", id(normalizer)),
            lambda: (
                normalizer,  # kept alive beside the answer, so its id stays its own
                type(normalizer) is type(own)
                and normalizer.get_params() == own.get_params()
                and normalizer.lexicon_ == own.lexicon_,
            ),
        )[1]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    def __len__(self) -> int:
        return len(self.ids_)


def _l2_rows(X: Any) -> Any:
    """Rows scaled to unit norm (all-zero rows stay zero), sparse or dense."""
    return l2_normalize(X) if sp.issparse(X) else l2_normalize(np.asarray(X, dtype=np.float32))


def _sqrt_profile(P: np.ndarray) -> np.ndarray:
    """Row-normalized square roots: their dot product is the Bhattacharyya coefficient."""
    P = np.clip(P, 0.0, None)
    P = P / np.maximum(P.sum(axis=1, keepdims=True), 1e-12)
    return np.sqrt(P)


def hashed_tfidf(*, char_ngrams: bool = False, n_features: int = 2**20) -> Pipeline | FeatureUnion:
    """Unfitted TF-IDF of normalized texts that stores no vocabulary: scikit-learn's hashed
    counts (`HashingVectorizer`), then sublinear TF x IDF in unit rows (`TfidfTransformer`).

    Word 1-2-grams, and with `char_ngrams` also character 2-5-grams within words (like the
    router's features; better for retrieval, at several times the non-zeros). Only an IDF
    per hash bucket is learned, so no complaint word (a citizen's name, say) can be read back
    from a pickled index. With both blocks each is a unit vector weighted 1/sqrt(2): they
    share the row's unit norm equally.
    """
    common = dict(
        lowercase=False,
        alternate_sign=False,
        norm=None,
        n_features=n_features,
        dtype=np.float32,
    )
    word = make_pipeline(
        HashingVectorizer(ngram_range=(1, 2), token_pattern=_TOKEN_PATTERN, **common),
        TfidfTransformer(sublinear_tf=True),
    )
    if not char_ngrams:
        return word
    char = make_pipeline(
        HashingVectorizer(analyzer=CharWbNgrams((2, 5)), **common),
        TfidfTransformer(sublinear_tf=True),
    )
    share = 1 / np.sqrt(2)
    return FeatureUnion(
        [("word", word), ("char", char)], transformer_weights={"word": share, "char": share}
    )
