"""Discovery filters: which tables a night backs up, and why the others are skipped.

The precedence (strongest first) is documented in ``hippolyte/discovery.py``: a manual run's list
(tested at the handler level, tests/functional/test_handlers.py), ``ALWAYS_BACKUP``, the opt-out
tag, then the anchored exclude patterns.
"""

from __future__ import annotations

import re

import pytest
from hippolyte.discovery import DiscoveryRules, missing_tables, skip_reason, split_selected
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)
OPT_OUT = {"hippolyte:backup": "false"}

# --------------------------------------------------------------------------------------------
# Precedence
# --------------------------------------------------------------------------------------------


def test_always_backup_beats_both_the_tag_and_the_patterns():
    # GIVEN a table that is tagged out AND matched by an exclude pattern, but on the compliance list
    rules = DiscoveryRules(exclude_patterns=("audit-.*",), always_backup=frozenset({"audit-log"}))
    # WHEN discovery decides
    reason = skip_reason("audit-log", OPT_OUT, rules)
    # THEN the table is backed up
    assert reason is None


def test_the_tag_opts_out_a_table_no_pattern_excludes():
    # GIVEN a table tagged hippolyte:backup=false and no exclude pattern
    rules = DiscoveryRules()
    # WHEN discovery decides
    reason = skip_reason("orders", OPT_OUT, rules)
    # THEN it is skipped, and the reason names the tag so its owner knows how to undo it
    assert reason is not None
    assert "hippolyte:backup=false" in reason


def test_the_tag_is_reported_before_a_matching_pattern():
    # GIVEN a table both tagged out and matched by a pattern
    rules = DiscoveryRules(exclude_patterns=("orders",))
    # WHEN discovery decides
    reason = skip_reason("orders", OPT_OUT, rules)
    # THEN the reason given is the stronger rule: the tag
    assert reason is not None
    assert "tag" in reason
    assert "pattern" not in reason


@pytest.mark.parametrize("value", ["false", "FALSE", " False "])
def test_the_opt_out_tag_ignores_case_and_spaces(value):
    # GIVEN the tag written as people write it
    # WHEN discovery decides
    # THEN the table is opted out
    assert skip_reason("orders", {"hippolyte:backup": value}, DiscoveryRules()) is not None


@pytest.mark.parametrize("value", ["true", "no", "", "0"])
def test_only_false_opts_out(value):
    # GIVEN the tag with any value other than false
    # WHEN discovery decides
    # THEN the table is still backed up (only an explicit "false" opts out)
    assert skip_reason("orders", {"hippolyte:backup": value}, DiscoveryRules()) is None


def test_a_pattern_exclusion_names_the_pattern():
    # GIVEN two exclude patterns
    rules = DiscoveryRules(exclude_patterns=("tmp-.*", "scratch-.*"))
    # WHEN a table matches the second
    reason = skip_reason("scratch-42", {}, rules)
    # THEN the reason names that pattern
    assert reason is not None
    assert "'scratch-.*'" in reason


# --------------------------------------------------------------------------------------------
# Anchored matching
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "excluded"),
    [
        ("tmp", "tmp", True),
        ("tmp", "tmp-1", False),  # a prefix is not a match
        ("tmp", "my-tmp", False),  # nor a suffix
        ("tmp", "a-tmp-b", False),  # nor a substring
        ("tmp.*", "tmp-1", True),
        ("tmp.*", "my-tmp", False),
        (".*-staging", "orders-staging", True),
        (".*-staging", "orders-staging-old", False),
        ("dev|test", "dev", True),  # alternation is anchored as a whole
        ("dev|test", "devices", False),
        ("dev|test", "contest", False),
    ],
)
def test_patterns_match_the_whole_name(pattern, name, excluded):
    # GIVEN one exclude pattern
    rules = DiscoveryRules(exclude_patterns=(pattern,))
    # WHEN a table's name is checked
    # THEN only a match of the whole name excludes it
    assert (rules.excluded_by(name) is not None) is excluded


# --------------------------------------------------------------------------------------------
# split_selected and missing_tables
# --------------------------------------------------------------------------------------------

# Short names from a small alphabet, so that patterns, tags and lists often meet the same names.
names = st.text(alphabet="abct-1", min_size=3, max_size=6)


@PROPERTY
@given(
    tables=st.lists(names, unique=True, max_size=30),
    opted_out=st.sets(names, max_size=10),
    always=st.sets(names, max_size=10),
    patterns=st.lists(st.sampled_from(["t.*", ".*-1", "a.*", "[a-c]{3}", "abc"]), max_size=3),
)
def test_split_selected_keeps_every_table_exactly_once(tables, opted_out, always, patterns):
    # GIVEN any tables, tags, compliance list and patterns
    rules = DiscoveryRules(exclude_patterns=tuple(patterns), always_backup=frozenset(always))
    tags = {name: dict(OPT_OUT) for name in opted_out}
    # WHEN discovery splits them
    selected, skipped = split_selected(tables, tags, rules)
    # THEN each table is either selected or skipped, exactly once
    skipped_names = [s.name for s in skipped]
    assert sorted(selected + skipped_names) == sorted(tables)
    assert not set(selected) & set(skipped_names)
    # AND every skipped table says why
    assert all(s.reason for s in skipped)
    # AND the compliance list always wins
    assert all(name in selected for name in tables if name in always)
    # AND a table is skipped exactly when a rule says so
    for name in tables:
        expected_skip = name not in always and (name in opted_out or any(re.fullmatch(p, name) for p in patterns))
        assert (name in skipped_names) is expected_skip


@PROPERTY
@given(requested=st.lists(names, unique=True, max_size=10), existing=st.sets(names, max_size=15))
def test_missing_tables_are_the_requested_ones_absent_in_request_order(requested, existing):
    # GIVEN a manual run's list and the account's tables
    # WHEN the missing ones are computed
    missing = missing_tables(requested, existing)
    # THEN they are exactly the absent names, in the order the person typed them
    assert missing == [name for name in requested if name not in existing]


def test_missing_tables_is_empty_when_all_exist():
    # GIVEN a manual run naming existing tables
    # WHEN checked
    # THEN nothing is missing
    assert missing_tables(["orders", "customers"], iter(["customers", "orders", "x"])) == []
