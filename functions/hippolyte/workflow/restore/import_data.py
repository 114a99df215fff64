"""ImportData: start the EMR import (DynamoDBImport) into the target: an import pipeline, or a cluster.

For backups in the export tool's format (the datapipeline and emr engines'), after
RaiseWriteCapacity (and CreateTargetTable, unless the target is an existing, empty table). A stack
on the datapipeline engine creates a Data Pipeline pipeline; any other runs the same tool as one
step of an EMR cluster of its own, so an account without Data Pipeline restores too. The start is
idempotent per execution: the pipeline's uniqueId, or the cluster's name, is derived from the
execution, so a retried state finds what it created.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import create_and_activate
from hippolyte.adapters.emr import start_cluster
from hippolyte.emr_job_flows import MANAGED_POLICY_TAG, import_step, job_flow_request
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import IMPORT_WRITE_PERCENT, import_pipeline_objects
from hippolyte.runtime import Runtime
from hippolyte.workflow.pipeline_cluster import cluster_settings, emr_cluster_settings

# The restore polls its import every few minutes; the cluster ends with its one step anyway, and
# the idle timeout only covers a cluster left without it.
RESTORE_POLL_SECONDS = 300


def start_import(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Start DynamoDBImport into the target: by pipeline on a datapipeline stack, else by cluster."""
    if rt.settings.engine == "datapipeline":
        return start_import_pipeline(rt, context)
    return start_import_cluster(rt, context)


def _log_uri(context: RestoreContext) -> str:
    return f"s3://{context.bucket}/runs/restore-{context.execution_name}/logs/"


def _tags(rt: Runtime, context: RestoreContext) -> dict[str, str]:
    # hippolyte:stage is what the stack's IAM policies scope Data Pipeline and EMR by (template.yaml).
    return {
        "hippolyte:stage": rt.settings.stage,
        "hippolyte:restore": context.execution_name,
        "hippolyte:target": context.request.target,
    }


def start_import_pipeline(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Create and activate the pipeline whose EMR step runs DynamoDBImport into the target."""
    target = context.request.target
    objects = import_pipeline_objects(context.backup.location, target, _log_uri(context), cluster_settings(rt))
    pipeline_id = create_and_activate(
        rt.client("datapipeline"),
        f"hippolyte-{rt.settings.stage}-restore-{target}",
        f"hippolyte-restore-{context.execution_name}"[:1024],
        objects,
        _tags(rt, context),
    )
    return context.model_copy(
        update={"import_id": pipeline_id, "import_via": "datapipeline", "import_status": "running"}
    )


def start_import_cluster(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Start a cluster whose one step runs DynamoDBImport into the target; it ends with the step."""
    target = context.request.target
    step = import_step(rt.settings.export_jar_for(rt.region), context.backup.location, target, IMPORT_WRITE_PERCENT)
    request = job_flow_request(
        f"hippolyte-{rt.settings.stage}-restore-{context.execution_name}",
        emr_cluster_settings(rt, RESTORE_POLL_SECONDS),
        _log_uri(context),
        {**_tags(rt, context), **MANAGED_POLICY_TAG},
        [step],
        keep_alive=False,
    )
    cluster_id = start_cluster(rt.client("emr"), request, created_after=None)
    return context.model_copy(update={"import_id": cluster_id, "import_via": "emr", "import_status": "running"})
