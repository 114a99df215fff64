"""How fresh every expected table's newest verified backup is, kept between runs in the bucket.

NotifyResult and NotifyFailure fold the run's outcomes into the record (``runs/freshness.json``)
and report the tables without a fresh backup; the hourly reconcile reads the record again, so a
night that never ran, or never reached its notification, still makes the tables stale as the
hours pass. Both publish the count as the TablesWithoutFreshBackup metric, which has an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable

from hippolyte.adapters.backup_catalog import newest_verified_backup
from hippolyte.adapters.run_store import load_stored, store
from hippolyte.freshness import Freshness, FreshnessRecord, assess_record, expected_tables, record_run
from hippolyte.models import Inventory, TableOutcome
from hippolyte.runtime import Runtime

# Beside the runs' own documents (``runs/<execution>/``): an execution cannot be named
# ``freshness.json/...``, so no run's prefix holds this key.
FRESHNESS_KEY = "runs/freshness.json"


def update_freshness(rt: Runtime, inventory: Inventory, outcomes: Iterable[TableOutcome]) -> Freshness:
    """Fold one run's outcomes into the stored record, store it, and assess it now."""
    s3, bucket = rt.client("s3"), rt.settings.backup_bucket
    previous = load_stored(s3, bucket, FRESHNESS_KEY, FreshnessRecord)
    outcomes = list(outcomes)
    backed_up = {outcome.name for outcome in outcomes if outcome.status == "backed_up"}
    known = set(previous.newest_backups) if previous is not None else set()
    # A table the record has never seen, and the run did not back up, may still have an older
    # verified backup in the bucket (the first run after an upgrade, a table Hippolyte backed up
    # before the record existed): read its newest one rather than call it never backed up.
    found = {}
    for table in expected_tables(inventory):
        if table not in known and table not in backed_up:
            listing = newest_verified_backup(s3, bucket, table)
            found[table] = listing.time if listing is not None else None
    now = rt.clock()
    record = record_run(previous, inventory, outcomes, now, whole_account=inventory.whole_account, found=found)
    store(s3, bucket, FRESHNESS_KEY, record)
    return assess_record(record, now, rt.settings.freshness_hours)


def current_freshness(rt: Runtime) -> Freshness | None:
    """The stored record assessed now; None before any run has reported."""
    record = load_stored(rt.client("s3"), rt.settings.backup_bucket, FRESHNESS_KEY, FreshnessRecord)
    return None if record is None else assess_record(record, rt.clock(), rt.settings.freshness_hours)
