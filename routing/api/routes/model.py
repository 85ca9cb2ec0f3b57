"""GET /v1/model: what the served bundle is and how well it validated."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from routing.api.deps import ModelDep, require_integration
from routing.api.schemas import ModelOut, ValidationMetricsOut, error_responses

router = APIRouter(
    prefix="/v1",
    tags=["model"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(401, 403, 429),
)


@router.get("/model", summary="The served model")
async def model_summary(model: ModelDep) -> ModelOut:
    """Version, training date, validation metrics and decision threshold of the model."""
    bundle = model.bundle
    manifest: dict[str, Any] = bundle.manifest
    validation = (manifest.get("metrics") or {}).get("validation")
    rows = (manifest.get("training_data") or {}).get("rows_used")
    return ModelOut(
        model_version=bundle.model_version,
        created_at=manifest.get("created_at"),
        threshold=bundle.policy.threshold,
        target_precision=bundle.policy.target_precision,
        bound_confidence=bundle.policy.bound_confidence,
        threshold_lower_bound=bundle.policy.threshold_lower_bound,
        thresholds=bundle.policy.thresholds,
        labels=len(bundle.labels),
        training_rows=rows,
        metrics=ValidationMetricsOut.model_validate(validation) if validation else None,
    )
