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

"""Plugins that fail in every way a vendor plugin can."""

from iscsi_transports.plugins import tcp


class NotATransport:
    """Registered as a transport but does not subclass base.Transport."""

    name = "notatransport"

    def __init__(self, conf=None):
        self.conf = conf


class ShadowTcpTransport(tcp.TcpTransport):
    """Tries to replace the in-tree tcp plugin."""


class ExplodingInitTransport(tcp.TcpTransport):
    """Raises when constructed."""

    name = "explodinginit"

    def __init__(self, conf=None):
        raise RuntimeError("cannot construct without its card")


class ExplodingDetectTransport(tcp.TcpTransport):
    """Raises during detection."""

    name = "explodingdetect"

    def detect(self, host):
        raise OSError("vendor bug while probing")
