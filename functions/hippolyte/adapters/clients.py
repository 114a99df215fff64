"""boto3 clients, created on first use and cached per process.

Not created at import time, so that tests and the local run (moto) can start their in-memory AWS
first and call :func:`reset` to drop clients made for another mock.

Each service name Hippolyte uses has an overload giving its typed client (the ``types-boto3``
stubs, a development dependency only): mypy then checks every call an adapter makes. The stubs
are imported only while type checking, so the Lambda package needs nothing more at run time.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Literal, overload

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from types_boto3_application_autoscaling import ApplicationAutoScalingClient
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_datapipeline import DataPipelineClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.service_resource import Table
    from types_boto3_emr import EMRClient
    from types_boto3_s3 import S3Client
    from types_boto3_sns import SNSClient
    from types_boto3_stepfunctions import SFNClient

# Every AWS service Hippolyte calls: a name outside this list is a mistake mypy reports.
ServiceName = Literal[
    "application-autoscaling", "cloudformation", "datapipeline", "dynamodb", "emr", "s3", "sns", "stepfunctions"
]

_lock = threading.Lock()
# Standard retry mode backs off on throttling errors of every service we call.
_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})
# UpdateTable's LimitExceededException means two different things (too many tables updating at
# once, or the daily decrease limit): botocore would retry both blindly, with sleeps, so capacity
# changes use a client without retries and decide for themselves (adapters/capacity.py).
_NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@cache
def _loader() -> Loader:
    # One loader for the process: botocore reads each service's model and the endpoint rules once
    # per loader, so every session shares what was read (a faster cold start, and a local run that
    # does not re-read the models for every client it makes).
    return create_loader()


@cache
def _session() -> boto3.session.Session:
    # A new botocore session takes the event handlers registered then (``BUILTIN_HANDLERS``: the
    # local run's mock and its call recorder hook in there), so reset() makes a new one; the
    # loader, which only reads botocore's own data files, is kept.
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return boto3.session.Session(botocore_session=core)


@cache
def _client(service: ServiceName, retries: bool) -> BaseClient:
    return _session().client(service, config=_CONFIG if retries else _NO_RETRY)


@overload
def client(service: Literal["application-autoscaling"], retries: bool = True) -> ApplicationAutoScalingClient: ...
@overload
def client(service: Literal["cloudformation"], retries: bool = True) -> CloudFormationClient: ...
@overload
def client(service: Literal["datapipeline"], retries: bool = True) -> DataPipelineClient: ...
@overload
def client(service: Literal["emr"], retries: bool = True) -> EMRClient: ...
@overload
def client(service: Literal["dynamodb"], retries: bool = True) -> DynamoDBClient: ...
@overload
def client(service: Literal["s3"], retries: bool = True) -> S3Client: ...
@overload
def client(service: Literal["sns"], retries: bool = True) -> SNSClient: ...
@overload
def client(service: Literal["stepfunctions"], retries: bool = True) -> SFNClient: ...
def client(service: ServiceName, retries: bool = True) -> BaseClient:
    """The process's client for one AWS service."""
    with _lock:  # boto3 client creation is not thread-safe
        return _client(service, retries)


@cache
def _ledger_table(name: str) -> Table:
    return _session().resource("dynamodb", config=_CONFIG).Table(name)


def ledger_table(name: str) -> Table:
    """The capacity ledger as a boto3 ``Table`` resource, made once per process like the clients
    (a resource makes its own client: about as slow as a client to create). Hippolyte only calls
    its actions, which go to that thread-safe client, and never loads its attributes, the state
    boto3 warns may not be shared between threads."""
    with _lock:
        return _ledger_table(name)


def reset() -> None:
    """Forget every cached client (the local run calls this when it starts its mock)."""
    with _lock:
        _client.cache_clear()
        _ledger_table.cache_clear()
        _session.cache_clear()
