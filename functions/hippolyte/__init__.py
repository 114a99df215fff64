"""Hippolyte: nightly point-in-time backups of every DynamoDB table in an AWS account."""

__version__ = "0.1.0"
