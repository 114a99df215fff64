"""Data Pipeline calls against moto with AWS's rules enforced (tests/support/aws_rules.py StrictAws):
idempotent creation by uniqueId, no second activation of a running pipeline, rejected definitions
cleaned up, the account's pipeline limit reported by name, polling in DescribePipelines' chunks of
25, and a run's end read from its health and its activities' instances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hippolyte.adapters.datapipeline import create_and_activate, delete_pipeline, describe_pipelines, pipeline_runs
from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError
from hippolyte.models import Batch, PlannedTable
from hippolyte.pipelines import ClusterSettings, build_pipeline_objects, pipeline_unique_id
from hippolyte_local import pipeline_runs as runs_model
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datapipeline.models import datapipeline_backends

from tests.support.aws_rules import StrictAws

REGION = "us-east-1"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
STARTED = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)
TAGS = {"hippolyte:run": "night-1"}


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # Clients cost about 0.1 s each to create: made once, used under each test's own mock_aws().
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def datapipeline_client(session: boto3.session.Session) -> Any:
    return session.client("datapipeline", config=NO_RETRIES)


@pytest.fixture
def aws() -> Iterator[StrictAws]:
    with mock_aws(), StrictAws(pipeline_limit=5) as strict:
        yield strict


@pytest.fixture
def datapipeline(aws: StrictAws, datapipeline_client: Any) -> Any:
    return datapipeline_client


def definition(*tables: str) -> list[dict]:
    batch = Batch(
        id="b0001",
        estimated_seconds=1,
        tables=[
            PlannedTable(
                name=name,
                size_bytes=1,
                original_read_capacity_units=10,
                read_capacity_units=10,
                read_throughput_percent=0.5,
                estimated_seconds=1,
            )
            for name in tables or ("orders",)
        ],
    )
    return build_pipeline_objects(batch, "backups", STARTED, ClusterSettings(region=REGION, jar="s3://jar/x.jar"))


def listed(datapipeline: Any) -> list[str]:
    ids, kwargs = [], {}
    while True:
        page = datapipeline.list_pipelines(**kwargs)
        ids += [p["id"] for p in page["pipelineIdList"]]
        if not page.get("hasMoreResults"):
            return ids
        kwargs["marker"] = page["marker"]


def report(pipeline_id: str, component: str, status: str, error: str | None = None) -> None:
    """Move a component's current instance along, as its EMR runner would report it."""
    pipeline = datapipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[pipeline_id]
    (instance,) = [i for i in runs_model.current_instances(pipeline) if i.component == component]
    assert runs_model.set_status(pipeline, instance.id, status, error)


def instance_statuses(datapipeline: Any, pipeline_id: str) -> list[tuple[str, str]]:
    """(component, @status) of every instance of the pipeline, as QueryObjects and DescribeObjects give them."""
    ids = datapipeline.query_objects(pipelineId=pipeline_id, sphere="INSTANCE")["ids"]
    objects = datapipeline.describe_objects(pipelineId=pipeline_id, objectIds=ids)["pipelineObjects"]
    fields = [{f["key"]: f.get("stringValue", f.get("refValue")) for f in obj["fields"]} for obj in objects]
    return sorted((f["@componentParent"], f["@status"]) for f in fields)


def run_of(datapipeline: Any, pipeline_id: str) -> Any:
    return dict(pipeline_runs(datapipeline, [pipeline_id]))[pipeline_id]


def create(datapipeline: Any, batch_id: str = "b0001", objects: list[dict] | None = None) -> str:
    return create_and_activate(
        datapipeline,
        f"hippolyte-dev-night-1-{batch_id}",
        pipeline_unique_id("night-1", batch_id),
        objects or definition(),
        TAGS,
    )


# --------------------------------------------------------------------------------------------
# create_and_activate
# --------------------------------------------------------------------------------------------


def test_a_pipeline_is_created_defined_and_activated(datapipeline):
    # GIVEN a valid definition
    # WHEN the batch's pipeline is created
    pipeline_id = create(datapipeline)
    # THEN it exists, holds the definition, and is activated
    stored = datapipeline.get_pipeline_definition(pipelineId=pipeline_id)["pipelineObjects"]
    assert sorted(o["id"] for o in stored) == sorted(o["id"] for o in definition())
    run = run_of(datapipeline, pipeline_id)
    assert (run.state, run.ended) == ("SCHEDULED", False)
    assert [(a.component, a.status) for a in run.activities] == [("Export1", "WAITING_FOR_RUNNER")]


