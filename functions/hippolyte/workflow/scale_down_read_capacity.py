"""ScaleDownReadCapacity: put each table's capacity back as soon as its own backup has ended.

Runs after every poll, not only at the end of the night. A restore DynamoDB refuses now (the
table is still UPDATING, or the daily decrease limit is reached) stays pending with its reason;
the run retries briefly, and the reconcile job finishes it later. Tables an invocation has no
time for stay raised and are put back on the next poll.
"""

from __future__ import annotations

from datetime import timedelta

from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.models import RunContext, RunProgress, RunRef
from hippolyte.runtime import Runtime
from hippolyte.workflow.run_documents import load_plan
from hippolyte.workflow.run_loop import loop_status
from hippolyte.workflow.table_capacity import record_restore, restore_tables

# At the end of the run, a restore that only waits for the table to be ACTIVE again is retried
# on the run's own poll this many times before it is left to the reconcile job.
END_OF_RUN_RESTORE_ROUNDS = 10
SHORT_WAIT = timedelta(minutes=5)


def restore_finished_tables(rt: Runtime, run: RunRef, progress: RunProgress, only_finished: bool = True) -> bool:
    """Restore every raised table whose backup has ended (or all of them); updates ``progress``.

    Returns False when the invocation ran short of time: the tables it did not reach stay raised
    for the next poll.
    """
    now = rt.clock()
    due = [
        name
        for name in sorted(progress.raised)
        if (name in progress.outcomes or not only_finished)
        and (name not in progress.capacity_pending or (progress.capacity_pending[name].retry_after or now) <= now)
    ]
    if not due:
        return True
    ledger = rt.ledger()
    entries = []
    for name in due:
        entry = ledger.get(name, run.run_id)
        if entry is None or not entry.is_open:
            progress.raised.pop(name, None)
            continue
        entries.append(entry)
    reached = True
    for entry, result in zip(entries, restore_tables(rt, ledger, entries, now), strict=True):
        if result is None:
            reached = False
        else:
            record_restore(progress, entry.table_name, result)
    return reached


def scale_down_finished(rt: Runtime, context: RunContext) -> RunContext:
    """Restore what has finished, then tell the loop what to do next."""
    s3 = rt.client("s3")
    plan = load_plan(s3, context.run)
    progress = load_document(s3, context.run, "progress", RunProgress)
    reached = restore_finished_tables(rt, context.run, progress)
    status = loop_status(rt, plan, progress)
    if status == "done" and not reached:
        # Tables this invocation had no time for are still raised: the loop comes back for them
        # before it reports (NotifyResult must never see a boost nobody tried to put back).
        status = "start_next"
    elif status == "done" and progress.raised:
        soon = rt.clock() + SHORT_WAIT
        waiting_briefly = any(
            note.retry_after is not None and note.retry_after <= soon for note in progress.capacity_pending.values()
        )
        if waiting_briefly and progress.restore_rounds < END_OF_RUN_RESTORE_ROUNDS:
            progress.restore_rounds += 1
            status = "waiting"
    save_document(s3, context.run, "progress", progress)
    return context.model_copy(update={"status": status})
