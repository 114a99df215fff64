"""CheckImport: one look at the running import: an EMR import pipeline, an EMR cluster, or DynamoDB's ImportTable.

The WaitForImport / CheckImport loop runs until the import is done; a failed import raises
RestoreImportFailedError, which the state machine's Catch sends to StopImportAndLowerCapacity.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import delete_pipeline, pipeline_runs
from hippolyte.adapters.emr import cluster_status, cluster_steps
from hippolyte.adapters.imports import describe_import
from hippolyte.emr_job_flows import CLUSTER_ENDED_STATES, STEP_SUCCEEDED
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
    if context.import_via == "emr":
        return _check_cluster(rt, context, import_id)
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


def _check_cluster(rt: Runtime, context: RestoreContext, cluster_id: str) -> RestoreContext:
    """The import cluster's one step: running, completed, or ended otherwise. The cluster ends
    itself with its step (it was started without KeepJobFlowAliveWhenNoSteps)."""
    emr = rt.client("emr")
    status = cluster_status(emr, cluster_id)
    step = cluster_steps(emr, cluster_id).get(context.request.target) if status is not None else None
    if step is not None and step.state == STEP_SUCCEEDED:
        return context.model_copy(update={"import_status": "done"})
    cluster_ended = status is None or status.state in CLUSTER_ENDED_STATES
    if not cluster_ended and (step is None or not step.ended):
        return context.model_copy(update={"import_status": "running"})
    step_part = f"its step ended {step.state}: {step.reason or 'no reason given'}" if step else "it has no import step"
    cluster_part = status.describe() if status is not None else "GONE"
    raise RestoreImportFailedError(
        f"import cluster {cluster_id} ({cluster_part}): {step_part}; "
        f"its logs are under s3://{context.bucket}/runs/restore-{context.execution_name}/logs/"
    )
