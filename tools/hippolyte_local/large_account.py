"""moto answering a large account's calls in time that does not grow with the account.

Three of moto's lookups walk everything the account holds, for every call. Each is replaced by a
lookup that gives moto's own answer over the same data:

* ListTagsOfResource: moto's ``DynamoDBBackend.list_tags_of_resource`` compares the ARN with
  every table's; :func:`fast_account_lookups` finds the table by the name the ARN ends with and
  checks its ARN, falling back to moto's walk when that table is not the one;
* prefix listings: moto's ``S3Backend.list_objects`` (which ListObjects and ListObjectsV2 use)
  walks every key of the bucket for each listing, reading each key's latest version through
  ``_VersionedKeyStore.__getitem__``; a night of 10,000 tables, whose bucket holds tens of
  thousands of keys and which lists each table's directory, spent most of its time there. The
  bucket is narrowed to the keys under the prefix first and moto's own listing runs over that
  narrower store, so every answer (keys, common prefixes, delete markers, pagination) is moto's,
  computed over the same keys. The narrowing reads an index of the bucket's key names by their
  first path segment (a table's name, in Hippolyte's layout), kept as keys are written; a name
  the index holds but the bucket no longer does (a deleted key) is dropped by the lookup;
* Query on a table's key: moto's ``Table.query`` sorts every item of the table and keeps those
  with the queried hash key (the capacity ledger, one item per table and run, is queried once
  per table it raises). While a query without an index runs, the table's ``all_items`` gives the
  items under that hash key only, sorted as moto sorts them; the filter, ordering, limits and
  pagination that follow are moto's.

* TransactWriteItems: moto's ``DynamoDBBackend.transact_write_items``
  (``moto/dynamodb/models/__init__.py``) deep-copies the table of
  each of a transaction's actions (a hundred copies for a hundred actions on one table) before
  it writes, to put the copy back if the transaction is cancelled. The
  run's leases are written a hundred to a transaction in the capacity ledger, which holds an
  item per table; a deep copy of it for each transaction cost more than the night's other calls.
  A transaction of puts, deletes and condition checks only replaces or removes items, never
  changes one in place, and only under the keys it names, so a copy of the table's dictionary of
  items (and, under a range key, of the dictionaries of the hash keys it names), sharing the
  items, puts back exactly what the deep copy would, and one copy per table serves all its
  actions. A transaction with an update (moto's ``update_item`` changes the item in place), or a
  table with a stream, is still deep-copied.

Other costs are constant per call but paid on every request:

* moto's ``S3Backend`` reloads its ``moto.s3.urls`` module each time it routes a request
  (``S3Backend._url_module``), so that a change of ``MOTO_S3_CUSTOM_ENDPOINTS`` is seen. The
  harness never changes it during a session, so the module is reloaded once, when the lookups
  start, and that module routes every request;
* looking up an account's backend (``BackendDict.__getitem__``) takes moto's global lock, lists
  the service's accounts and compares the service's backends with every other service's, to
  register an account seen for the first time. An account already registered skips all that and
  is answered from the same dictionary;
* dispatching an action lists the response class's methods (``inspect.getmembers``) to check
  that the action is one of them; a class's methods do not change during a session, so the list
  is made once per class;
* a timestamp moto holds as an ISO 8601 string with its offset is read back by botocore's
  ``parse_to_aware_datetime``, through ``dateutil``'s general parser, to be written in the
  response; ``datetime.fromisoformat`` reads such a string to the same moment, and anything else
  (epoch numbers, strings without an offset) still goes to botocore;
* routing a request (``BotocoreStubber.process_request``) matches its URL against every service's
  URL pattern in turn, then builds the chosen backend's table of URLs (``BaseBackend.urls``) and
  matches the URL against each of its entries, on every request. The handler moto chose for a
  URL is kept, and a request for the same URL (every DynamoDB, Data Pipeline or EMR call shares
  one) goes to it directly, with the same normalised request and the same error handling; a URL
  moto would not route (passed through, or not mocked) is still handed to moto's own routing;
* botocore reads every timestamp of a response (``botocore.utils.parse_timestamp``) with
  ``dateutil``'s general parser, a fifth of a millisecond each: an S3 object's ``Last-Modified``
  header, and each key's ``LastModified`` in a listing. ISO 8601 in UTC and the HTTP date S3
  writes are read by ``datetime`` to the same moment, in the zone dateutil gives them; anything
  else (other offsets, epoch numbers) still goes to botocore;
* botocore resolves every request's endpoint through the service's rule set, and keeps the last
  hundred answers by their parameters (``EndpointProvider._resolve_endpoint``). DynamoDB's
  parameters include the table's name (``ResourceArn``, from ``TableName``), so a night that calls
  DynamoDB for thousands of tables resolves the rules again on nearly every call. DynamoDB's rules
  (``botocore/data/dynamodb/2012-08-10/endpoint-rule-set-1.json``) read ``ResourceArn``, and the
  first entry of ``ResourceArnList``, only through ``aws.parseArn``, which finds nothing in a value
  that does not start with ``arn:`` (``RuleSetStandardLibrary.aws_parse_arn``): such a value
  resolves as if it were not set, and is left out before the rules and the cache see it. An ARN
  goes through as it is;
* moto draws each response's 52-character request id one character at a time
  (``MotoRandom.get_random_string``, a ``choice`` each); they are drawn in one call
  (``choices``), from the same alphabet and the same seeded generator: another id of the same
  form, and nothing reads an id's characters;
* botocore signs every request with SigV4 (a canonical request, a hash of the payload, a chain
  of HMACs); moto checks no signature, and reads only the access key in the ``Authorization``
  header, to pick the account (``moto.core.responses.BaseResponse.get_access_key``). Requests
  keep their headers and that credential, with a signature of zeros (presigned URLs are still
  signed);
* moto's Step Functions interpreter makes a new boto3 Lambda client for every Lambda task it
  runs (``boto_client_for``); the harness makes one per region and keeps it, as a Lambda
  function's code does.
"""

