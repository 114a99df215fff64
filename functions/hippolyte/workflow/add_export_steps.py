"""AddExportSteps: hand the emr engine's tables whose turn has come to their batch's cluster.

Runs after every wave. A cluster's first run of tables went with its creation (CreatePipeline);
a later run (hippolyte.emr_job_flows.step_groups) is handed over once
every step before it has ended and ScaleUpReadCapacity has raised its boost: each table's step
reads at the share its capacity allows now. Adding is safe to repeat (Step Functions retries
this Task after its work): a table that already has a step on its cluster is not added again.
"""

from __future__ import annotations

from hippolyte.adapters.emr import add_steps
from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.errors import StepRefusedError
from hippolyte.models import RunContext, RunProgress, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.emr_clusters import step_groups_ready, table_steps
from hippolyte.workflow.run_documents import load_plan
from hippolyte.workflow.time_left import VERIFY_SECONDS, has_time_for_tables


def add_export_steps(rt: Runtime, context: RunContext) -> RunContext:
    """Add the steps of every run of tables that is ready; a cluster that refuses them fails those tables."""
    s3 = rt.client("s3")
    plan = load_plan(s3, context.run)
    progress = load_document(s3, context.run, "progress", RunProgress)
    ready = step_groups_ready(plan, progress)
    if not ready:
        return context
    emr = rt.client("emr")
    for batch, group in ready:
        # Each table's share reads its table and its ledger record: VERIFY_SECONDS covers both.
        if not has_time_for_tables(rt, len(group), seconds_each=VERIFY_SECONDS):
            break
        state = progress.batches[batch.id]
        tables = [table for table in group if table.name not in progress.outcomes]
        try:
            if tables:
                add_steps(emr, state.cluster_id or "", table_steps(rt, context.run, tables))
        except StepRefusedError as error:
            for table in tables:
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name, status="failed", reason=str(error), engine=table.engine
                )
        state.stepped.extend(table.name for table in group if table.name not in state.stepped)
    save_document(s3, context.run, "progress", progress)
    return context
