"""AWS's refusals: the one exception type every refused call raises, and its error code.

Adapters decide what a code means and raise the named errors of :mod:`hippolyte.errors`. A step
that must outlive any failed AWS call (reconcile, where one table's trouble never blocks the
others; the restore's undo, which notes what it could not do) catches :data:`AwsCallError` and
reports :func:`error_code` without deciding anything from it.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

AwsCallError = ClientError
"""What a boto3 call raises when AWS answers with an error (botocore's ``ClientError``)."""


def error_code(error: BaseException) -> str:
    """AWS's error code of a refused call (``ResourceNotFoundException``); another error's class name.

    >>> error_code(ClientError({"Error": {"Code": "ResourceInUseException", "Message": "busy"}}, "UpdateTable"))
    'ResourceInUseException'
    >>> error_code(ValueError("no"))
    'ValueError'
    """
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") or type(error).__name__
    return type(error).__name__


def error_message(error: ClientError) -> str:
    """AWS's message of a refused call ('' when it gave none).

    >>> error_message(ClientError({"Error": {"Code": "LimitExceededException", "Message": "too many"}}, "X"))
    'too many'
    """
    return error.response.get("Error", {}).get("Message", "")