from __future__ import annotations

import copy
import functools
import importlib
import re
import string
import threading
import time
import types
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import moto.backend_index as moto_backend_index
from botocore import parsers as botocore_parsers
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth, SigV4QueryAuth
from botocore.client import BaseClient
from botocore.endpoint_provider import EndpointProvider
from botocore.exceptions import NoCredentialsError
from botocore.utils import get_current_datetime  # type: ignore[attr-defined]  # (botocore-stubs lag botocore)
from botocore.utils import parse_timestamp as _parse_timestamp
from botocore.utils import parse_to_aware_datetime as _parse_to_aware_datetime
from dateutil.tz import tzlocal, tzutc
from moto import backends as moto_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core import responses as moto_responses
from moto.core import serialize as moto_serialize
from moto.core.base_backend import BackendDict
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.common_types import TYPE_RESPONSE
from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
from moto.core.exceptions import HTTPException
from moto.core.request import normalize_request
from moto.core.utils import get_equivalent_url_in_aws_domain
from moto.core.utils import method_names_from_class as _method_names_from_class
from moto.dynamodb import models as moto_dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_api import recorder
from moto.moto_api._internal.moto_random import MotoRandom
from moto.s3 import urls as moto_s3_urls
from moto.s3.models import FakeBucket, FakeTableStorageBucket, S3Backend
from moto.s3.utils import _VersionedKeyStore
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for as _boto_client_for

_list_objects = S3Backend.list_objects
_store_setitem = _VersionedKeyStore.__setitem__
_store_setlist = _VersionedKeyStore.setlist
# The attribute a bucket's key store keeps its index in: first path segment -> key names.
_INDEX = "_hippolyte_names_by_segment"


def _segment(name: str) -> str | None:
    head, slash, _ = name.partition("/")
    return head if slash else None


def _indexed_setitem(self: _VersionedKeyStore, key: str, value: Any) -> Any:
    _store_setitem(self, key, value)
    _index_name(self, key)


def _indexed_setlist(self: _VersionedKeyStore, key: Any, list_: Any) -> Any:
    _store_setlist(self, key, list_)
    _index_name(self, key)


