"""The contract between the restore state machine's states (statemachine/restore.asl.json).

Models only, no I/O. The execution input is a :class:`RestoreRequest`; from FindBackup on, every
state passes a :class:`RestoreContext` (small: the table schema stays in the backup's manifest in
S3 and is read again where it is needed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from hippolyte.backup_manifest import Throughput
from hippolyte.history_budget import MIN_RESTORE_POLL_SECONDS
from hippolyte.models import Engine, Model, NonNegativeInt, PublishedReport, StateError, TableName


def parse_restore_time(text: str) -> datetime | None:
    """A restore's ``at`` as a UTC time; None for ``latest``.

    Accepted: ISO 8601 (``2026-11-28T00:10:00Z``; without an offset it is UTC), a backup
    directory's name (``2026-11-28-00-10-00``), a date (the *end* of that day, UTC, so that the
    night's backup of that date is included) or ``latest``.

    >>> parse_restore_time("2026-11-28")
    datetime.datetime(2026, 11, 28, 23, 59, 59, tzinfo=datetime.timezone.utc)
    >>> parse_restore_time("2026-11-28-00-10-00").hour, parse_restore_time("latest")
    (0, None)
    >>> parse_restore_time("2026-11-28T02:10:00+02:00").hour
    0
    """
    value = text.strip()
    if value.lower() in ("latest", "now"):
        return None
    for layout in ("%Y-%m-%d-%H-%M-%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
        return parsed.replace(hour=23, minute=59, second=59) if layout == "%Y-%m-%d" else parsed
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use 2026-11-28T00:10:00Z, 2026-11-28 (the end of that day, UTC) or latest"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class BackupListing(Model):
    """One backup of a table, as ``hippolyte backups`` lists it and FindBackup chooses it."""

    table: str
    time: datetime
    location: str
    engine: Engine | None = None
    items: NonNegativeInt | None = None
    bytes: NonNegativeInt | None = None
    verified: bool = False
    # Why the backup cannot be restored (None: it can).
    problem: str | None = None
    manifest_key: str | None = None


class RestoreRequest(Model):
    """The restore state machine's execution input."""

    table: TableName = Field(description="The table whose backup is restored.")
    target: TableName = Field(description="The table the backup is restored into.")
    at: datetime | None = Field(default=None, description="Latest verified backup at or before this time.")
    backup: str | None = Field(default=None, description="s3:// URI of one backup's directory.")
    into_existing: bool = Field(default=False, description="Restore into an existing, empty table.")
    # The floor keeps a restore that polls until its timeout inside Step Functions' history limit.
    poll_seconds: Annotated[int, Field(ge=MIN_RESTORE_POLL_SECONDS, le=3600)] = 120

    @field_validator("at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_restore_time(value) if isinstance(value, str) else value

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("backup")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("s3://") or value.count("/") < 4):
            raise ValueError("must be a backup directory's s3:// URI, s3://<bucket>/<table>/<timestamp>/")
        return value if value is None or value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _one_choice(self) -> RestoreRequest:
        if self.at is not None and self.backup is not None:
            raise ValueError("give either at or backup, not both")
        return self


class CapacitySpec(Model):
    """A table's capacity mode and provisioned throughput, for the table and each global index."""

    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = "PROVISIONED"
    table: Throughput | None = None
    indexes: dict[str, Throughput] = Field(default_factory=dict)


ImportStatus = Literal["not_started", "running", "done"]


class RestoreContext(Model):
    """The small document that travels through the restore state machine."""

    request: RestoreRequest
    execution_id: str
    execution_name: str
    bucket: str
    backup: BackupListing
    target_exists: bool = False
    # What the target's capacity must end as: the original's, or the existing table's own. Set
    # before anything is raised, so that the failure path can always put it back.
    final_capacity: CapacitySpec | None = None
    import_id: str | None = None
    # What runs the import: a Data Pipeline pipeline, an EMR cluster the restore started itself
    # (the emr engine's stacks: no Data Pipeline needed), or DynamoDB's ImportTable.
    import_via: Engine | None = None
    import_status: ImportStatus = "not_started"
    items_restored: NonNegativeInt | None = None
    notes: list[str] = Field(default_factory=list)


class RestoreFailure(Model):
    """Input of the failure path: the failed state's input (with the caught error) and the execution."""

    state: dict[str, Any] = Field(default_factory=dict)
    execution_id: str
    execution_name: str

    @property
    def error(self) -> StateError:
        """The error the Catch caught."""
        error = self.state.get("error")
        return StateError.model_validate(error) if isinstance(error, dict) else StateError()

    @property
    def context(self) -> RestoreContext | None:
        """The restore's context, when the failure came after FindBackup."""
        fields = {key: value for key, value in self.state.items() if key in RestoreContext.model_fields}
        try:
            return RestoreContext.model_validate(fields)
        except ValidationError:
            return None

    @property
    def raw_request(self) -> dict[str, Any]:
        """The execution input as given (FindBackup's input), or the context's request."""
        context = self.context
        if context is not None:
            return context.request.model_dump(mode="json")
        return {key: value for key, value in self.state.items() if key != "error"}


class RestoreReport(PublishedReport):
    """What NotifyRestored and NotifyRestoreFailed send and return."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["SUCCEEDED", "FAILED"]
    table: str | None = None
    target: str | None = None
    backup: str | None = None
    items: NonNegativeInt | None = None
    error: StateError | None = None
