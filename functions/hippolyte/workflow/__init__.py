"""The backup run's steps, one module per state of the state machine.

Each step takes a :class:`~hippolyte.runtime.Runtime` and a model, does its state's work through
the adapters, and returns a model. Handlers in ``hippolyte.handlers`` are the Lambda glue.
"""