def test_a_retried_creation_returns_the_same_pipeline(datapipeline):
    # GIVEN a batch's pipeline created once
    first = create(datapipeline)
    # WHEN the Map iteration is retried with the same run and batch
    second = create(datapipeline)
    # THEN the same pipeline comes back, and the account holds one pipeline, not two
    assert second == first
    assert listed(datapipeline) == [first]


def test_a_retry_leaves_a_running_pipeline_alone(aws, datapipeline):
    # GIVEN a batch's pipeline created and activated, its export running on the cluster, and the
    # Lambda that created it failed afterwards (Step Functions retries the Task)
    first = create(datapipeline, objects=definition("orders", "events"))
    report(first, "Export1", "RUNNING")
    # WHEN the retry creates it again, with a definition computed anew (the read percentages come
    # from the tables' live capacity, so they can differ)
    second = create(datapipeline, objects=definition("orders"))
    # THEN it is the same pipeline, not activated again (AWS would cancel the running export and
    # run the pipeline from the start), and its definition is the one that runs
    assert second == first
    assert aws.reactivations == []
    assert instance_statuses(datapipeline, first)[:2] == [
        ("Cluster", "WAITING_ON_DEPENDENCIES"),
        ("Export1", "RUNNING"),
    ]
    stored = datapipeline.get_pipeline_definition(pipelineId=first)["pipelineObjects"]
    assert "Export2" in {o["id"] for o in stored}


def test_a_retry_activates_a_pipeline_defined_but_not_yet_activated(aws, datapipeline):
    # GIVEN an attempt that created and defined the pipeline, then died before activating it
    pipeline_id = datapipeline.create_pipeline(
        name="hippolyte-dev-night-1-b0001", uniqueId=pipeline_unique_id("night-1", "b0001")
    )["pipelineId"]
    datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=definition())
    # WHEN the retry runs
    # THEN the same pipeline is activated, once
    assert create(datapipeline) == pipeline_id
    assert run_of(datapipeline, pipeline_id).state == "SCHEDULED"
    assert aws.reactivations == []


def test_each_batch_gets_its_own_pipeline(datapipeline):
    # GIVEN two batches of one run
    # WHEN both are created
    # THEN they are two pipelines
    assert create(datapipeline, "b0001") != create(datapipeline, "b0002")
    assert len(listed(datapipeline)) == 2


def test_a_rejected_definition_raises_and_leaves_nothing_behind(datapipeline):
    # GIVEN a definition whose activity names an object that does not exist
    objects = definition()
    for obj in objects:
        for field in obj["fields"]:
            if field.get("refValue") == "Cluster":
                field["refValue"] = "NoSuchCluster"
    # WHEN the pipeline is created
    # THEN the error names the offending object, so the batch is reported failed with a reason
    with pytest.raises(PipelineCreationError, match="Export1"):
        create(datapipeline, objects=objects)
    # AND no pipeline is left counting against the account's limit
    assert listed(datapipeline) == []


def test_a_refused_activation_raises_a_named_error_and_leaves_nothing_behind(datapipeline):
    # GIVEN Data Pipeline refuses to activate (for example the pipeline role is missing)
    class RefusesActivation:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def activate_pipeline(self, **kwargs: Any) -> Any:
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidRequestException",
                        "Message": "Role DataPipelineDefaultRole does not exist",
                    }
                },
                "ActivatePipeline",
            )

    # WHEN the pipeline is created
    # THEN the batch fails with PipelineCreationError (the run goes on with the other batches)
    with pytest.raises(PipelineCreationError, match="DataPipelineDefaultRole"):
        create(RefusesActivation(datapipeline))
    # AND the inactive pipeline is not left behind
    assert listed(datapipeline) == []


def test_the_account_pipeline_limit_is_reported_by_name(aws, datapipeline):
    # GIVEN an account at its pipeline limit (5 here; 100 by default). Data Pipeline reports the
    # limit as InvalidRequestException: it has no LimitExceededException
    for number in range(1, 6):
        create(datapipeline, f"b{number:04d}")
    # WHEN one more batch is created
    # THEN the state machine gets PipelineLimitReachedError, which it retries when a slot frees
    with pytest.raises(PipelineLimitReachedError):
        create(datapipeline, "b0006")
    assert len(listed(datapipeline)) == 5


