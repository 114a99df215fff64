"""The plan, written once per run, is read again only when it changed (a conditional GetObject)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from hippolyte.adapters.run_store import load_written_once, save_document
from hippolyte.errors import RunDocumentMissingError
from hippolyte.models import Inventory, RunRef, TableSnapshot
from moto import mock_aws

BUCKET = "hippolyte-backups"


def _run(name: str) -> RunRef:
    return RunRef(
        bucket=BUCKET,
        run_id=name,
        execution_id=f"arn:aws:states:us-east-1:123456789012:execution:hippolyte-dev-backup:{name}",
        started_at=datetime(2026, 11, 28, 0, 10, tzinfo=UTC),
    )


def test_a_document_written_once_is_downloaded_again_only_when_it_changed() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        run = _run("night-1")
        bodies: list[int] = []
        s3.meta.events.register(
            "after-call.s3.GetObject", lambda http_response, **_: bodies.append(http_response.status_code)
        )
        save_document(s3, run, "inventory", Inventory(tables=[TableSnapshot(name="orders")]))

        # WHEN it is read three times, and written again (a retried state) before the third
        first = load_written_once(s3, run, "inventory", Inventory)
        second = load_written_once(s3, run, "inventory", Inventory)
        save_document(
            s3, run, "inventory", Inventory(tables=[TableSnapshot(name="orders"), TableSnapshot(name="users")])
        )
        third = load_written_once(s3, run, "inventory", Inventory)

        # THEN the second read was S3's 304 and gave the same copy; the third is the new document
        assert bodies == [200, 304, 200]
        assert second is first
        assert [t.name for t in third.tables] == ["orders", "users"]
        # AND a document that was never written is named
        with pytest.raises(RunDocumentMissingError, match=r"runs/night-2/inventory\.json does not exist"):
            load_written_once(s3, _run("night-2"), "inventory", Inventory)
