"""The EMR export tool's data lines (DynamoDBExport 4.11.0): written byte for byte as the tool
writes them, read back as DynamoDBImport reads them, and refused where the import would fail."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hippolyte.emr_export_format import (
    count_items,
    data_file,
    item_line,
    java_hash_map_order,
    parse_data_file,
    parse_item_line,
    split_lines,
)
from hippolyte.errors import InvalidExportLineError, UnexportableItemError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures import dynamodb_export_4_11_0 as fixture


def test_the_writer_writes_the_hand_written_4_11_0_data_file_byte_for_byte() -> None:
    # GIVEN the fixture's items and its data file, written by hand from the connector's serializer
    # WHEN the items are written as the emulated export writes them
    written = data_file(fixture.ITEMS)
    # THEN every byte is the fixture's, line by line
    assert written.splitlines() == fixture.DATA_FILE.read_bytes().splitlines()
    assert written == fixture.DATA_FILE.read_bytes()


def test_the_reader_gives_back_every_attribute_of_the_4_11_0_data_file() -> None:
    # GIVEN the hand-written data file
    # WHEN it is read as DynamoDBImport reads it
    items = parse_data_file(fixture.DATA_FILE.read_bytes())
    # THEN each item has exactly the expected attributes, binary as bytes
    assert len(items) == len(fixture.ITEMS)
    for got, expected in zip(items, fixture.ITEMS, strict=True):
        assert sorted(got) == sorted(expected)
        for name, value in expected.items():
            assert got[name] == value, (expected["pk"], name)


def test_strings_are_escaped_as_gson_escapes_them_with_html_escaping_off() -> None:
    # GIVEN a string with every character Gson escapes, and some it leaves alone
    text = "\"\\/\n\t\b\f\r\x00\x1f\x7f\u2028\u2029<>&='é😀"
    # WHEN it is written
    line = item_line({"k": {"S": text}})
    # THEN quotes, backslashes, control characters and U+2028/9 are escaped (lower-case hex),
    # and the rest, HTML characters and non-ASCII included, is written as it is
    assert line == '{"k":{"s":"\\"\\\\/\\n\\t\\b\\f\\r\\u0000\\u001f\x7f\\u2028\\u2029<>&=\'é😀"}}'
    assert parse_item_line(line.encode("utf-8")) == {"k": {"S": text}}


def test_attributes_come_in_java_hash_map_order_through_resizes() -> None:
    # GIVEN 13 attribute names (one more than a 16-bin HashMap holds before it doubles)
    names = [f"a{number}" for number in range(13)]
    # WHEN they are ordered (the expected order is java.util.HashMap's, printed by a JDK)
    # THEN the order is the doubled table's
    assert java_hash_map_order(names) == [f"a{n}" for n in (11, 10, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)]


def test_names_sharing_a_bin_keep_the_order_they_came_in_until_the_bin_becomes_a_tree() -> None:
    # GIVEN names of one String.hashCode(), so that they share a bin however large the table
    same_hash = ["BBAaBBAa", "AaAaAaAa", "BBBBBBBB", "AaBBAaBB", "AaAaBBBB"]
    same_hash += ["BBAaAaAa", "AaBBBBAa", "BBBBAaAa", "AaAaAaBB", "BBAaBBBB"]
    # WHEN ten are put (the 9th and 10th make HashMap grow instead of making a tree)
    # THEN they come out in the order they were put, as a JDK prints them
    assert java_hash_map_order(same_hash) == same_hash
    # AND an 11th makes the bin a red-black tree, whose order is not emulated: a named error
    with pytest.raises(UnexportableItemError, match=r"11 attribute names share one java\.util\.HashMap bin"):
        item_line({name: {"N": "1"} for name in [*same_hash, "AaBBAaAa"]})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"pk":{"S":"a"},"sk":{"N":"1"}}', "pk: an attribute value needs exactly one of s, n, b"),
        ('{"pk":{"s":"a"},"sk":{}}', "sk: an attribute value needs exactly one of s, n, b"),
        ('{"pk":{"s":"a","n":"1"}}', "found s, n"),
        ('{"pk":{"s":"a"},"pk":{"s":"b"}}', "pk: the attribute appears twice"),
        ('{"pk":{"m":{"x":{"n":"1"},"x":{"n":"2"}}}}', "pk.x: the attribute appears twice"),
        ('{"pk":{"sS":[]}}', "pk: sS is empty or holds a value twice"),
        ('{"pk":{"nS":["1","1"]}}', "pk: nS is empty or holds a value twice"),
        ('{"pk":{"nULLValue":false}}', "pk: nULLValue is False"),
        ('{"pk":{"b":"not base64!"}}', "pk: 'not base64!' is not base64"),
        ('{"pk":{"l":[{"s":"a"},{"S":"b"}]}}', "pk[1]: an attribute value needs exactly one of"),
        ('{"pk":null}', "pk: None is not an attribute value object"),
        ('{"pk":{"s":5}}', "pk: s is not a string"),
        ('{"pk":{"s":"a"}} {"pk":{"s":"b"}}', "not JSON"),
        ("", "the line holds no attribute"),
    ],
)
def test_lines_dynamodbimport_could_not_restore_are_refused(line: str, message: str) -> None:
    # GIVEN a line the import would fail on (Gson's error, or DynamoDB refusing the write)
    # WHEN it is read
    # THEN a named error says what is wrong with it
    with pytest.raises(InvalidExportLineError) as raised:
        parse_item_line(line)
    assert message in str(raised.value)


def test_lines_are_read_with_the_leniencies_of_gson_and_the_tool() -> None:
    # GIVEN lines the import reads although the export tool never writes them: an unknown key
    # beside a known one (Gson skips it), control characters and spaces around the line (trimmed)
    # WHEN they are read
    # THEN they give the items the import writes
    assert parse_item_line('{"pk":{"S":"ignored","s":"a"}}') == {"pk": {"S": "a"}}
    assert parse_item_line(b' \t{"pk":{"s":"a"}}\x00 ') == {"pk": {"S": "a"}}


def test_a_data_file_is_split_into_lines_as_hadoop_splits_it() -> None:
    # GIVEN a data file with \n, \r\n and \r line ends, and a blank line
    body = b'{"a":{"n":"1"}}\n{"a":{"n":"2"}}\r\n\n{"a":{"n":"3"}}\r{"a":{"n":"4"}}\n'
    # WHEN it is split and counted
    # THEN there are four items and one blank line, and no line after the last break
    assert len(split_lines(body)) == 5
    assert count_items(split_lines(body)) == 4


def test_counting_names_the_first_line_the_import_could_not_read() -> None:
    # GIVEN a data file whose third line is in standard DynamoDB JSON
    lines = [b'{"a":{"n":"1"}}', b"", b'{"a":{"N":"2"}}']
    # WHEN its items are counted, every line checked
    # THEN the error names the line
    with pytest.raises(InvalidExportLineError, match=r"^line 3: a: an attribute value needs"):
        count_items(lines)
    # AND counting with only the first item line checked counts it
    assert count_items(lines, check_first=1) == 2


@pytest.mark.parametrize(
    "item",
    [
        {"pk": {"B": "AP8="}},
        {"pk": {"S": 1}},
        {"pk": {"X": "1"}},
        {"pk": {"S": "a", "N": "1"}},
        {"pk": {"BOOL": "true"}},
        {"pk": {"L": [{"S": "a"}, "b"]}},
    ],
)
def test_the_writer_refuses_what_is_not_a_dynamodb_item(item: dict[str, Any]) -> None:
    # GIVEN an item not in boto3's shape (binary as text, a number for a string, an unknown or second type)
    # WHEN it is written
    # THEN a named error says where
    with pytest.raises(UnexportableItemError, match=r"^pk"):
        item_line(item)


_names = st.text(alphabet=string.ascii_letters + 'é😀_-. \n"', min_size=1, max_size=6)
_scalars = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=12)),
    st.builds(lambda number: {"N": str(number)}, st.integers(-(10**20), 10**20)),
    st.builds(lambda data: {"B": data}, st.binary(max_size=12)),
    st.builds(lambda texts: {"SS": sorted(texts)}, st.sets(st.text(max_size=5), min_size=1, max_size=4)),
    st.builds(
        lambda numbers: {"NS": [str(n) for n in sorted(numbers)]}, st.sets(st.integers(), min_size=1, max_size=4)
    ),
    st.builds(lambda blobs: {"BS": sorted(blobs)}, st.sets(st.binary(max_size=4), min_size=1, max_size=4)),
    st.just({"NULL": True}),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.builds(lambda mapping: {"M": mapping}, st.dictionaries(_names, inner, max_size=5)),
        st.builds(lambda values: {"L": values}, st.lists(inner, max_size=4)),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, _values, min_size=1, max_size=20))
def test_any_item_written_as_a_line_is_read_back_the_same(item: dict[str, Any]) -> None:
    # GIVEN any item of DynamoDB's types, names and strings with characters Gson escapes
    # WHEN it is written as the export tool's line and read back as the import reads it
    line = item_line(item)
    # THEN the line is one line, and the item comes back whole, binary as bytes
    assert len(split_lines(line.encode("utf-8"))) == 1
    assert parse_item_line(line.encode("utf-8")) == item