def _index_name(store: _VersionedKeyStore, name: str) -> None:
    index = store.__dict__.get(_INDEX)
    if index is not None:
        index.setdefault(_segment(name), set()).add(name)


def _names_under(store: _VersionedKeyStore, prefix: str) -> list[str]:
    segment = _segment(prefix)
    if segment is None:
        return [name for name in list(dict.keys(store)) if name.startswith(prefix)]
    if _INDEX not in store.__dict__:
        # Built once from every key the store holds; kept up to date as keys are written.
        store.__dict__[_INDEX] = {}
        for name in list(dict.keys(store)):
            _index_name(store, name)
    index = store.__dict__[_INDEX]
    return [name for name in list(index.get(segment, ())) if name.startswith(prefix)]


def _under_prefix(bucket: FakeBucket, prefix: str) -> _VersionedKeyStore:
    store = bucket.keys
    narrowed = _VersionedKeyStore()
    for name in _names_under(store, prefix):
        versions = dict.get(store, name)
        if versions is not None:  # deleted since it was indexed, or meanwhile by another thread
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


_create_account_backend = BackendDict._create_account_specific_backend


def _create_account_backend_once(self: BackendDict[Any], account_id: str) -> None:
    registered = BackendDict._instances  # type: ignore[misc]  # moto annotates it per instance
    if dict.__contains__(self, account_id) and any(known is self for known in registered):
        return
    _create_account_backend(self, account_id)


@functools.cache
def _method_names_once(clazz: type) -> list[str]:
    return _method_names_from_class(clazz)


def _aware_datetime(value: Any) -> Any:
    if isinstance(value, str) and "T" in value and (value.endswith("Z") or value[-6:-5] in "+-"):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _parse_to_aware_datetime(value)
        if parsed.tzinfo is not None:
            return parsed
    return _parse_to_aware_datetime(value)


_query = Table.query
_all_items = Table.all_items
# The table and hash key a query on this thread is answering, while it runs.
_querying = threading.local()


