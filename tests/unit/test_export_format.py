"""Verifying a native export from its manifests: AWS's layout, checked file by file."""

from __future__ import annotations

from typing import Any

import pytest
from hippolyte.export_format import check_export, export_client_token, export_id, export_root

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01692350182719-6de2c037"
ROOT = export_root("orders/2026-11-28-00-10-00", ARN)
SUMMARY_KEY = ROOT + "manifest-summary.json"
FILES_KEY = ROOT + "manifest-files.json"
SUMMARY = {
    "version": "2020-06-30",
    "exportArn": ARN,
    "itemCount": 5,
    "manifestFilesS3Key": FILES_KEY,
    "exportTime": "2026-11-28T00:10:02.000Z",
    "outputFormat": "DYNAMODB_JSON",
}
FILES = [
    {
        "itemCount": 3,
        "md5Checksum": "a0k21IY3eelgr2PuWJLjJw==",
        "etag": "51f9f394-1",
        "dataFileS3Key": ROOT + "data/a.json.gz",
    },
    {
        "itemCount": 2,
        "md5Checksum": "sQMSpEILNgoQmarvDFonGQ==",
        "etag": "af83d6f2-1",
        "dataFileS3Key": ROOT + "data/b.json.gz",
    },
]
LISTING = {
    SUMMARY_KEY: (400, '"s"'),
    FILES_KEY: (300, '"f"'),
    ROOT + "data/a.json.gz": (120, '"51f9f394-1"'),
    ROOT + "data/b.json.gz": (80, '"af83d6f2-1"'),
}
MD5S = {ROOT + "data/a.json.gz": "a0k21IY3eelgr2PuWJLjJw==", ROOT + "data/b.json.gz": "sQMSpEILNgoQmarvDFonGQ=="}


def test_an_export_whose_files_match_its_manifests_is_complete() -> None:
    # GIVEN an export's summary, its files manifest, the S3 listing and the data files' MD5s
    # WHEN it is checked
    check = check_export(SUMMARY_KEY, SUMMARY, FILES, LISTING, MD5S)
    # THEN it is complete, with the item count, the size, and each file recorded for later checks
    assert check.complete, check.reason
    assert (check.items, check.bytes) == (5, 200)
    assert [(f.key, f.etag, f.md5, f.items) for f in check.data_files] == [
        (ROOT + "data/a.json.gz", "51f9f394-1", "a0k21IY3eelgr2PuWJLjJw==", 3),
        (ROOT + "data/b.json.gz", "af83d6f2-1", "sQMSpEILNgoQmarvDFonGQ==", 2),
    ]
    assert check.required_files == [SUMMARY_KEY, FILES_KEY]
    assert check.export_time is not None and check.export_time.year == 2026


@pytest.mark.parametrize(
    ("summary", "files", "listing", "md5s", "reason"),
    [
        (SUMMARY, FILES, {k: v for k, v in LISTING.items() if k != FILES_KEY}, MD5S, "manifest-files.json is missing"),
        (
            SUMMARY,
            FILES,
            {k: v for k, v in LISTING.items() if not k.endswith("b.json.gz")},
            MD5S,
            "b.json.gz is missing",
        ),
        (SUMMARY, FILES, {**LISTING, ROOT + "data/a.json.gz": (120, '"other-1"')}, MD5S, "ETag differs"),
        (SUMMARY, FILES, LISTING, {**MD5S, ROOT + "data/b.json.gz": "AAAA"}, "checksum mismatch"),
        ({**SUMMARY, "itemCount": 6}, FILES, LISTING, MD5S, "hold 5 items, the summary says 6"),
        (
            {k: v for k, v in SUMMARY.items() if k != "manifestFilesS3Key"},
            FILES,
            LISTING,
            MD5S,
            "no manifestFilesS3Key",
        ),
        (SUMMARY, [{"md5Checksum": "x"}], LISTING, MD5S, "line 1 is not a data file entry"),
    ],
)
def test_an_export_that_does_not_match_its_manifests_is_never_complete(
    summary: dict[str, Any],
    files: list[dict[str, Any]],
    listing: dict[str, tuple[int, str]],
    md5s: dict[str, str],
    reason: str,
) -> None:
    # GIVEN an export with one thing wrong
    # WHEN it is checked
    check = check_export(SUMMARY_KEY, summary, files, listing, md5s)
    # THEN it is not complete, and the reason says what is wrong
    assert not check.complete
    assert reason in check.reason


def test_without_md5s_the_etags_still_guard_the_files() -> None:
    # GIVEN an export too large to read back (no MD5s computed) whose file was replaced
    listing = {**LISTING, ROOT + "data/b.json.gz": (80, '"replaced"')}
    # THEN the check still fails on the ETag the files manifest recorded
    assert not check_export(SUMMARY_KEY, SUMMARY, FILES, listing, None).complete
    assert check_export(SUMMARY_KEY, SUMMARY, FILES, LISTING, None).complete


def test_the_client_token_is_the_same_for_a_retry_and_differs_between_runs_and_tables() -> None:
    assert export_client_token("nightly-1", "orders") == export_client_token("nightly-1", "orders")
    assert (
        len(
            {
                export_client_token("nightly-1", "orders"),
                export_client_token("nightly-2", "orders"),
                export_client_token("nightly-1", "carts"),
            }
        )
        == 3
    )


def test_the_export_lives_under_the_backup_directory() -> None:
    assert export_id(ARN) == "01692350182719-6de2c037"
    assert ROOT == "orders/2026-11-28-00-10-00/AWSDynamoDB/01692350182719-6de2c037/"
