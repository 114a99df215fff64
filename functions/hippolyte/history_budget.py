"""How many execution-history events a night (or a restore) can use, and the poll floor that follows.

Pure. A Standard execution keeps at most 25,000 history events; one that would need more fails,
and no Catch can help it (AWS Step Functions Developer Guide, "Step Functions service quotas":
"Maximum execution history size: 25,000 events in a single state machine execution history").
Every poll of the loop writes a fixed number of events, so the shortest poll interval decides
whether a night that runs until its execution timeout stays inside the budget. Event counts per
state follow the history event types Step Functions writes: a Lambda Task state writes
TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded and TaskStateExited (5); a Wait or
Choice state writes its Entered and Exited events (2); a Map iteration writes
MapIterationStarted and MapIterationSucceeded around its Task's 5.

Discovery's pages are counted once (DiscoverTables and TablesLeftToDiscover in
BACKUP_FIXED_EVENTS): every page but the last ends because its invocation has used the half of its
time it plans for (hippolyte.runtime, TIME_RESERVE_SHARE), about 450 s, and a page's 7 events take
the place of the polls that cannot happen in those seconds (at least 3 polls of 14 events, at the
floor). A 10,000-table account takes 6 pages: 42 events, measured by ``make bench-scale``.
"""

from __future__ import annotations

EXECUTION_HISTORY_LIMIT = 25_000
TASK_EVENTS = 5
PASS_THROUGH_EVENTS = 2
MAP_STATE_EVENTS = 4  # MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited
MAP_ITERATION_EVENTS = 2 + TASK_EVENTS

# The backup loop: WaitForPipelines, CheckPipelines, ScaleDownReadCapacity, AllBackupsDone.
BACKUP_EVENTS_PER_POLL = PASS_THROUGH_EVENTS + 2 * TASK_EVENTS + PASS_THROUGH_EVENTS
# A wave: ScaleUpReadCapacity, the CreatePipelines Map (its iterations are counted per batch) and
# AddExportSteps, entered from AllBackupsDone. The emr engine takes the same trip for each boost
# it raises after its batch's start (hippolyte.emr_job_flows.just_in_time_boosts).
BACKUP_EVENTS_PER_WAVE = TASK_EVENTS + MAP_STATE_EVENTS + TASK_EVENTS
# Everything else, once per night: execution start and end, DiscoverTables, PlanBatches, the
# first AllBackupsDone, NotifyResult, AnyBackupFailed and the final state, with room for the
# failure path (RestoreCapacityAfterFailure, NotifyFailure, BackupFailed).
BACKUP_FIXED_EVENTS = 2 + 4 * TASK_EVENTS + 4 * PASS_THROUGH_EVENTS + 2 * TASK_EVENTS + PASS_THROUGH_EVENTS
# The restore loop: WaitForImport, CheckImport, ImportFinished.
RESTORE_EVENTS_PER_POLL = PASS_THROUGH_EVENTS + TASK_EVENTS + PASS_THROUGH_EVENTS
# Every other restore state at most once, and the failure path.
RESTORE_FIXED_EVENTS = 2 + 12 * TASK_EVENTS + 6 * PASS_THROUGH_EVENTS

# The executions' own limits (TimeoutSeconds in statemachine/*.asl.json; a test keeps them equal).
BACKUP_TIMEOUT_SECONDS = 86_400
RESTORE_TIMEOUT_SECONDS = 172_800

# The shortest poll intervals a night or a restore may ask for, and the most starts one night may
# make (a batch, or a boost the emr engine raises after its batch's start);
# worst_case_backup_events(MIN_POLL_SECONDS, MAX_STARTS_PER_NIGHT) stays in budget.
MIN_POLL_SECONDS = 120
MIN_RESTORE_POLL_SECONDS = 90
MAX_STARTS_PER_NIGHT = 640


def worst_case_backup_events(poll_seconds: int, starts: int) -> int:
    """Events of a night that polls until its timeout and makes each start in its own wave.

    >>> worst_case_backup_events(120, 640) <= EXECUTION_HISTORY_LIMIT
    True
    >>> worst_case_backup_events(0 + 1, 1) > EXECUTION_HISTORY_LIMIT
    True
    """
    polls = BACKUP_TIMEOUT_SECONDS // max(poll_seconds, 1)
    return (
        BACKUP_FIXED_EVENTS
        + polls * BACKUP_EVENTS_PER_POLL
        + starts * (BACKUP_EVENTS_PER_WAVE + MAP_ITERATION_EVENTS + PASS_THROUGH_EVENTS)
    )


def worst_case_restore_events(poll_seconds: int) -> int:
    """Events of a restore that polls its import until its timeout.

    >>> worst_case_restore_events(90) <= EXECUTION_HISTORY_LIMIT
    True
    """
    return RESTORE_FIXED_EVENTS + RESTORE_TIMEOUT_SECONDS // max(poll_seconds, 1) * RESTORE_EVENTS_PER_POLL
