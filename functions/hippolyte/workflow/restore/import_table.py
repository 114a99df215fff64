"""ImportTable: DynamoDB's own import of a native export, into a new table shaped like the original.

ImportTable creates the table itself, so this path has no CreateTargetTable. The start is
idempotent per execution: ImportTable's ClientToken is derived from the execution, so a retried
state finds the import it started.
"""

from __future__ import annotations

import uuid

from hippolyte.adapters.imports import start_import
from hippolyte.backup_manifest import import_table_parameters
from hippolyte.errors import BackupNotRestorableError
from hippolyte.export_format import EXPORT_DIRECTORY, export_id
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import capacity_of
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore import load_manifest


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
    import_arn = start_import(
        rt.client("dynamodb"),
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"hippolyte:import:{context.execution_id}")),
        context.bucket,
        data_prefix,
        parameters,
    )
    return context.model_copy(
        update={
            "import_id": import_arn,
            "import_via": "export",
            "import_status": "running",
            "final_capacity": capacity_of(schema),
        }
    )
