"""moto answering a large account's calls in time that does not grow with the account.

Two of moto's lookups walk everything the account holds, for every call. Both are replaced by
lookups that give moto's own answers over the same data:

* ListTagsOfResource: moto's ``DynamoDBBackend.list_tags_of_resource`` compares the ARN with
  every table's; :func:`fast_account_lookups` finds the table by the name the ARN ends with and
  checks its ARN, falling back to moto's walk when that table is not the one;
* prefix listings: moto's ``S3Backend.list_objects`` (which ListObjects and ListObjectsV2 use)
  walks every key of the bucket for each listing, reading each key's latest version through
  ``_VersionedKeyStore.__getitem__``; a night of 10,000 tables, whose bucket holds tens of
  thousands of keys and which lists each table's directory, spent most of its time there. The
  bucket is narrowed to the keys under the prefix first (a C-level scan of the key names) and
  moto's own listing runs over that narrower store, so every answer (keys, common prefixes,
  delete markers, pagination) is moto's, computed over the same keys.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.dynamodb.models import DynamoDBBackend
from moto.s3.models import FakeBucket, FakeTableStorageBucket, S3Backend
from moto.s3.utils import _VersionedKeyStore

_list_objects = S3Backend.list_objects


def _under_prefix(bucket: FakeBucket, prefix: str) -> _VersionedKeyStore:
    store = bucket.keys
    narrowed = _VersionedKeyStore()
    for name in [name for name in list(dict.keys(store)) if name.startswith(prefix)]:
        versions = dict.get(store, name)
        if versions is not None:  # deleted meanwhile by another thread
            dict.__setitem__(narrowed, name, versions)
    return narrowed


def _list_objects_under_prefix(
    self: S3Backend,
    bucket: FakeBucket,
    prefix: str | None,
    delimiter: str | None,
    marker: str | None,
    max_keys: int | None,
) -> Any:
    if not prefix or isinstance(bucket, FakeTableStorageBucket):
        return _list_objects(self, bucket, prefix, delimiter, marker, max_keys)
    narrowed = types.SimpleNamespace(keys=_under_prefix(bucket, prefix))
    return _list_objects(self, narrowed, prefix, delimiter, marker, max_keys)  # type: ignore[arg-type]


_list_tags_of_resource = DynamoDBBackend.list_tags_of_resource


def _list_tags_by_name(self: DynamoDBBackend, table_arn: str) -> list[dict[str, str]]:
    table = self.tables.get(table_arn.rpartition(":table/")[2])
    if table is not None and table.table_arn == table_arn:
        return table.tags
    return _list_tags_of_resource(self, table_arn)


@contextmanager
def fast_account_lookups() -> Iterator[None]:
    """While active, a prefix listing reads only the keys under its prefix, and a table's tags are
    found by its name."""
    with (
        mock.patch.object(S3Backend, "list_objects", _list_objects_under_prefix),
        mock.patch.object(DynamoDBBackend, "list_tags_of_resource", _list_tags_by_name),
    ):
        yield
