"""The data lines of the EMR export tool (DynamoDBExport 4.11.0): written byte for byte, read as
DynamoDBImport reads them.

Pure: no AWS calls. Items are in the shape boto3's low-level DynamoDB client uses: one
``{"S" | "N" | "B" | "SS" | "NS" | "BS" | "M" | "L" | "NULL" | "BOOL": value}`` per attribute,
with binary values as ``bytes``.

What the tool writes, read from awslabs/emr-dynamodb-connector at 4.11.0 (commit
cbed033cda0a032708b3c2f6babf510d0c3bee84, the last before "Prepare for 4.12.0 development"; its
pom.xml names aws-java-sdk 1.11.475 and gson 2.1). ``<tools>`` is
emr-dynamodb-tools/src/main/java/org/apache/hadoop/dynamodb and ``<hadoop>`` is
emr-dynamodb-hadoop/src/main/java/org/apache/hadoop/dynamodb:

* one line per item: ``ExportRecordWriter.write`` writes ``DynamoDBItemWritable.writeStream()``
  as UTF-8 bytes, then ``"\\n"``, and nothing else: no header, no wrapping object
  (<tools>/exportformat/ExportRecordWriter.java);
* ``writeStream()`` is ``DynamoDBUtil.getGson().toJson(item, Map<String, AttributeValue>)``
  (<hadoop>/DynamoDBItemWritable.java), with the Gson of ``DynamoDBUtil``: default settings,
  ``disableHtmlEscaping()``, and a serializer that writes a ``ByteBuffer`` as
  ``Base64.encodeBase64(buffer.array())`` of commons-codec, the standard alphabet with padding
  and no line breaks (<hadoop>/DynamoDBUtil.java);
* Gson serialises the SDK v1 ``AttributeValue`` by reflection, so each value is an object keyed by
  the Java field's name: ``s``, ``n``, ``b``, ``sS``, ``nS``, ``bS``, ``m``, ``l``, ``nULLValue``,
  ``bOOL`` (aws/aws-sdk-java 1.11.x, aws-java-sdk-dynamodb/src/main/java/com/amazonaws/services/
  dynamodbv2/model/AttributeValue.java). Unset fields are null, and Gson leaves nulls out
  (google/gson at gson-2.1: src/main/java/com/google/gson/internal/bind/
  ReflectiveTypeAdapterFactory.java writes each field, and src/main/java/com/google/gson/stream/
  JsonWriter.java ``nullValue()`` drops the name when serializeNulls is false), so a value has
  exactly its one key: ``{"s":"x"}``, ``{"nULLValue":true}``;
* no whitespace; strings escaped as gson 2.1's ``JsonWriter.string`` does (same file): ``\\"``,
  ``\\\\``, ``\\t \\b \\n \\r \\f``, other characters up to U+001F and U+2028, U+2029 as
  ``\\u00xx`` (lower-case hex); with HTML escaping off, ``< > & = '`` stay as they are, and every
  other character is written as it is (UTF-8);
* the attributes of an item (and of a map) in the iteration order of the ``java.util.HashMap`` the
  SDK v1 unmarshaller fills in the order of the Scan response (aws-java-sdk-core/src/main/java/
  com/amazonaws/transform/MapUnmarshaller.java makes a ``new HashMap``; the DynamoDB module's
  ScanResultJsonUnmarshaller and AttributeValueJsonUnmarshaller use it for items and ``M``); see
  :func:`java_hash_map_order`. Lists and sets keep DynamoDB's order.

What DynamoDBImport does with a line (<tools>/importformat/ImportRecordReader.java and
<hadoop>/DynamoDBItemWritable.java ``readFieldsStream``): Hadoop's LineReader splits on ``\\n``,
``\\r`` or ``\\r\\n``; the line is trimmed; then Gson reads ``Map<String, AttributeValue>``: a
repeated attribute name is an error (gson 2.1, src/main/java/com/google/gson/internal/bind/
MapTypeAdapterFactory.java: "duplicate key"), and a key it does not know in a value (``"S"``,
``"N"`` of the standard DynamoDB JSON) is skipped (ReflectiveTypeAdapterFactory: ``skipValue``).
Such a value has no type set, and DynamoDB refuses the BatchWriteItem ("Supplied AttributeValue is
empty, must contain exactly one of the supported datatypes"), which fails the import: a line in
standard DynamoDB JSON cannot be restored. :func:`parse_item_line` raises
:class:`~hippolyte.errors.InvalidExportLineError` where the import would fail. It is stricter than
the tool in two ways, for lines the export tool never writes: values must have their JSON types
and the line must be strict JSON (Gson's lenient reader would also take ``{"s":5}`` as the string
"5", or unquoted names), and the old Hive export's lines (``name^C{...}^Bname^C{...}``, which
``fixMalformedJson`` turns into JSON) are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from hippolyte.errors import InvalidExportLineError, UnexportableItemError

# AttributeValue's fields in aws-java-sdk-dynamodb 1.11.x, as Gson names them.
GSON_FIELDS = {
    "S": "s",
    "N": "n",
    "B": "b",
    "SS": "sS",
    "NS": "nS",
    "BS": "bS",
    "M": "m",
    "L": "l",
    "NULL": "nULLValue",
    "BOOL": "bOOL",
}
_TYPES_BY_FIELD = {field: kind for kind, field in GSON_FIELDS.items()}

# gson 2.1 JsonWriter.string: the characters it escapes when HTML escaping is off.
_GSON_ESCAPES: dict[int, str] = {code: f"\\u{code:04x}" for code in range(0x20)}
_GSON_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\t"): "\\t",
        ord("\b"): "\\b",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\f"): "\\f",
        0x2028: "\\u2028",
        0x2029: "\\u2029",
    }
)

# java.util.HashMap, Java 8 and later (OpenJDK src/java.base/share/classes/java/util/HashMap.java):
# DEFAULT_INITIAL_CAPACITY 16 and load factor 0.75 (it doubles past 3/4 full); putVal calls
# treeifyBin when an append makes a bin 9 long (TREEIFY_THRESHOLD 8, "-1 for 1st"), and treeifyBin
# resizes instead while the table is under MIN_TREEIFY_CAPACITY 64.
_JAVA_INITIAL_CAPACITY = 16
_JAVA_TREEIFY_LENGTH = 9
_JAVA_MIN_TREEIFY_CAPACITY = 64


@lru_cache(maxsize=8192)
def _java_string_hash(text: str) -> int:
    """``String.hashCode()``: over UTF-16 code units, as an unsigned 32-bit number."""
    data = text.encode("utf-16-be", "surrogatepass")
    value = 0
    for index in range(0, len(data), 2):
        value = (31 * value + (data[index] << 8 | data[index + 1])) & 0xFFFFFFFF
    return value


@lru_cache(maxsize=4096)
def _java_hash_map_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    capacity = _JAVA_INITIAL_CAPACITY
    bins: list[list[tuple[int, str]]] = [[] for _ in range(capacity)]
    size = 0

    def resize() -> None:
        # Doubling splits each bin into the same index and index + old capacity, keeping the
        # bin's order (HashMap.resize): walking the old bins in order gives the same result.
        nonlocal capacity, bins
        capacity *= 2
        grown: list[list[tuple[int, str]]] = [[] for _ in range(capacity)]
        for old in bins:
            for entry in old:
                grown[entry[0] & (capacity - 1)].append(entry)
        bins = grown

    for key in keys:
        code = _java_string_hash(key)
        spread = code ^ (code >> 16)  # HashMap.hash: h ^ (h >>> 16)
        chain = bins[spread & (capacity - 1)]
        if any(existing == key for _, existing in chain):
            continue  # put on a present key replaces the value in place
        chain.append((spread, key))
        size += 1
        if len(chain) >= _JAVA_TREEIFY_LENGTH:
            # putVal calls treeifyBin, which only resizes a table under 64 bins; a larger one
            # turns the bin into a red-black tree, whose iteration order is not emulated.
            if capacity < _JAVA_MIN_TREEIFY_CAPACITY:
                resize()
            else:
                raise UnexportableItemError(
                    f"{len(chain)} attribute names share one java.util.HashMap bin; the export "
                    "tool's attribute order for such an item is not emulated"
                )
        if size > capacity * 3 // 4:
            resize()
    return tuple(key for chain in bins for _, key in chain)


def java_hash_map_order(keys: Iterable[str]) -> list[str]:
    """The order a ``java.util.HashMap<String, ?>`` iterates keys put into it in this order.

    That is the order of the attributes on a DynamoDBExport line: the SDK v1 unmarshaller puts
    a Scan response's attributes into a new HashMap, and Gson writes the map in iteration order.

    >>> java_hash_map_order(["pk", "sk", "total"])
    ['total', 'sk', 'pk']
    >>> java_hash_map_order(["Aa", "BB"]), java_hash_map_order(["BB", "Aa"])  # equal hashCode()
    (['Aa', 'BB'], ['BB', 'Aa'])
    """
    return list(_java_hash_map_order(tuple(keys)))


def _gson_string(text: str) -> str:
    return '"' + text.translate(_GSON_ESCAPES) + '"'


def _base64(data: Any, where: str) -> str:
    if not isinstance(data, bytes | bytearray):
        raise UnexportableItemError(f"{where}: binary value {data!r} is not bytes")
    return base64.b64encode(bytes(data)).decode("ascii")


def _strings(values: Any, where: str) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(value, str) for value in values):
        raise UnexportableItemError(f"{where}: {values!r} is not a list of strings")
    return list(values)


def _value_json(attribute: Any, where: str) -> str:
    if not isinstance(attribute, Mapping) or len(attribute) != 1:
        raise UnexportableItemError(f"{where}: {attribute!r} is not an attribute value with one type")
    ((kind, value),) = attribute.items()
    field = GSON_FIELDS.get(kind)
    if field is None:
        raise UnexportableItemError(f"{where}: unknown attribute type {kind!r}")
    if kind in ("S", "N"):
        if not isinstance(value, str):
            raise UnexportableItemError(f"{where}: {kind} value {value!r} is not a string")
        body = _gson_string(value)
    elif kind == "B":
        body = '"' + _base64(value, where) + '"'
    elif kind in ("SS", "NS"):
        body = "[" + ",".join(_gson_string(text) for text in _strings(value, where)) + "]"
    elif kind == "BS":
        if not isinstance(value, list | tuple):
            raise UnexportableItemError(f"{where}: BS value {value!r} is not a list")
        body = "[" + ",".join('"' + _base64(data, where) + '"' for data in value) + "]"
    elif kind == "M":
        body = _map_json(value, where)
    elif kind == "L":
        if not isinstance(value, list | tuple):
            raise UnexportableItemError(f"{where}: L value {value!r} is not a list")
        body = "[" + ",".join(_value_json(element, f"{where}[{n}]") for n, element in enumerate(value)) + "]"
    else:
        if not isinstance(value, bool):
            raise UnexportableItemError(f"{where}: {kind} value {value!r} is not a boolean")
        body = "true" if value else "false"
    return '{"' + field + '":' + body + "}"


def _map_json(attributes: Any, where: str) -> str:
    if not isinstance(attributes, Mapping):
        raise UnexportableItemError(f"{where}: {attributes!r} is not a map of attributes")
    names = list(attributes)
    if not all(isinstance(name, str) for name in names):
        raise UnexportableItemError(f"{where}: attribute names must be strings")
    return (
        "{"
        + ",".join(
            _gson_string(name) + ":" + _value_json(attributes[name], f"{where}.{name}" if where else name)
            for name in java_hash_map_order(names)
        )
        + "}"
    )


def item_line(item: Mapping[str, Any]) -> str:
    """One item as DynamoDBExport 4.11.0 writes its line (without the ``\\n`` that ends it).

    >>> item_line({"pk": {"S": "a<b"}, "sk": {"N": "1"}, "total": {"B": b"\\x00\\xff"}})
    '{"total":{"b":"AP8="},"sk":{"n":"1"},"pk":{"s":"a<b"}}'
    >>> item_line({"tags": {"SS": ["x"]}, "gone": {"NULL": True}, "ok": {"BOOL": False}})
    '{"ok":{"bOOL":false},"tags":{"sS":["x"]},"gone":{"nULLValue":true}}'
    """
    return _map_json(item, "")


def data_file(items: Iterable[Mapping[str, Any]]) -> bytes:
    """A data file's content: each item's line in UTF-8, each ended by ``\\n`` (ExportRecordWriter).

    >>> data_file([{"id": {"S": "é"}}, {"id": {"S": "\\n"}}])
    b'{"id":{"s":"\\xc3\\xa9"}}\\n{"id":{"s":"\\\\n"}}\\n'
    """
    return b"".join(item_line(item).encode("utf-8") + b"\n" for item in items)


def split_lines(body: bytes) -> list[bytes]:
    r"""A data file's lines as Hadoop's LineReader gives them: split on ``\n``, ``\r`` or ``\r\n``.

    A file that ends with a line break has no empty line after it.

    >>> split_lines(b'{"a":{"n":"1"}}\n{"a":{"n":"2"}}\r\n')
    [b'{"a":{"n":"1"}}', b'{"a":{"n":"2"}}']
    """
    return body.splitlines()


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in order, repeats included (read before its meaning is known)."""


