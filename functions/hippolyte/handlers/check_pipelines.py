"""CheckPipelines: poll the running pipelines and verify each finished table's files."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.check_pipelines import check_pipelines


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RunContext`; the output's ``status`` drives the loop."""
    result = check_pipelines(Runtime.from_environment(context), RunContext.model_validate(event))
    logger.info("pipelines checked", status=result.status)
    return result.model_dump(mode="json")