def test_other_creation_refusals_are_creation_errors(aws, datapipeline):
    # GIVEN CreatePipeline refused for a reason other than the limit
    aws.fail_create_pipeline(code="InvalidRequestException", message="Tag key must not start with aws:")
    # WHEN a pipeline is created
    # THEN it is a PipelineCreationError with AWS's message (not mistaken for the limit)
    with pytest.raises(PipelineCreationError, match="Tag key must not start with aws:"):
        create(datapipeline)


def test_a_pipeline_freed_by_deletion_makes_room_again(aws, datapipeline):
    # GIVEN an account at its limit
    ids = [create(datapipeline, f"b{number:04d}") for number in range(1, 6)]
    # WHEN one finished pipeline is deleted
    delete_pipeline(datapipeline, ids[0])
    # THEN a new batch can be created
    assert create(datapipeline, "b0006") not in ids


def test_deleting_a_pipeline_twice_is_harmless(datapipeline):
    # GIVEN a pipeline already deleted (a retried CheckPipelines)
    pipeline_id = create(datapipeline)
    delete_pipeline(datapipeline, pipeline_id)
    # WHEN it is deleted again
    delete_pipeline(datapipeline, pipeline_id)
    # THEN nothing fails and nothing is left
    assert listed(datapipeline) == []


# --------------------------------------------------------------------------------------------
# pipeline_runs
# --------------------------------------------------------------------------------------------


def test_a_finished_on_demand_pipeline_still_reads_scheduled_and_has_ended(datapipeline):
    # GIVEN a two-table pipeline whose exports both finished (AWS: an on-demand pipeline stays
    # SCHEDULED after it has finished its work)
    pipeline_id = create(datapipeline, objects=definition("orders", "events"))
    for export in ("Export1", "Export2"):
        report(pipeline_id, export, "RUNNING")
        report(pipeline_id, export, "FINISHED")
    # WHEN its run is read
    run = run_of(datapipeline, pipeline_id)
    # THEN it has ended, successfully, although its state is still SCHEDULED
    assert (run.state, run.health) == ("SCHEDULED", "HEALTHY")
    assert (run.ended, run.succeeded, run.status) == (True, True, "FINISHED")


def test_a_run_with_an_export_still_working_has_not_ended(datapipeline):
    # GIVEN the first export finished and the second still running
    pipeline_id = create(datapipeline, objects=definition("orders", "events"))
    report(pipeline_id, "Export1", "FINISHED")
    report(pipeline_id, "Export2", "RUNNING")
    # THEN the run goes on (the pipeline is already HEALTHY: a component has completed)
    run = run_of(datapipeline, pipeline_id)
    assert (run.ended, run.status, run.health) == (False, "RUNNING", "HEALTHY")


def test_a_failed_export_ends_the_run_failed_with_its_error(datapipeline):
    # GIVEN one export finished and the other failed on the cluster
    pipeline_id = create(datapipeline, objects=definition("orders", "events"))
    report(pipeline_id, "Export1", "FINISHED")
    report(pipeline_id, "Export2", "FAILED", "Table events does not exist")
    # WHEN the run is read
    run = run_of(datapipeline, pipeline_id)
    # THEN it has ended, failed, and says which export failed and why (the report shows it)
    assert (run.state, run.health, run.ended, run.succeeded) == ("SCHEDULED", "ERROR", True, False)
    assert run.describe() == "FAILED (health ERROR; Export2 FAILED: Table events does not exist)"


def test_every_running_pipeline_is_described_with_its_health_and_a_deleted_one_is_left_out(datapipeline):
    # GIVEN a pipeline still working, one whose export failed and one deleted since it was started
    working = create(datapipeline, "b0001", objects=definition("orders"))
    report(working, "Export1", "RUNNING")
    failed = create(datapipeline, "b0002", objects=definition("events"))
    report(failed, "Export1", "FAILED", "Table events does not exist")
    deleted = create(datapipeline, "b0003", objects=definition("users"))
    delete_pipeline(datapipeline, deleted)
    # WHEN the three are described, as every poll describes every running pipeline
    described = describe_pipelines(datapipeline, [working, failed, deleted])
    # THEN the failure shows in the health without reading any instance, and the deleted one is
    # absent (the poll reads the run of both)
    assert set(described) == {working, failed}
    assert described[failed]["@healthStatus"] == "ERROR"
    assert "@healthStatus" not in described[working]
    # AND a run read from those descriptions is the run read from scratch
    runs = dict(pipeline_runs(datapipeline, [failed, deleted], described=described))
    assert runs[deleted] is None
    assert runs[failed] == run_of(datapipeline, failed)


