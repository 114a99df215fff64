"""Data Pipeline calls against moto with AWS's rules enforced (tests/support/aws_rules.py StrictAws):
idempotent creation by uniqueId, rejected definitions cleaned up, the account's pipeline limit
reported by name, and polling in DescribePipelines' chunks of 25."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hippolyte.adapters.datapipeline import create_and_activate, delete_pipeline, pipeline_states
from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError
from hippolyte.models import Batch, PlannedTable
from hippolyte.pipelines import ClusterSettings, build_pipeline_objects, pipeline_unique_id
from moto import mock_aws

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
    assert dict(pipeline_states(datapipeline, [pipeline_id]))[pipeline_id] == "SCHEDULED"


def test_a_retried_creation_returns_the_same_pipeline(datapipeline):
    # GIVEN a batch's pipeline created once
    first = create(datapipeline)
    # WHEN the Map iteration is retried with the same run and batch
    second = create(datapipeline)
    # THEN the same pipeline comes back, and the account holds one pipeline, not two
    assert second == first
    assert listed(datapipeline) == [first]


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
# pipeline_states
# --------------------------------------------------------------------------------------------


def test_states_are_read_in_chunks_of_25_and_gone_pipelines_are_none(datapipeline_client):
    # GIVEN 60 pipelines, three of them deleted (one in each chunk of 25), and an id never seen
    # (a StrictAws with the default limit of 100)
    with mock_aws(), StrictAws():
        client = datapipeline_client
        ids = [client.create_pipeline(name=f"p{n}", uniqueId=f"u{n}")["pipelineId"] for n in range(60)]
        for position in (3, 30, 59):
            client.delete_pipeline(pipelineId=ids[position])
        asked = [*ids, "df-NEVER0000000000000"]
        # WHEN their states are read (StrictAws refuses more than 25 ids per call, as AWS does)
        states = list(pipeline_states(client, asked))
    # THEN every id is answered once, in order; gone ones are None, live ones have a state
    assert [pipeline_id for pipeline_id, _ in states] == asked
    gone = {ids[3], ids[30], ids[59], "df-NEVER0000000000000"}
    for pipeline_id, state in states:
        assert (state is None) == (pipeline_id in gone)
        if state is not None:
            assert state == "PENDING"


def test_no_ids_makes_no_call(datapipeline):
    # GIVEN no running pipeline
    # THEN there is nothing to describe
    assert list(pipeline_states(datapipeline, [])) == []
