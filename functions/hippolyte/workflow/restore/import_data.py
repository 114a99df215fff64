"""ImportData: create and activate the EMR import pipeline (DynamoDBImport) into the target.

For Data Pipeline backups, after RaiseWriteCapacity (and CreateTargetTable, unless the target is
an existing, empty table). The start is idempotent per execution: the pipeline's uniqueId is
derived from the execution, so a retried state finds the pipeline it created.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import create_and_activate
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import import_pipeline_objects
from hippolyte.runtime import Runtime
from hippolyte.workflow.pipeline_cluster import cluster_settings


def start_import_pipeline(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Create and activate the pipeline whose EMR step runs DynamoDBImport into the target."""
    target = context.request.target
    objects = import_pipeline_objects(
        context.backup.location,
        target,
        f"s3://{context.bucket}/runs/restore-{context.execution_name}/logs/",
        cluster_settings(rt),
    )
    pipeline_id = create_and_activate(
        rt.client("datapipeline"),
        f"hippolyte-{rt.settings.stage}-restore-{target}",
        f"hippolyte-restore-{context.execution_name}"[:1024],
        objects,
        # hippolyte:stage is what the stack's IAM policies scope Data Pipeline by (template.yaml).
        {"hippolyte:stage": rt.settings.stage, "hippolyte:restore": context.execution_name, "hippolyte:target": target},
    )
    return context.model_copy(update={"import_id": pipeline_id, "import_status": "running"})
