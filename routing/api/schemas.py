"""Request and response bodies of the HTTP API; the OpenAPI page (/docs) is generated from them.

Field descriptions and examples are the API's documentation: keep them true. Limits come from
`routing.api.limits` so the checks and the documentation cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from routing.api.limits import MAX_BATCH_ITEMS, MAX_LOCATION_CHARS, MAX_TEXT_CHARS
from routing.gazetteer import load_gazetteer, normalize_code
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


def _location(value: str) -> str | None:
    # a blank field is no location; a code must name a region (free text is read as written)
    value = value.strip()
    if not value:
        return None
    code = normalize_code(value)
    if code is not None and load_gazetteer().get(code) is None:
        raise ValueError(f"{value!r} is not a Kemendagri region code (such as 32.73 or 3273)")
    return value


def _jurisdiction_code(value: str) -> str:
    code = normalize_code(value)
    region = load_gazetteer().get(code) if code is not None else None
    if region is None or region.level not in ("provinsi", "kabkota"):
        raise ValueError(
            "not the Kemendagri code of a province or regency/city (such as 32 or 32.73)"
        )
    return region.code


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
LocationText = Annotated[
    str, Field(max_length=MAX_LOCATION_CHARS), Storable, AfterValidator(_location)
]
LOCATION_DESCRIPTION = (
    'Where the complaint is about, from LAPOR!\'s location field: free text ("Kota Bandung", '
    '"kec. Coblong, Bandung") or a Kemendagri code ("32.73" or "3273"), at most '
    f"{MAX_LOCATION_CHARS} characters. It wins over the places the text names; when they "
    "contradict each other the complaint goes to review (location_conflict). A blank one "
    "counts as none; a code that names no region is refused."
)
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
    location: LocationText | None = Field(
        default=None, description=LOCATION_DESCRIPTION, examples=["Kota Bandung"]
    )
    include_similar: bool = Field(
        default=False,
        description=f"Add the {SIMILAR_DEFAULT} most similar past complaints (masked snippets of "
        "other citizens' complaints: ask only where an admin reads them, as the console does).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": EXAMPLE_TEXT,
                    "top_k": 3,
                    "complaint_id": "LAPOR-4821337",
                    "location": "Kota Bandung",
                }
            ]
        },
    )


class BatchItem(_Strict):
    """One complaint of a batch."""

    text: ComplaintText
    complaint_id: ComplaintId = None
    location: LocationText | None = Field(
        default=None, description=LOCATION_DESCRIPTION, examples=["Kota Bandung"]
    )


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

    agency: str = Field(
        description="The agency's name in the model's agency catalogue, for a regional office "
        "the one of the complaint's place (jurisdiction); an agency the catalogue does not "
        "know, or a kind of office whose place is not decided (reason no_jurisdiction), as "
        "the model learned it.",
        examples=["PT PLN (PERSERO)"],
    )
    agency_code: str | None = Field(
        description="The agency's catalogue code (see /v1/agencies); null when it has none.",
        examples=["PLN"],
    )
    confidence: float = Field(
        ge=0.0,
        le=1.0,
        description="Calibrated probability that this agency is right (for a regional office: "
        "that its kind of office is).",
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


class JurisdictionOut(BaseModel):
    """The region the complaint is about: a regency/city or a province."""

    code: str | None = Field(
        description='Kemendagri code ("32.73", "32"); when ambiguous the deepest region '
        'all candidates share ("32" for a bare "Bandung"), null if none.',
        examples=["32.73"],
    )
    name: str | None = Field(description="Official name of `code`.", examples=["KOTA BANDUNG"])
    level: Literal["provinsi", "kabkota"] | None = Field(description="Level of `code`.")
    source: Literal["text", "location"] = Field(
        description="Found in the complaint's text, or given as its `location`."
    )
    evidence: str = Field(
        description="The words as written in the text or location.", examples=["Kota Bandung"]
    )
    candidates: list[str] | None = Field(
        default=None,
        description="Only when ambiguous: the regency/city (or province) codes it may be.",
        examples=[["32.04", "32.73"]],
    )

    @model_serializer(mode="wrap")
    def _candidates_when_ambiguous(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        answer = handler(self)
        if answer.get("candidates") is None:
            answer.pop("candidates", None)
        return answer


class ReasonOut(BaseModel):
    """Why a complaint goes to review; `code` names the reason, the other fields (present
    only for their codes) give its evidence. New codes may appear: treat an unknown one as
    a plain reason to review."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(
        description="'low_confidence': the top confidence is below the threshold; "
        "'ambiguous': the top two agencies are close (within 0.1 and together at least 0.8); "
        "'out_of_scope': unlike the complaints the model was trained on (an agency it does "
        "not know, or not a complaint); 'few_shot': the first suggestion is an agency with "
        "few past complaints, ranked up by similarity; 'no_jurisdiction': the first suggestion "
        "is a kind of regional office and the complaint's place is missing, ambiguous or "
        "contradicted, so which office is not decided; 'location_conflict': the location "
        "given contradicts the place the text names.",
        examples=["low_confidence"],
    )
    confidence: float | None = Field(default=None, description="low_confidence: top confidence.")
    threshold: float | None = Field(default=None, description="low_confidence: its threshold.")
    agencies: list[str] | None = Field(
        default=None, description="ambiguous: the two agencies to choose between."
    )
    score: float | None = Field(default=None, description="out_of_scope: novelty score.")
    cutoff: float | None = Field(
        default=None, description="out_of_scope: the score above which a complaint is flagged."
    )
    agency: str | None = Field(default=None, description="few_shot: the agency ranked up.")
    role: str | None = Field(
        default=None, description="no_jurisdiction: the kind of office suggested."
    )
    candidates: list[str] | None = Field(
        default=None,
        description="no_jurisdiction: codes of the agencies it could be (absent when none).",
    )
    location: str | None = Field(
        default=None, description="location_conflict: the region code of the location given."
    )
    text: str | None = Field(
        default=None, description="location_conflict: the region code the text names."
    )

    @model_serializer(mode="wrap")
    def _only_its_own_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a reason carries the evidence of its code only, not nulls for every other code
        return {k: v for k, v in handler(self).items() if v is not None}


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
    reasons: list[ReasonOut] = Field(
        description="Why the decision is 'review' (one or more); empty for 'auto'.",
        examples=[[{"code": "low_confidence", "confidence": 0.959, "threshold": 0.9694}]],
    )
    jurisdiction: JurisdictionOut | None = Field(
        description="The place the complaint is about (the location's when one was given); "
        "null when no place was found or the model has no agency catalogue."
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
    jurisdiction: (
        Annotated[str, Field(max_length=20), Storable, AfterValidator(_jurisdiction_code)] | None
    ) = Field(
        default=None,
        description="The Kemendagri code of the province or regency/city the complaint is "
        'really about, when the prediction\'s jurisdiction was wrong or missing ("32.73" or '
        '"3273"; stored dotted).',
        examples=["32.73"],
    )


class FeedbackOut(BaseModel):
    feedback_id: str = Field(description="Id of the stored decision.")
    accepted: bool = Field(description="Whether the chosen agency was the top suggestion.")


class AgencyOut(BaseModel):
    agency: str = Field(description="Agency name as the model suggests it.")
    agency_code: str | None = Field(
        description="Its catalogue code; null for an agency the catalogue does not know."
    )
    level: Literal["pusat", "provinsi", "kabkota"] | None = Field(
        description="Level of government: national, provincial, regency/city; null when unknown."
    )
    region: str | None = Field(
        description="Kemendagri code of its province or regency/city; null for national ones."
    )
    role: str | None = Field(
        description='The kind of regional office ("DINAS PU", "PEMKAB/PEMKOT"); null '
        "for national agencies."
    )


class AgenciesOut(BaseModel):
    """The agencies the served model can suggest: the national agencies it learned, every
    office of the kinds of regional office it learned, and the governments of every province
    and regency/city it can fall back to."""

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
    signed: bool = Field(
        description="Whether the bundle's signature was verified with the service's signing "
        "key (ROUTING_SIGNING_KEY); false: the service runs an unverified bundle."
    )


class StatsGroupOut(BaseModel):
    predictions: int = Field(description="Predictions served.")
    decisions: int = Field(description="Of those, predictions that received feedback.")
    accepted: int = Field(description="Decisions whose latest feedback kept the top suggestion.")
    acceptance_rate: float | None = Field(description="accepted / decisions; null without any.")


class StatsOut(StatsGroupOut):
    """How often admins accept the suggestions, overall and split up."""

    by_decision: dict[str, StatsGroupOut] = Field(description="Split by 'auto' / 'review'.")
    by_reason: dict[str, StatsGroupOut] = Field(
        description="Reviews split by reason code (a prediction with two reasons counts in "
        "both); predictions stored before reasons were recorded are not counted here."
    )
    by_agency: dict[str, StatsGroupOut] = Field(description="Split by top suggested agency.")
    by_model_version: dict[str, StatsGroupOut] = Field(description="Split by model version.")


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    status: Literal["ready", "degraded"] = Field(
        default="ready",
        description='"degraded": a model serves, but the last reload was refused (admins read '
        "why at /v1/admin/readiness).",
    )
    model_version: str = Field(description="The version serving requests now.")
    batch_workers: int = Field(
        default=0,
        description="Batch worker processes holding the served version now "
        "(ROUTING_BATCH_WORKERS; large batches are shared with them once they are ready).",
    )


class ReadinessOut(BaseModel):
    """GET /v1/admin/readiness: the state /readyz shows, with the reasons behind it."""

    model_config = ConfigDict(protected_namespaces=())

    status: Literal["ready", "degraded", "unready"]
    model_version: str | None = Field(description="The version serving requests, if any.")
    batch_workers: int = Field(description="Batch worker processes holding that version.")
    problem: str | None = Field(
        description="What is wrong, as /readyz says it; null when ready.",
        examples=["database not writable"],
    )
    detail: str | None = Field(
        description="Why: the error behind the problem (may name files and hosts).",
        examples=["OperationalError: attempt to write a readonly database"],
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
