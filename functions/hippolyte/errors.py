"""Named errors. Lambda reports an exception's class name as the error type, so the state
machine's Retry and Catch route on these names (see statemachine/backup.asl.json)."""


class HippolyteError(Exception):
    """Base of every error Hippolyte raises on purpose."""


class InvalidExecutionInputError(HippolyteError):
    """The execution input does not validate; the message names the field."""


class ConfigurationError(HippolyteError):
    """A stack parameter (environment variable) is invalid; the message names it."""


class UnknownTableError(HippolyteError):
    """An execution input names a table that does not exist."""


class InvalidInventoryError(HippolyteError):
    """An inventory file cannot be read as DescribeTable output."""


class RunDocumentMissingError(HippolyteError):
    """A run's document (inventory, plan, progress) is not in the backup bucket."""


class PipelineLimitReachedError(HippolyteError):
    """Data Pipeline refused to create a pipeline at the account's pipeline limit."""


class PipelineCreationError(HippolyteError):
    """Data Pipeline rejected a pipeline definition or its activation."""


class ClusterCreationError(HippolyteError):
    """EMR refused to start a batch's cluster (RunJobFlow): a role, instance type or release it rejects."""


class StepRefusedError(HippolyteError):
    """EMR refused to add steps to a batch's cluster (AddJobFlowSteps): the cluster has ended, or is full."""


class CapacityUpdateRefusedError(HippolyteError):
    """DynamoDB refused a capacity change (UpdateTable).

    ``code`` is AWS's error code (or this error's class name), ``table_gone`` says the table was
    deleted, and ``limited`` that an account or table limit refused it (worth trying much later).
    """

    def __init__(self, message: str, code: str, *, table_gone: bool = False, limited: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.table_gone = table_gone
        self.limited = limited


class CapacityUpdateThrottledError(CapacityUpdateRefusedError):
    """DynamoDB kept refusing UpdateTable with LimitExceededException after retries."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type(self).__name__, limited=True)


class ExportRefusedError(HippolyteError):
    """DynamoDB refused to start an export (ExportTableToPointInTime); ``code`` and ``reason`` say why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class ExportLimitReachedError(ExportRefusedError):
    """DynamoDB refused an export at the account's limit of exports in flight."""


class ExecutionStatusUnknownError(HippolyteError):
    """Step Functions did not say whether an execution still runs (throttled, denied, unavailable)."""


class RunAlreadyRunningError(HippolyteError):
    """Another live run holds the lease on tables this run would back up."""


class BackupNotFoundError(HippolyteError):
    """No verified backup matches what a restore asked for."""


class RestoreTargetExistsError(HippolyteError):
    """The restore's target table exists (and --into-existing was not given, or it is not empty)."""


class RestoreVerificationError(HippolyteError):
    """The restored table's item count differs from the backup's manifest."""


# --------------------------------------------------------------------------------------------
# Restore. The restore state machine (statemachine/restore.asl.json) routes on these.
# --------------------------------------------------------------------------------------------


class InvalidRestoreRequestError(HippolyteError):
    """The restore's input does not validate (a bad time, a bad S3 URI); the message names the field."""


class BackupNotRestorableError(HippolyteError):
    """The chosen backup cannot be restored the way it was asked (the message says why)."""


class TargetTableNotReadyError(HippolyteError):
    """The restore's target table is not ACTIVE yet; the state machine retries the step."""


class RestoreImportFailedError(HippolyteError):
    """The import (pipeline or ImportTable) ended without loading the backup."""


class InvalidExportLineError(HippolyteError):
    """A data line is not an item as the EMR export tool writes it: DynamoDBImport could not restore it."""


class UnexportableItemError(HippolyteError):
    """An item cannot be written as the EMR export tool's line (not DynamoDB's shape, or an order not emulated)."""


class InvalidExecutionEventError(HippolyteError):
    """The event is not a Step Functions execution status change the rule would pass on."""


class ExecutionDetailsUnavailableError(HippolyteError):
    """DescribeExecution did not answer (throttled, denied, the execution's history expired)."""


class MarkerUnreadableError(HippolyteError):
    """S3 answered neither "there" nor "not there" for a marker (denied, unavailable)."""
