"""Request and response bodies of the HTTP API; the OpenAPI page (/docs) is generated from them.

Field descriptions and examples are the API's documentation: keep them true. Limits come from
`routing.api.limits` so the checks and the documentation cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from routing.api.limits import MAX_BATCH_ITEMS, MAX_TEXT_CHARS
from routing.suggest import MAX_TOP_K
from routing.text import find_personal_data

EXAMPLE_TEXT = (
    "Lampu penerangan jalan di Jl. Soekarno Hatta mati sudah dua minggu, mohon segera diperbaiki."
)
EXAMPLE_PREDICTION_ID = "0f8c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
EXAMPLE_VERSION = "rt-af0859f0ab80"


# Zero-width characters are invisible, so a text made only of them counts as empty too.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# Identifiers are stored and shown as sent: one that holds these is refused, not masked.
_PERSONAL_IDENTIFIERS = {"nik": "a NIK", "phone": "a phone number", "email": "an e-mail address"}


def _storable(value: object) -> object:
    # JSON lets lone surrogates through (the escape "\udc80", or the raw bytes ED A0 80, which
    # json.loads decodes with "surrogatepass") and no database can encode them; PostgreSQL
    # cannot store NUL either. Runs before any other check, so the answer is always this 422.
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "contains a character that is not valid UTF-8 (a lone surrogate)"
                ) from None
    return value


# Every string of a request body ends its Annotated type with this (after any Field, so that
# pydantic still checks the length as a string's).
Storable = BeforeValidator(_storable)


def _not_blank(text: str) -> str:
    if not text.strip().strip(_INVISIBLE).strip():
        raise ValueError("empty text")
    return text


def _agency_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("empty agency")
    return name


def _not_personal_data(value: str) -> str:
    for kind, _, _ in find_personal_data(value):
        if kind in _PERSONAL_IDENTIFIERS:
            raise ValueError(
                f"looks like {_PERSONAL_IDENTIFIERS[kind]}; send an id, not personal data"
            )
    return value


ComplaintText = Annotated[
    str,
    Field(
        max_length=MAX_TEXT_CHARS,
        description=f"The complaint as the citizen wrote it (1–{MAX_TEXT_CHARS} characters). "
        "Stored only with personal data masked; never logged.",
        examples=[EXAMPLE_TEXT],
    ),
    Storable,
    AfterValidator(_not_blank),
]
Identifier = Annotated[str, Field(max_length=200), Storable, AfterValidator(_not_personal_data)]
ComplaintId = Annotated[
    Identifier | None,
    Field(
        description="Your id of the complaint (e.g. the LAPOR! tracking id), echoed back and "
        "stored with the prediction. Refused when it looks like a NIK, phone number or e-mail.",
        examples=["LAPOR-4821337"],
    ),
]
TopK = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_TOP_K,
        description=f"How many agencies to suggest (1–{MAX_TOP_K}).",
    ),
]


SIMILAR_DEFAULT = 3  # similar past complaints returned when asked for


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(_Strict):
    """One complaint to route."""

    text: ComplaintText
    top_k: TopK = 3
    complaint_id: ComplaintId = None
    include_similar: bool = Field(
        default=False,
        description=f"Add the {SIMILAR_DEFAULT} most similar past complaints (masked snippets of "
        "other citizens' complaints: ask only where an admin reads them, as the console does).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": EXAMPLE_TEXT, "top_k": 3, "complaint_id": "LAPOR-4821337"}]
        },
    )


class BatchItem(_Strict):
    """One complaint of a batch."""

    text: ComplaintText
    complaint_id: ComplaintId = None


class BatchPredictRequest(_Strict):
    """Up to 1,000 complaints routed in one request; results come back in the same order."""

    items: list[BatchItem] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description=f"1–{MAX_BATCH_ITEMS} complaints. One invalid item rejects the whole "
        "request (422 naming its index), so nothing is half-stored.",
    )
    include_similar: bool = Field(
        default=False,
        description=f"Add the {SIMILAR_DEFAULT} most similar past complaints to each result.",
    )
    top_k: TopK = 3


class SuggestionOut(BaseModel):
    """One suggested agency."""

    agency: str = Field(description="Agency name, as in the training dispositions.")
    confidence: float = Field(
        ge=0.0, le=1.0, description="Calibrated probability that this agency is right."
    )
    explanation: list[str] = Field(
        description="Up to 5 words of the complaint that pushed the model toward this agency, "
        "strongest first (personal data is never among them).",
        examples=[["lampu", "jalan", "mati"]],
    )


class SimilarOut(BaseModel):
    """A past complaint similar to this one, retrieved from the text alone."""

    id: str = Field(description="Id of the past complaint in the training data.")
    agency: str = Field(description="Agency it was disposed to.")
    similarity: float = Field(ge=0.0, le=1.0, description="Cosine-based similarity in [0, 1].")
    snippet: str = Field(description="Beginning of its text, personal data masked.")


class PredictionOut(BaseModel):
    """Suggestions for one complaint and what the policy decided."""

    prediction_id: str = Field(
        description="Id of the stored prediction; send it back with /v1/feedback.",
        examples=[EXAMPLE_PREDICTION_ID],
    )
    complaint_id: str | None = Field(description="The complaint_id you sent, or null.")
    suggestions: list[SuggestionOut] = Field(description="Best suggestion first.")
    decision: Literal["auto", "review"] = Field(
        description="'auto': the top suggestion is confident enough to route without an admin; "
        "'review': an admin should choose."
    )
    threshold: float = Field(
        description="Confidence at or above which the decision is 'auto': the threshold of "
        "the top suggestion's agency when the model has per-agency thresholds."
    )
    model_version: str = Field(
        description="Version of the model that answered.", examples=[EXAMPLE_VERSION]
    )
    similar: list[SimilarOut] | None = Field(
        default=None,
        description="Similar past complaints, most similar first; null when not asked for or "
        "the model has no index.",
    )


class BatchPredictOut(BaseModel):
    results: list[PredictionOut] = Field(description="One result per item, in input order.")


class FeedbackRequest(_Strict):
    """An admin's decision on a prediction: the agency the complaint was actually sent to."""

    prediction_id: Annotated[str, Field(min_length=1, max_length=64), Storable] = Field(
        description="From a predict response."
    )
    agency: Annotated[
        str, Field(min_length=1, max_length=300), Storable, AfterValidator(_agency_name)
    ] = Field(
        description="The agency chosen. The suggestion counts as accepted when it is the top "
        "suggested agency.",
        examples=["PT PLN (PERSERO)"],
    )
    admin: Identifier | None = Field(
        default=None,
        description="Who decided (a username, not a name; refused when it looks like a NIK, "
        "phone number or e-mail).",
    )
    note: Annotated[str, Field(max_length=2000), Storable] | None = Field(
        default=None, description="Free-text remark; stored with personal data masked."
    )
    new_agency: bool = Field(
        default=False,
        description="Set to true to record an agency the model does not know yet "
        "(otherwise such an agency is rejected as a probable typo).",
    )


