"""The models the restore's sample events in events/ validate against (used by test_events.py)."""

from __future__ import annotations

from hippolyte.restore_models import RestoreRequest
from pydantic import BaseModel, ConfigDict


class FindBackupEvent(BaseModel):
    """What the restore ASL passes FindBackup: the execution input and the execution's identity."""

    model_config = ConfigDict(extra="forbid")

    input: RestoreRequest
    execution_id: str
    execution_name: str


RESTORE_EVENT_MODELS: dict[str, type[BaseModel]] = {
    "restore": RestoreRequest,
    "find_backup": FindBackupEvent,
}
