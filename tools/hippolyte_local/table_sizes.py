"""Honest table sizes for the local run.

moto always reports ``TableSizeBytes: 0`` (and the planner plans by size). AWS computes the size
from the items it stores; :func:`real_table_sizes` patches moto's ``Table.describe`` to report the
sum of its items' sizes, by moto's own DynamoDB item-size rules (``Item.size()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.dynamodb.models.table import Table

_original_describe = Table.describe


def _describe_with_size(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    result = _original_describe(self, base_key)
    result[base_key]["TableSizeBytes"] = sum(item.size() for item in self.all_items())
    return result


@contextmanager
def real_table_sizes() -> Iterator[None]:
    """While active, DescribeTable reports each table's real size."""
    with mock.patch.object(Table, "describe", _describe_with_size):
        yield