class CountingClient:
    """The client, counting the ids of each DescribeObjects call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.described: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def get_paginator(self, name: str) -> Any:
        paginator = self.client.get_paginator(name)
        if name == "describe_objects":
            paginate = paginator.paginate

            def counting(**kwargs: Any) -> Any:
                self.described.append(len(kwargs["objectIds"]))
                return paginate(**kwargs)

            paginator.paginate = counting
        return paginator


def finish_current_run(pipeline_id: str) -> None:
    """Every instance of the pipeline's latest activation ends FINISHED, as after a good run."""
    pipeline = datapipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[pipeline_id]
    for instance in runs_model.current_instances(pipeline):
        assert runs_model.set_status(pipeline, instance.id, "FINISHED")


def test_a_running_pipeline_costs_one_page_of_instances_a_poll(datapipeline):
    # GIVEN a 32-table pipeline (97 instances) whose first export runs
    pipeline_id = create(datapipeline, objects=definition(*(f"t{n:02d}" for n in range(32))))
    report(pipeline_id, "Export1", "RUNNING")
    client = CountingClient(datapipeline)
    # WHEN its run is read
    run = run_of(client, pipeline_id)
    # THEN it goes on, known from one DescribeObjects call of 25 ids (Data Pipeline allows two
    # such calls a second for the whole account)
    assert (run.ended, run.status) == (False, "RUNNING")
    assert client.described == [25]


def test_a_pipeline_run_again_is_read_from_its_latest_instances(datapipeline):
    # GIVEN a 32-table pipeline (97 instances a run) that finished, then was activated again by
    # hand: AWS runs it again, with new instances (194 in all: QueryObjects pages by 100)
    pipeline_id = create(datapipeline, objects=definition(*(f"t{n:02d}" for n in range(32))))
    finish_current_run(pipeline_id)
    datapipeline.activate_pipeline(pipelineId=pipeline_id)
    # WHEN the new run is read while it waits for its cluster
    # THEN it has not ended: its instances are the new ones
    assert run_of(datapipeline, pipeline_id).ended is False
    # AND once the new run has finished too, every activity is read, 25 ids a call, and the run
    # succeeded
    finish_current_run(pipeline_id)
    client = CountingClient(datapipeline)
    run = run_of(client, pipeline_id)
    assert (run.ended, run.succeeded, run.health) == (True, True, "HEALTHY")
    assert len(run.activities) == 32 and {a.status for a in run.activities} == {"FINISHED"}
    assert sum(client.described) == 194 and max(client.described) == 25


def test_runs_are_read_in_chunks_of_25_and_gone_pipelines_are_none(datapipeline_client):
    # GIVEN 60 pipelines, three of them deleted (one in each chunk of 25), and an id never seen
    # (a StrictAws with the default limit of 100)
    with mock_aws(), StrictAws():
        client = datapipeline_client
        ids = [client.create_pipeline(name=f"p{n}", uniqueId=f"u{n}")["pipelineId"] for n in range(60)]
        for position in (3, 30, 59):
            client.delete_pipeline(pipelineId=ids[position])
        asked = [*ids, "df-NEVER0000000000000"]
        # WHEN their runs are read (StrictAws refuses more than 25 ids per call, as AWS does)
        runs = list(pipeline_runs(client, asked))
    # THEN every id is answered once, in order; gone ones are None, live ones have a state
    assert [pipeline_id for pipeline_id, _ in runs] == asked
    gone = {ids[3], ids[30], ids[59], "df-NEVER0000000000000"}
    for pipeline_id, run in runs:
        assert (run is None) == (pipeline_id in gone)
        if run is not None:
            assert (run.state, run.ended) == ("PENDING", False)


def test_no_ids_makes_no_call(datapipeline):
    # GIVEN no running pipeline
    # THEN there is nothing to describe
    assert list(pipeline_runs(datapipeline, [])) == []
