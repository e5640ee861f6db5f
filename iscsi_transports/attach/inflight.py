# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Attaches in flight per target, so a detach does not pull a session
from under one.

Attach and detach of one target serialise on its external lock; but an
attach that is waiting for the lock while a detach holds it is about to
use the very session the detach would log out.  The detach then leaves
the session and hands it over: the attach that takes the lock next owns
it as if it had logged in itself, so if that attach fails it logs the
session out and no session is leaked.  The registry is per process (the
threads of nova-compute); across processes the external lock alone
orders them, which is safe, only slower (a logout and a new login).
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator

__all__ = ["Registry"]


class Registry:
    """Counts attaches per lock key; holds sessions handed over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: collections.Counter[str] = collections.Counter()
        self._handed_over: set[str] = set()

    @contextlib.contextmanager
    def attaching(self, key: str) -> Iterator[None]:
        """Count an attach of ``key`` from before it waits for the lock
        until it is done."""
        with self._lock:
            self._waiting[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
                    self._handed_over.discard(key)

    def busy(self, key: str) -> bool:
        """Whether an attach of ``key`` is in flight (called by a detach
        that holds the lock, so that attach is waiting for it)."""
        with self._lock:
            return self._waiting[key] > 0

    def hand_over(self, key: str) -> None:
        """A detach left ``key``'s session for the waiting attach."""
        with self._lock:
            self._handed_over.add(key)

    def take_over(self, key: str) -> bool:
        """Called by an attach holding the lock: whether a detach left
        the session for it (then it is this attach's to clean up)."""
        with self._lock:
            if key in self._handed_over:
                self._handed_over.discard(key)
                return True
            return False
