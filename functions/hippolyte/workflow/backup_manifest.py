"""Writing a verified backup's ``hippolyte-manifest.json`` (both engines).

Called by CheckPipelines when a table's backup has just been verified: the Data Pipeline engine
from ``workflow/check_pipelines.py``, the native export engine from ``workflow/native_export.py``.
The schema is read from the live table at that moment (DescribeTable, DescribeTimeToLive,
ListTagsOfResource); the data files are recorded with their size and ETag so that a later change
to them is noticed before a restore (see :func:`hippolyte.backup_manifest.intact_problem`).
"""

from __future__ import annotations

from hippolyte.adapters.backup_catalog import list_prefix, put_manifest, read_table_schema_parts
from hippolyte.adapters.backup_files import MANIFEST, SUCCESS_MARKER, BackupCheck, manifest_urls, split_s3_uri
from hippolyte.adapters.rate_limit import RateLimiter
from hippolyte.backup_manifest import (
    BackupFacts,
    BackupManifest,
    DataFile,
    TableSchema,
    manifest_key,
    normalise_etag,
    schema_from_description,
)
from hippolyte.discovery_pages import TABLES_BURST, TABLES_PER_SECOND
from hippolyte.export_format import ExportCheck
from hippolyte.models import RunRef, TableOutcome
from hippolyte.runtime import Runtime


def _pipeline_files(rt: Runtime, directory: str, check: BackupCheck | None) -> tuple[list[DataFile], list[str]]:
    """The EMR export's data files (from its ``manifest``) and the files that must exist.

    A ``check`` that has just listed them gives them as it saw them: no second listing.
    """
    s3 = rt.client("s3")
    bucket, prefix = split_s3_uri(directory)
    required = [prefix + SUCCESS_MARKER, prefix + MANIFEST]
    if check is not None and check.complete:
        return list(check.listed_files), required
    listing = list_prefix(s3, bucket, prefix)
    files = []
    for url in manifest_urls(s3, bucket, prefix):
        key = split_s3_uri(url)[1]
        size, etag = listing[key]
        files.append(DataFile(key=key, size=size, etag=normalise_etag(etag)))
    return files, required


def _without_boost(schema: TableSchema, raised_rcu: int) -> TableSchema:
    """The schema with the read capacity the table has without this run's boost."""
    if not raised_rcu or schema.throughput is None:
        return schema
    original = schema.throughput.read_capacity_units - raised_rcu
    throughput = schema.throughput.model_copy(update={"read_capacity_units": max(1, original)})
    return schema.model_copy(update={"throughput": throughput})


def table_reads_limiter(rt: Runtime) -> RateLimiter:
    """One invocation's pace for reading tables' descriptions and tags: discovery's rate."""
    return RateLimiter(TABLES_PER_SECOND, TABLES_BURST, rt.clock, rt.sleep)


def write_backup_manifest(
    rt: Runtime,
    run: RunRef,
    outcome: TableOutcome,
    *,
    export: ExportCheck | None = None,
    export_arn: str | None = None,
    raised_rcu: int = 0,
    table_reads: RateLimiter | None = None,
    checked: BackupCheck | None = None,
) -> str:
    """Write the manifest of one verified backup next to its data; returns its key.

    ``raised_rcu`` is the read capacity this run added to the table (RunProgress.raised): the
    table is described while its backup may still hold the boost, and the manifest records the
    capacity the table has without it, the one a restore must give the new table.
    ``table_reads`` paces the table's ListTagsOfResource calls (metered per account) when a caller
    writes many manifests in one invocation. ``checked`` is the EMR export's check
    that just verified the directory, whose listing the manifest reuses.
    """
    directory = outcome.s3_path or ""
    if export is not None:
        data_files, required = export.data_files, export.required_files
    else:
        data_files, required = _pipeline_files(rt, directory, checked)
    pace = table_reads.acquire if table_reads is not None else None
    parts = read_table_schema_parts(rt.client("dynamodb"), outcome.name, pace)
    facts = BackupFacts(
        time=run.started_at,
        run_id=run.run_id,
        engine=outcome.engine,
        items=outcome.items,
        bytes=outcome.bytes or 0,
        location=directory,
        data_files=data_files,
        required_files=required,
        export_arn=export_arn,
        export_time=export.export_time if export else None,
        verified=True,
        verified_at=rt.clock(),
    )
    schema = _without_boost(schema_from_description(*parts), raised_rcu) if parts else None
    manifest = BackupManifest(table=schema, backup=facts)
    key = manifest_key(outcome.name, run.started_at)
    put_manifest(rt.client("s3"), run.bucket, key, manifest)
    return key