class FeedbackOut(BaseModel):
    feedback_id: str = Field(description="Id of the stored decision.")
    accepted: bool = Field(description="Whether the chosen agency was the top suggestion.")


class AgencyOut(BaseModel):
    agency: str = Field(description="Agency name as the model suggests it.")


class AgenciesOut(BaseModel):
    """The agencies the served model can suggest."""

    model_version: str = Field(examples=[EXAMPLE_VERSION])
    count: int = Field(description="Number of agencies.")
    agencies: list[AgencyOut] = Field(description="Sorted by name.")


class ValidationMetricsOut(BaseModel):
    """Out-of-fold quality of the model, measured when it was trained."""

    model_config = ConfigDict(extra="allow")

    method: str | None = Field(default=None, examples=["5-fold out-of-fold"])
    n: int | None = Field(default=None, description="Complaints evaluated.")
    accuracy: float | None = None
    macro_f1: float | None = None
    top3_accuracy: float | None = None
    ece: float | None = Field(default=None, description="Expected calibration error.")
    coverage_at_precision: dict[str, float | None] | None = Field(
        default=None, description="Share auto-routable at each target precision."
    )


class ModelOut(BaseModel):
    """Summary of the served model bundle's manifest."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str = Field(examples=[EXAMPLE_VERSION])
    created_at: str | None = Field(description="When the bundle was trained (ISO 8601, UTC).")
    threshold: float = Field(description="Confidence at or above which a suggestion is 'auto'.")
    target_precision: float = Field(description="Precision the threshold was chosen for.")
    bound_confidence: float = Field(
        description="Confidence with which the target precision holds on new complaints."
    )
    threshold_lower_bound: float | None = Field(
        description="One-sided Clopper-Pearson lower bound, at bound_confidence, on the "
        "precision of the complaints auto-routed out of fold; the threshold is the lowest "
        "that keeps it at or above target_precision. Null when nothing is auto-routed or the "
        "model predates the bound."
    )
    thresholds: dict[str, float] | None = Field(
        default=None,
        description="Per-agency thresholds (each applied to complaints whose top suggestion "
        "is that agency); null when one global threshold applies.",
    )
    labels: int = Field(description="Number of agencies the model knows.")
    training_rows: int | None = Field(description="Complaints the model was trained on.")
    metrics: ValidationMetricsOut | None = Field(description="Validation metrics.")


class StatsGroupOut(BaseModel):
    predictions: int = Field(description="Predictions served.")
    decisions: int = Field(description="Of those, predictions that received feedback.")
    accepted: int = Field(description="Decisions whose latest feedback kept the top suggestion.")
    acceptance_rate: float | None = Field(description="accepted / decisions; null without any.")


class StatsOut(StatsGroupOut):
    """How often admins accept the suggestions, overall and split up."""

    by_decision: dict[str, StatsGroupOut] = Field(description="Split by 'auto' / 'review'.")
    by_agency: dict[str, StatsGroupOut] = Field(description="Split by top suggested agency.")
    by_model_version: dict[str, StatsGroupOut] = Field(description="Split by model version.")


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    status: Literal["ready", "degraded"] = Field(
        default="ready",
        description='"degraded": a model serves, but the last reload was refused (see detail).',
    )
    model_version: str = Field(description="The version serving requests now.")
    detail: str | None = Field(
        default=None, description="Why the last reload was refused; absent when ready."
    )
    batch_workers: int = Field(
        default=0,
        description="Batch worker processes holding the served version now "
        "(ROUTING_BATCH_WORKERS; large batches are shared with them once they are ready).",
    )


class ReloadOut(BaseModel):
    """Outcome of POST /v1/admin/reload."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str = Field(description="The version serving requests now.")
    previous_version: str | None = Field(description="The version served before the reload.")
    reloaded: bool = Field(description="False when the source already names the served version.")


class FieldErrorOut(BaseModel):
    loc: str = Field(description="The field, as written in the request.", examples=["text"])
    msg: str = Field(examples=["empty text"])
    type: str = Field(examples=["value_error"])


class ErrorOut(BaseModel):
    """Every error response."""

    detail: str = Field(description="Human-readable reason.", examples=["text: empty text"])
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="For 422: each invalid field (the input is never echoed)."
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes a route can answer."""
    reasons = {
        400: "Body is not valid UTF-8 JSON.",
        401: "Missing or unknown X-API-Key.",
        403: "The key's role may not use this endpoint.",
        404: "Not found.",
        413: "Request body larger than 1 MiB.",
        422: "Invalid input; detail names the field.",
        429: "Rate limit reached; see Retry-After.",
        503: "Database (or model) unavailable; nothing was stored.",
    }
    return {code: {"model": ErrorOut, "description": reasons[code]} for code in codes}
