"""The run's documents (inventory, plan, progress) as JSON objects in the backup bucket.

States pass a :class:`~hippolyte.models.RunRef`; the documents themselves stay in S3, which is
strongly consistent for reads after writes, so the next state always sees the last state's write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hippolyte.errors import RunDocumentMissingError
from hippolyte.models import RunRef

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

DocumentT = TypeVar("DocumentT", bound=BaseModel)


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
        raise RunDocumentMissingError(f"s3://{run.bucket}/{key} does not exist")
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