def _items_under_hash_key(self: Table) -> list[Any]:
    narrowed = getattr(_querying, "key", None)
    if narrowed is None or narrowed[0] is not self:
        return _all_items(self)
    under = self.items.get(narrowed[1]) if narrowed[1] in self.items else None
    if under is None:
        return []
    items = list(under.values()) if self.range_key_attr else [under]
    # moto's own order (Table.all_items).
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _query_by_hash_key(
    self: Table,
    hash_key: Any,
    range_comparison: Any,
    range_objs: Any,
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    projection_expressions: Any,
    index_name: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    positional = (range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward, projection_expressions)
    if index_name or hash_key is None:
        return _query(self, hash_key, *positional, index_name, *args, **kwargs)
    _querying.key = (self, hash_key)
    try:
        return _query(self, hash_key, *positional, index_name, *args, **kwargs)
    finally:
        _querying.key = None


_transact_write_items = DynamoDBBackend.transact_write_items
_transacting = threading.local()


def _touched_hash_keys(table: Table, actions: list[dict[str, Any]]) -> set[Any]:
    """The hash keys of ``table`` a transaction's actions name (moto's keys: DynamoType values)."""
    touched = set()
    for action in actions:
        kind, operation = next(iter(action.items()))
        if operation.get("TableName") == table.name:
            key = operation["Item"] if kind == "Put" else operation["Key"]
            touched.add(DynamoType(key[table.hash_key_attr]))
    return touched


def _table_snapshot(table: Table, actions: list[dict[str, Any]]) -> Table:
    """A copy of ``table`` that puts back what a transaction of ``actions`` may change.

    The dictionary of items is copied and the items are shared; for a table with a range key, the
    dictionary under each hash key the actions name is copied too (the others are not changed).
    """
    snapshot = copy.copy(table)
    snapshot.items = defaultdict(dict, table.items)
    if table.range_key_attr:
        for hash_key in _touched_hash_keys(table, actions):
            if hash_key in table.items:
                snapshot.items[hash_key] = dict(table.items[hash_key])
    return snapshot


class _TransactionCopies:
    """``moto.dynamodb.models``' ``copy`` module: a table is snapshotted inside a transaction
    that changes no item in place, and everything else is deep-copied as moto does."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        snapshots: dict[int, Table] | None = getattr(_transacting, "snapshots", None)
        if snapshots is None or not isinstance(value, Table) or value.stream_shard is not None:
            return copy.deepcopy(value)
        # moto copies a table once per action that names it, before any action writes: one
        # snapshot per table serves them all.
        if id(value) not in snapshots:
            snapshots[id(value)] = _table_snapshot(value, _transacting.actions)
        return snapshots[id(value)]


def _transact_with_snapshots(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    without_updates = all("Update" not in item for item in transact_items)
    _transacting.snapshots = {} if without_updates else None
    _transacting.actions = transact_items
    try:
        _transact_write_items(self, transact_items)
    finally:
        _transacting.snapshots = None
        _transacting.actions = None


_process_request = BotocoreStubber.process_request
# The handler moto routes each URL to (scheme, host and path: moto never routes on the query).
_routes: dict[str, Callable[..., TYPE_RESPONSE]] = {}
_ROUTES_KEPT = 20_000  # one per S3 object a night touches at most; forgotten all at once beyond


def _moto_route(clean_url: str) -> Callable[..., TYPE_RESPONSE] | None:
    """The handler ``BotocoreStubber.process_request`` would call for ``clean_url``, found the way
    it finds it; None where moto would pass the request through or refuse it."""
    if passthrough_url(clean_url):
        return None
    for service, pattern in moto_backend_index.backend_url_patterns:
        if pattern.match(clean_url):
            if passthrough_service(service) or not service_whitelisted(service):
                return None
            backend_dict = moto_backends.get_backend(service)  # type: ignore[call-overload]  # (moto types it per name)
            if isinstance(backend_dict, BackendDict):
                regions = backend_dict[DEFAULT_ACCOUNT_ID]
                backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
            else:
                backend = backend_dict["global"]
            for url, handler in backend.urls.items():
                if re.compile(url).match(clean_url):
                    return handler
    return None


def _routed_request(self: BotocoreStubber, request: Any) -> TYPE_RESPONSE | None:
    parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    handler = _routes.get(clean_url)
    if handler is None:
        handler = _moto_route(clean_url)
        if handler is None:
            return _process_request(self, request)
        if len(_routes) >= _ROUTES_KEPT:
            _routes.clear()
        _routes[clean_url] = handler
    normalized_request = normalize_request(request)
    try:
        recorder._record_request(normalized_request)
        status, headers, body = handler(normalized_request, normalized_request.raw_url, normalized_request.headers)
    except HTTPException as error:
        # moto's own routing returns these as they are (werkzeug types them loosely).
        return error.code, error.get_headers(), error.get_body()  # type: ignore[return-value]
    return status, headers, body


# The HTTP date S3 writes in Last-Modified (RFC 7231, IMF-fixdate): always GMT.
_HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"


def _utc_timestamp(value: Any) -> datetime | None:
    """``value`` read as botocore's ``parse_timestamp`` reads it, when it is ISO 8601 in UTC or
    an HTTP date; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        if "T" in value and value[:4].isdigit():
            parsed = datetime.fromisoformat(value)
            if parsed.utcoffset() != timedelta(0):
                return None
            return _as_dateutil_utc(parsed.replace(tzinfo=None))
        if value.endswith(" GMT"):
            # botocore maps GMT to tzutc() itself (its tzinfos).
            return datetime.strptime(value, _HTTP_DATE).replace(tzinfo=tzutc())
    except ValueError:
        return None
    return None


def _as_dateutil_utc(naive: datetime) -> datetime:
    # dateutil names an offset of zero (or Z) "UTC", and gives it the machine's local zone when
    # the machine's zone is called UTC too, tzutc() otherwise (``parser._build_tzaware``).
    if "UTC" in time.tzname:
        local = naive.replace(tzinfo=tzlocal())
        if local.tzname() == "UTC":
            return local
    return naive.replace(tzinfo=tzutc())


def _botocore_timestamp(value: Any) -> Any:
    parsed = _utc_timestamp(value)
    return parsed if parsed is not None else _parse_timestamp(value)


_resolve_endpoint = EndpointProvider.resolve_endpoint


def _is_arn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:")


def _resolve_without_table_names(self: EndpointProvider, **params: Any) -> Any:
    if "ResourceArnList" in self.ruleset.parameters:  # DynamoDB's rule set (see the module docstring)
        if "ResourceArn" in params and not _is_arn(params["ResourceArn"]):
            del params["ResourceArn"]
        names = params.get("ResourceArnList")
        if names is not None and not (names and _is_arn(names[0])):
            del params["ResourceArnList"]
    return _resolve_endpoint(self, **params)


def _random_string(self: MotoRandom, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
    pool = string.ascii_letters + (string.digits if include_digits else "")
    drawn = "".join(self.choices(pool, k=length))
    return drawn.lower() if lower_case else drawn


_add_sigv4_auth = SigV4Auth.add_auth
_UNCHECKED_SIGNATURE = "0" * 64


def _add_credential_only(self: SigV4Auth, request: Any) -> None:
    if isinstance(self, SigV4QueryAuth):
        _add_sigv4_auth(self, request)
        return
    if self.credentials is None:
        raise NoCredentialsError()
    request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
    self._modify_request_before_signing(request)  # type: ignore[attr-defined]  # (private, unstubbed)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={self.scope(request)}, SignedHeaders=host, Signature={_UNCHECKED_SIGNATURE}"
    )


_lambda_clients: dict[tuple[str, str], BaseClient] = {}
_lambda_clients_lock = threading.Lock()


def _kept_boto_client(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    # moto's boto_client_for makes every client with the same keys, whatever the state's
    # credentials: one client per region and service is what it would have made.
    with _lambda_clients_lock:  # creating a boto3 client is not thread-safe
        if (region, service) not in _lambda_clients:
            _lambda_clients[(region, service)] = _boto_client_for(region, service)
        return _lambda_clients[(region, service)]


@contextmanager
def fast_account_lookups() -> Iterator[None]:
    """While active, a prefix listing reads only the keys under its prefix, a table's tags are
    found by its name, a query reads only the items under its hash key, a transaction's rollback
    copies only item dictionaries, and S3 requests are
    routed by moto's S3 URL module as it was loaded when the lookups started."""
    s3_urls = importlib.reload(moto_s3_urls)
    with (
        mock.patch.object(S3Backend, "_url_module", property(lambda _self: s3_urls)),
        mock.patch.object(BackendDict, "_create_account_specific_backend", _create_account_backend_once),
        mock.patch.object(moto_responses, "method_names_from_class", _method_names_once),
        mock.patch.object(moto_serialize, "parse_to_aware_datetime", _aware_datetime),
        mock.patch.object(S3Backend, "list_objects", _list_objects_under_prefix),
        mock.patch.object(_VersionedKeyStore, "__setitem__", _indexed_setitem),
        mock.patch.object(_VersionedKeyStore, "setlist", _indexed_setlist),
        mock.patch.object(DynamoDBBackend, "list_tags_of_resource", _list_tags_by_name),
        mock.patch.object(Table, "query", _query_by_hash_key),
        mock.patch.object(Table, "all_items", _items_under_hash_key),
        mock.patch.object(moto_dynamodb_models, "copy", _TransactionCopies),
        mock.patch.object(DynamoDBBackend, "transact_write_items", _transact_with_snapshots),
        mock.patch.object(SigV4Auth, "add_auth", _add_credential_only),
        mock.patch.object(BotocoreStubber, "process_request", _routed_request),
        mock.patch.object(botocore_parsers, "DEFAULT_TIMESTAMP_PARSER", _botocore_timestamp),
        mock.patch.object(EndpointProvider, "resolve_endpoint", _resolve_without_table_names),
        mock.patch.object(MotoRandom, "get_random_string", _random_string),
        mock.patch.object(lambda_eval_utils, "boto_client_for", _kept_boto_client),
    ):
        try:
            yield
        finally:
            _routes.clear()
            with _lambda_clients_lock:
                _lambda_clients.clear()
