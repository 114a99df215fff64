"""ImportData (an EMR import pipeline), ImportTable (DynamoDB's own import), and CheckImport.

Both starts are idempotent per execution: the pipeline's uniqueId and ImportTable's ClientToken
are derived from the execution, so a retried state finds the import it started.
"""

from __future__ import annotations

import uuid

from hippolyte.adapters.datapipeline import create_and_activate, delete_pipeline, pipeline_runs
from hippolyte.backup_manifest import import_table_parameters
from hippolyte.errors import BackupNotRestorableError, RestoreImportFailedError
from hippolyte.export_format import EXPORT_DIRECTORY, export_id
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import capacity_of, import_pipeline_objects
from hippolyte.runtime import Runtime
from hippolyte.workflow.create_batch import cluster_settings
from hippolyte.workflow.restore import load_manifest


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


def import_table(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """ImportTable from the export's ``data/`` directory into a new table shaped like the original."""
    manifest, schema = load_manifest(rt, context)
    if not manifest.backup.export_arn:
        raise BackupNotRestorableError(f"{context.backup.location}: the manifest names no export")
    try:
        parameters = import_table_parameters(schema, context.request.target)
    except ValueError as error:
        raise BackupNotRestorableError(f"{context.backup.location}: {error}") from None
    prefix = context.backup.location.removeprefix(f"s3://{context.bucket}/")
    data_prefix = f"{prefix}{EXPORT_DIRECTORY}/{export_id(manifest.backup.export_arn)}/data/"
    description = rt.client("dynamodb").import_table(
        ClientToken=str(uuid.uuid5(uuid.NAMESPACE_URL, f"hippolyte:import:{context.execution_id}")),
        S3BucketSource={"S3Bucket": context.bucket, "S3KeyPrefix": data_prefix},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters=parameters,
    )["ImportTableDescription"]
    return context.model_copy(
        update={
            "import_id": description["ImportArn"],
            "import_status": "running",
            "final_capacity": capacity_of(schema),
        }
    )


def check_import(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """One look at the import: still running, done, or failed (RestoreImportFailedError)."""
    import_id = context.import_id or ""
    if context.backup.engine == "export":
        description = rt.client("dynamodb").describe_import(ImportArn=import_id)["ImportTableDescription"]
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
