"""The run's documents (inventory, plan, progress) as JSON objects in the backup bucket.

States pass a :class:`~hippolyte.models.RunRef`; the documents themselves stay in S3, which is
strongly consistent for reads after writes, so the next state always sees the last state's write.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hippolyte.errors import RunDocumentMissingError
from hippolyte.models import RunRef

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

DocumentT = TypeVar("DocumentT", bound=BaseModel)

# Documents a run writes once (the plan) that a warm Lambda container has read, with the ETag it
# read: the last few runs' worth, newest last.
_WRITTEN_ONCE_KEPT = 8
_written_once: OrderedDict[tuple[str, str], tuple[str, BaseModel]] = OrderedDict()
_written_once_lock = threading.Lock()


def save_document(s3: S3Client, run: RunRef, name: str, document: BaseModel) -> str:
    """Write one document of the run; returns its key."""
    key = run.key(name)
    s3.put_object(Bucket=run.bucket, Key=key, Body=document.model_dump_json().encode(), ContentType="application/json")
    return key


def save_report_text(s3: S3Client, run: RunRef, body: str) -> str:
    """Write the run's report as plain text (``report.txt``, next to its documents); returns its key."""
    key = f"{run.prefix}report.txt"
    s3.put_object(Bucket=run.bucket, Key=key, Body=body.encode(), ContentType="text/plain")
    return key


def load_document(s3: S3Client, run: RunRef, name: str, model: type[DocumentT]) -> DocumentT:
    """Read and validate one document of the run."""
    key = run.key(name)
    document = load_stored(s3, run.bucket, key, model)
    if document is None:
        raise _missing(run, key)
    return document


def _missing(run: RunRef, key: str) -> RunDocumentMissingError:
    """The error for a document of the run that is not there."""
    return RunDocumentMissingError(f"s3://{run.bucket}/{key} does not exist")


def load_written_once(s3: S3Client, run: RunRef, name: str, model: type[DocumentT]) -> DocumentT:
    """Read a document the run writes once (the plan), reusing the copy this process read last.

    Every poll reads the plan, 3.5 MB at 10,000 tables. The GetObject is conditional on the ETag
    this container read before (If-None-Match): S3 answers 304 Not Modified when the document is
    unchanged, and the copy is returned without downloading and validating it again; a document
    written again (a retried PlanBatches) has a new ETag and is read afresh. Callers share the
    copy and must not change it.
    """
    key = run.key(name)
    with _written_once_lock:
        cached = _written_once.get((run.bucket, key))
    if cached is not None and not isinstance(cached[1], model):
        cached = None
    try:
        if cached is not None:
            response = s3.get_object(Bucket=run.bucket, Key=key, IfNoneMatch=cached[0])
        else:
            response = s3.get_object(Bucket=run.bucket, Key=key)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "304" and cached is not None:
            return cached[1]  # type: ignore[return-value]  # isinstance checked above
        if code in ("NoSuchKey", "404"):
            raise _missing(run, key) from None
        raise
    document = model.model_validate_json(response["Body"].read(), extra="ignore")
    with _written_once_lock:
        _written_once[(run.bucket, key)] = (response["ETag"], document)
        _written_once.move_to_end((run.bucket, key))
        while len(_written_once) > _WRITTEN_ONCE_KEPT:
            _written_once.popitem(last=False)
    return document


def document_exists(s3: S3Client, run: RunRef, name: str) -> bool:
    """Whether the run has written this document yet."""
    try:
        s3.head_object(Bucket=run.bucket, Key=run.key(name))
    except ClientError:
        return False
    return True


def load_stored(s3: S3Client, bucket: str, key: str, model: type[DocumentT]) -> DocumentT | None:
    """A document stored at ``key``, or None when there is none yet."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    # A newer version of the functions may have written it (a deploy during a run, reconcile after
    # an upgrade): fields it added are ignored rather than refused. Execution input stays strict.
    return model.model_validate_json(body, extra="ignore")


def store(s3: S3Client, bucket: str, key: str, document: BaseModel) -> None:
    """Write a document at ``key``."""
    s3.put_object(Bucket=bucket, Key=key, Body=document.model_dump_json().encode(), ContentType="application/json")
