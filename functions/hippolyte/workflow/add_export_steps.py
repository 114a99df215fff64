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
from hippolyte.models import PlannedTable, RunContext, RunProgress, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.emr_clusters import step_groups_ready, table_steps
from hippolyte.workflow.run_documents import load_plan
from hippolyte.workflow.time_left import has_time_for_tables

# What handing one table to its cluster takes: DescribeTable, its ledger record, and its share of
# one AddJobFlowSteps (and the ListSteps before it).
STEP_SECONDS = 2.0


def add_export_steps(rt: Runtime, context: RunContext) -> RunContext:
    """Add the steps of every run of tables that is ready; a cluster that refuses them fails those tables."""
    s3 = rt.client("s3")
    plan = load_plan(s3, context.run)
    progress = load_document(s3, context.run, "progress", RunProgress)
    ready = step_groups_ready(plan, progress)
    if not ready:
        return context
    emr = rt.client("emr")
    # The first table goes ahead whatever the time, so every invocation moves the night on (the
    # loop comes back at once for what is left: see run_loop).
    first = True
    for batch, group in ready:
        state = progress.batches[batch.id]
        tables: list[PlannedTable] = []
        for table in group:
            if table.name in state.stepped:
                continue
            # Its share reads the table and its ledger record: STEP_SECONDS covers both.
            if not first and not has_time_for_tables(rt, len(tables) + 1, seconds_each=STEP_SECONDS):
                break
            first = False
            tables.append(table)
        to_add = [table for table in tables if table.name not in progress.outcomes]
        try:
            if to_add:
                add_steps(emr, state.cluster_id or "", table_steps(rt, context.run, to_add))
        except StepRefusedError as error:
            for table in to_add:
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name, status="failed", reason=str(error), engine=table.engine
                )
        state.stepped.extend(table.name for table in tables)
        if any(table.name not in state.stepped for table in group):
            break  # out of time: the rest of this run, and the other runs, wait for the next invocation
    save_document(s3, context.run, "progress", progress)
    return context
