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

"""A well-behaved out-of-tree transport."""

from iscsi_transports import base
from iscsi_transports import iface


class FakeVendorTransport(base.Transport):
    """A vendor transport that is always usable (for tests)."""

    name = "fakevendor"
    offload = True
    kernel_modules = ("fakevendor_iscsi",)

    def detect(self, host):
        port = base.Port(transport=self.name, hwaddress="00:11:22:33:44:55",
                         iface_name="fakevendor.00:11:22:33:44:55")
        return base.Detection(transport=self.name, usable=True,
                              reason="fake card ready", module_loaded=True,
                              ports=(port,))

    def generate_iface(self, hwaddress=None, ipaddress=None, name=None):
        return iface.Iface(name=name or iface.offload_name(self.name, hwaddress),
                           transport_name=self.name, hwaddress=hwaddress)
