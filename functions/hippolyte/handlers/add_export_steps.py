"""AddExportSteps: add the export steps of the emr engine's tables whose turn has come."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.add_export_steps import add_export_steps


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RunContext`."""
    return add_export_steps(Runtime.from_environment(context), RunContext.model_validate(event)).model_dump(mode="json")