def _java_trim(text: str) -> str:
    # String.trim() removes every character up to U+0020 at both ends.
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def _decode_base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidExportLineError(f"{where}: binary value {text!r} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidExportLineError(f"{where}: {text!r} is not base64") from None


def _item_from_pairs(pairs: Any, where: str) -> dict[str, Any]:
    if not isinstance(pairs, _Pairs):
        raise InvalidExportLineError(f"{where or 'the line'} is not a JSON object of attributes")
    item: dict[str, Any] = {}
    for name, value in pairs:
        path = f"{where}.{name}" if where else name
        if name in item:
            # gson 2.1 MapTypeAdapterFactory.Adapter.read: "duplicate key"
            raise InvalidExportLineError(f"{path}: the attribute appears twice")
        item[name] = _attribute_from_pairs(value, path)
    return item


def _attribute_from_pairs(pairs: Any, where: str) -> dict[str, Any]:
    if not isinstance(pairs, _Pairs):
        # A JSON null is a null AttributeValue: the SDK cannot send it and the write fails.
        raise InvalidExportLineError(f"{where}: {pairs!r} is not an attribute value object")
    # Gson's reflective adapter: the last of repeated fields wins, unknown fields are skipped.
    fields = {name: value for name, value in pairs if name in _TYPES_BY_FIELD and value is not None}
    if len(fields) != 1:
        found = ", ".join(name for name, _ in pairs) or "nothing"
        raise InvalidExportLineError(
            f"{where}: an attribute value needs exactly one of {', '.join(GSON_FIELDS.values())}; "
            f"found {found} (DynamoDB refuses such a value, so DynamoDBImport fails)"
        )
    ((field, value),) = fields.items()
    kind = _TYPES_BY_FIELD[field]
    if kind in ("S", "N"):
        if not isinstance(value, str):
            raise InvalidExportLineError(f"{where}: {field} is not a string")
        return {kind: value}
    if kind == "B":
        return {kind: _decode_base64(value, where)}
    if kind in ("NULL", "BOOL"):
        if not isinstance(value, bool) or (kind == "NULL" and value is not True):
            # DynamoDB: a NULL value must be true.
            raise InvalidExportLineError(f"{where}: {field} is {value!r}")
        return {kind: value}
    if kind == "M":
        return {kind: _item_from_pairs(value, where)}
    if not isinstance(value, list):
        raise InvalidExportLineError(f"{where}: {field} is not a list")
    if kind == "L":
        return {kind: [_attribute_from_pairs(element, f"{where}[{n}]") for n, element in enumerate(value)]}
    if kind == "BS":
        members: list[Any] = [_decode_base64(element, where) for element in value]
    else:
        if not all(isinstance(element, str) for element in value):
            raise InvalidExportLineError(f"{where}: {field} holds a value that is not a string")
        members = list(value)
    # DynamoDB refuses empty sets and sets with repeats ("Input collection ... contains duplicates").
    if not members or len(set(members)) != len(members):
        raise InvalidExportLineError(f"{where}: {field} is empty or holds a value twice")
    return {kind: members}


def parse_item_line(line: str | bytes) -> dict[str, Any]:
    """One data line read back as DynamoDBImport 4.11.0 reads it; InvalidExportLineError if the
    import could not write it (see the module's docstring).

    >>> parse_item_line('{"sk":{"n":"1"},"pk":{"s":"a"},"blob":{"b":"AP8="}}')
    {'sk': {'N': '1'}, 'pk': {'S': 'a'}, 'blob': {'B': b'\\x00\\xff'}}
    >>> parse_item_line('{"pk":{"S":"a"}}')
    Traceback (most recent call last):
    ...
    hippolyte.errors.InvalidExportLineError: pk: an attribute value needs exactly one of s, n, b, sS, nS, bS, m, l, \
nULLValue, bOOL; found S (DynamoDB refuses such a value, so DynamoDBImport fails)
    """
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    # DynamoDBItemWritable.fixMalformedJson trims the line, and makes an empty one "{}".
    text = _java_trim(text) or "{}"
    try:
        document = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as error:
        raise InvalidExportLineError(f"not JSON: {error}") from None
    item = _item_from_pairs(document, "")
    if not item:
        # An empty item has no key: DynamoDB refuses the write.
        raise InvalidExportLineError("the line holds no attribute")
    return item


def parse_data_file(body: bytes) -> list[dict[str, Any]]:
    """Every item of a data file, read as DynamoDBImport reads it (InvalidExportLineError naming the line).

    >>> parse_data_file(b'{"id":{"n":"1"}}\\n{"id":{"n":"2"}}\\n')
    [{'id': {'N': '1'}}, {'id': {'N': '2'}}]
    """
    items = []
    for number, line in enumerate(split_lines(body), start=1):
        try:
            items.append(parse_item_line(line))
        except InvalidExportLineError as error:
            raise InvalidExportLineError(f"line {number}: {error}") from None
    return items


def count_items(lines: Iterable[bytes], check_first: int | None = None) -> int:
    """The items of a data file's lines; InvalidExportLineError, naming the line, for one the import could not restore.

    An item is one line and a line one item: Gson escapes the line breaks inside strings, so a raw
    ``\\n`` or ``\\r`` only ends a line. Empty lines are not counted. Every item line is read as
    the import reads it, or only the first ``check_first`` of them.

    >>> count_items([b'{"id":{"n":"1"}}', b"", b'{"id":{"n":"2"}}'])
    2
    >>> count_items([b'{"id":{"n":"1"}}', b'{"id":{"N":"2"}}'], check_first=1)
    2
    """
    total = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if check_first is None or total < check_first:
            try:
                parse_item_line(line)
            except InvalidExportLineError as error:
                raise InvalidExportLineError(f"line {number}: {error}") from None
        total += 1
    return total
