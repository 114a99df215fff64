"""Patches to moto's internals that several contexts need at the same time.

The EMR emulation and the tests' StrictAws both install the Data Pipeline and EMR patches, and may
be nested: the first context to enter applies them, the last one to leave undoes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager


class SharedPatches:
    """A set of patches applied while at least one :meth:`applied` context is open.

    ``lock`` also guards the state a subclass keeps beside the patches (the emulated runs).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._users = 0
        self._stack: ExitStack | None = None

    @contextmanager
    def applied(self, apply: Callable[[ExitStack], None]) -> Iterator[None]:
        """Apply the patches (``apply`` enters each into the stack) unless they already are; re-entrant."""
        with self.lock:
            if self._users == 0:
                stack = ExitStack()
                apply(stack)
                self._stack = stack
            self._users += 1
        try:
            yield
        finally:
            with self.lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    self._stack.close()
                    self._stack = None
