"""A restore whose ImportData state is retried after it had started the import, through the real
restore state machine under StrictAws (its own module: the round-trip module keeps one stack
deployed for all its tests, and a second local stack cannot run beside it)."""

from __future__ import annotations

from typing import Any

from hippolyte_local.session import local_session
from hippolyte_local.verify import same_items, table_items

from tests.statemachine.fleet_support import TEST_PARAMETERS
from tests.statemachine.test_restore_roundtrip import create_source, restore
from tests.support.aws_rules import StrictAws


class InternalServiceError(Exception):
    """Named like Data Pipeline's server fault: the restore ASL retries a Task that reports it."""


def test_an_import_data_retried_after_its_work_runs_the_import_once() -> None:
    # GIVEN a backed-up table, and an ImportData Lambda that fails with a retried error after it
    # has created and activated the import pipeline
    failed: list[str] = []

    def fail_after_work(name: str, *_: Any) -> None:
        if name.endswith("-RestoreImportPipelineFunction") and not failed:
            failed.append(name)
            raise InternalServiceError("an internal service error occurred (after the activation)")

    # StrictAws makes CreatePipeline idempotent by uniqueId, as AWS does (moto alone is not)
    strict = StrictAws(auto_advance_on_describe=True)
    with local_session(
        parameters={**TEST_PARAMETERS, "ReadThroughputPercent": "0.5"},
        after_invoke=fail_after_work,
        extra=lambda stack: stack.enter_context(strict),
        clock=strict.clock,
    ) as session:
        create_source(session, "orders-retried", 30, engine=None, on_demand=False, lsi=False)
        assert session.run({"poll_seconds": 120}, name="nightly", timeout=120).status == "SUCCEEDED"
        imported: list[str] = []
        session.emr.before_import = lambda directory, table, percent: imported.append(table)

        # WHEN it is restored, and Step Functions retries ImportData
        result = restore(session, "orders-retried", "orders-retried-copy", "restore-retried")

        # THEN the retry found the running import pipeline and left it alone: one import, whose
        # table holds the original's items
        assert failed and result.status == "SUCCEEDED", (result.error, result.cause)
        assert imported == ["orders-retried-copy"]
        assert strict.reactivations == []
        dynamodb = session.client("dynamodb")
        assert same_items(table_items(dynamodb, "orders-retried"), table_items(dynamodb, "orders-retried-copy"))
