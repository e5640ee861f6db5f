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

"""The in-process registry of attaches waiting for a target's lock."""

from __future__ import annotations

from iscsi_transports.attach import inflight
from iscsi_transports.tests import base


class TestRegistry(base.TestCase):
    def test_busy_while_an_attach_is_in_flight(self) -> None:
        registry = inflight.Registry()
        self.assertFalse(registry.busy("t"))
        with registry.attaching("t"):
            with registry.attaching("t"):
                self.assertTrue(registry.busy("t"))
            self.assertTrue(registry.busy("t"))
            self.assertFalse(registry.busy("other"))
        self.assertFalse(registry.busy("t"))

    def test_a_handed_over_session_is_taken_once(self) -> None:
        registry = inflight.Registry()
        with registry.attaching("t"):
            registry.hand_over("t")
            self.assertTrue(registry.take_over("t"))
            self.assertFalse(registry.take_over("t"))

    def test_a_hand_over_nobody_took_ends_with_the_last_attach(self) -> None:
        registry = inflight.Registry()
        with registry.attaching("t"):
            registry.hand_over("t")
        with registry.attaching("t"):
            self.assertFalse(registry.take_over("t"))
