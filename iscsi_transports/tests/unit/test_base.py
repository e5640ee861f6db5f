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

"""The public plugin contract: what a Transport subclass must declare."""

from __future__ import annotations

from iscsi_transports import base
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports import offload
from iscsi_transports.tests import base as test_base


class TestName(test_base.TestCase):

    def test_concrete_transport_without_name_fails_at_class_creation(self):
        def make() -> type:
            class Nameless(base.Transport):
                def detect(self, host: host_mod.Host) -> base.Detection:
                    raise AssertionError("never called")

                def generate_iface(self, hwaddress: str | None = None,
                                   ipaddress: str | None = None,
                                   name: str | None = None
                                   ) -> iface_mod.Iface:
                    raise AssertionError("never called")
            return Nameless
        error = self.assertRaises(TypeError, make)
        self.assertEqual("Nameless must set 'name', the open-iscsi transport "
                         "name", str(error))

    def test_offload_subclass_without_name_fails_too(self):
        def make() -> type:
            class Card(offload.OffloadTransport):
                kernel_modules = ("card",)
            return Card
        self.assertRaises(TypeError, make)

    def test_abstract_bases_need_no_name(self):
        class Family(offload.OffloadTransport, abstract=True):
            vendor_family = "a family of cards"

        class Member(Family):
            name = "member"
        self.assertEqual("member", Member(self.conf).name)

    def test_class_still_missing_a_method_needs_no_name(self):
        class Partial(base.Transport):
            def detect(self, host: host_mod.Host) -> base.Detection:
                raise AssertionError("never called")
        self.assertRaises(TypeError, Partial)  # abstract: cannot construct


class TestIscsiadmArgs(test_base.TestCase):

    def test_default_is_the_validated_iface(self):
        self.assertEqual(["-I", "cxgb4i.00:07:43:05:97:07"],
                         base.iface_args("cxgb4i.00:07:43:05:97:07"))

    def test_unsafe_iface_name_is_refused(self):
        self.assertRaises(exception.InvalidIfaceName, base.iface_args,
                          "-o delete")
