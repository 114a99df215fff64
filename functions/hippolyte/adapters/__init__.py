"""Adapters: the only modules that call AWS and read its error codes. Each takes its boto3 client as
an argument, typed with the stubs' client class (checked by mypy; the stubs are imported only for it),
and raises the named errors of hippolyte.errors for the refusals its callers act on."""
