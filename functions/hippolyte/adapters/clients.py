"""boto3 clients, created on first use and cached per process.

Not created at import time, so that tests and the local run (moto) can start their in-memory AWS
first and call :func:`reset` to drop clients made for another mock.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
# Standard retry mode backs off on throttling errors of every service we call.
_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})
# UpdateTable's LimitExceededException means two different things (too many tables updating at
# once, or the daily decrease limit): botocore would retry both blindly, with sleeps, so capacity
# changes use a client without retries and decide for themselves (adapters/capacity.py).
_NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@cache
def _session() -> boto3.session.Session:
    # One session for every client: botocore loads each service's model and the endpoint rules
    # once per session, so clients made from one session share them (a faster cold start, and a
    # local run that does not re-read the models for every client it makes).
    return boto3.session.Session()


@cache
def _client(service: str, retries: bool) -> Any:
    return _session().client(service, config=_CONFIG if retries else _NO_RETRY)


def client(service: str, retries: bool = True) -> Any:
    """The process's client for one AWS service."""
    with _lock:  # boto3 client creation is not thread-safe
        return _client(service, retries)


def ledger_table(name: str) -> Any:
    """The capacity ledger as a boto3 ``Table`` resource."""
    with _lock:
        return _session().resource("dynamodb", config=_CONFIG).Table(name)


def reset() -> None:
    """Forget every cached client (the local run calls this when it starts its mock)."""
    with _lock:
        _client.cache_clear()
