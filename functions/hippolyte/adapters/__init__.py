"""Adapters: the only modules that call AWS. Each takes its boto3 client as an argument."""
