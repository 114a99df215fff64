"""The restore's first handler under moto, invoked as Lambda would with the sample events of
``events/`` (so that they stay valid): FindBackup chooses the backup and refuses bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hippolyte.adapters import clients
from hippolyte.errors import InvalidRestoreRequestError
from hippolyte.handlers import find_backup
from hippolyte.restore_models import RestoreContext, RestoreRequest
from hippolyte_local.lambda_runtime import LocalLambdaContext
from moto import mock_aws

from tests.functional.test_backups_cli import BUCKET, REGION, put_backup

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTEXT = LocalLambdaContext(
    "hippolyte-dev-RestoreFindBackupFunction",
    f"arn:aws:lambda:{REGION}:123456789012:function:hippolyte-dev-RestoreFindBackupFunction",
)


def event(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "BACKUP_BUCKET": BUCKET,
        "STAGE": "dev",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        clients.reset()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3
        clients.reset()


def test_the_sample_execution_input_is_a_valid_restore_request() -> None:
    request = RestoreRequest.model_validate(event("restore"))
    assert (request.table, request.target, request.at.isoformat()) == (
        "orders",
        "orders-restored",
        "2026-11-28T00:10:00+00:00",
    )


def test_find_backup_chooses_the_latest_verified_backup_at_or_before_the_time(stack: Any) -> None:
    # GIVEN backups of the 27th, the 28th (00:10:05, after the asked time) and the 26th
    for day in (26, 27, 28):
        put_backup(stack, "orders", day)
    # WHEN FindBackup runs with the sample event (at 2026-11-28T00:10:00Z)
    result = RestoreContext.model_validate(find_backup.lambda_handler(event("find_backup"), CONTEXT))
    # THEN the 27th's backup is chosen, for a new table
    assert result.backup.location == f"s3://{BUCKET}/orders/2026-11-27-00-10-05/"
    assert (result.backup.engine, result.target_exists, result.request.target) == (
        "datapipeline",
        False,
        "orders-restored",
    )


def test_find_backup_names_the_field_of_a_bad_input(stack: Any) -> None:
    bad = event("find_backup")
    bad["input"]["at"] = "tomorrow-ish"
    with pytest.raises(InvalidRestoreRequestError, match="restore input at: 'tomorrow-ish' is not a time"):
        find_backup.lambda_handler(bad, CONTEXT)


def test_a_backup_is_found_by_the_time_its_directory_is_named_for(stack: Any) -> None:
    # GIVEN the backup of the 27th, made by a run that started at 00:10:05.668982
    put_backup(stack, "orders", 27)
    named = event("find_backup")
    named["input"]["at"] = "2026-11-27-00-10-05"
    # WHEN FindBackup is asked for the backup at its directory's time
    result = RestoreContext.model_validate(find_backup.lambda_handler(named, CONTEXT))
    # THEN that backup is chosen
    assert result.backup.location == f"s3://{BUCKET}/orders/2026-11-27-00-10-05/"
