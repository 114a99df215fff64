"""CheckImport: one look at the running import, an EMR import pipeline or DynamoDB's ImportTable.

The WaitForImport / CheckImport loop runs until the import is done; a failed import raises
RestoreImportFailedError, which the state machine's Catch sends to StopImportAndLowerCapacity.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import delete_pipeline, pipeline_runs
from hippolyte.adapters.imports import describe_import
from hippolyte.errors import RestoreImportFailedError
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime


def check_import(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """One look at the import: still running, done, or failed (RestoreImportFailedError)."""
    import_id = context.import_id or ""
    if context.backup.engine == "export":
        description = describe_import(rt.client("dynamodb"), import_id)
        status = description.get("ImportStatus")
        if status in ("FAILED", "CANCELLED"):
            raise RestoreImportFailedError(
                f"ImportTable {import_id} ended {status}: {description.get('FailureCode') or 'no code'}: "
                f"{description.get('FailureMessage') or 'no message'}"
            )
        if status != "COMPLETED":
            return context.model_copy(update={"import_status": "running"})
        return context.model_copy(
            update={"import_status": "done", "items_restored": description.get("ImportedItemCount")}
        )
    datapipeline = rt.client("datapipeline")
    run = dict(pipeline_runs(datapipeline, [import_id])).get(import_id)
    if run is not None and not run.ended:
        return context.model_copy(update={"import_status": "running"})
    # The pipeline's logs stay in the bucket (pipelineLogUri); the pipeline itself holds a slot
    # of the account's 100 and goes once it has ended.
    delete_pipeline(datapipeline, import_id)
    if run is None or not run.succeeded:
        raise RestoreImportFailedError(
            f"import pipeline {import_id} ended {run.describe() if run is not None else 'deleted'}; "
            f"its logs are under s3://{context.bucket}/runs/restore-{context.execution_name}/logs/"
        )
    return context.model_copy(update={"import_status": "done"})
