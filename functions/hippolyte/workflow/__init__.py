"""The backup run's steps: one module per state of the state machine, named after it.

Each step takes a :class:`~hippolyte.runtime.Runtime` and a model, does its state's work through
the adapters, and returns a model. Handlers in ``hippolyte.handlers`` are the Lambda glue. A state
module imports no other state module: what two states share lives in a module named for what it
is (``batch_starts``, ``run_loop``, ``running_batches``, ``table_capacity`` and others).
``reconcile_capacity`` is the step of the hourly ReconcileCapacity function, not of a state.
"""
