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

"""nova-compute's volume path, driven one request at a time.

The kernel lab's ``test_nova`` runs this with the python of the nova
virtualenv ``tools/nova-tests.sh`` builds (nova is never installed with the
library) and asserts on what the kernel did.  It is started under
``iscsi-transports run``, as a deployment starts nova-compute.  Every
request goes through nova's real
``LibvirtDriver`` methods -- ``_connect_volume``, ``_get_volume_config``,
``_disconnect_volume`` with ``force``, ``get_volume_connector`` -- which
pick nova's own, unmodified volume driver from ``VOLUME_DRIVERS``; its
connector comes from os-brick's factory, which ``run`` made hand out the
library's, and from there the library's driver and the real initiator.

What is not real is the hypervisor: ``LibvirtDriver`` is built as nova's own
unit tests build it, ``LibvirtDriver(FakeVirtAPI(), False)`` under nova's
``LibvirtFixture`` (fakelibvirt instead of libvirtd, which the volume path
only asks whether a volume has a libvirt secret).  Configuration is read
from ``--config-file`` the way nova-compute reads ``nova.conf``.  Importing
nova's test fixtures monkey-patches with eventlet, as nova's unit tests run
(nova-compute itself now runs native threads); the library's commands run
the same under both.

Protocol: one JSON object per line on stdin, one reply per line on stdout.
Requests: ``{"op": "connect", "connection_info": {...}}`` (the reply holds
the connection info nova keeps, and the classes nova used),
``{"op": "config", "connection_info": {...}, "disk_info": {...}}`` (the
libvirt disk XML and its source), ``{"op": "disconnect", "connection_info":
{...}, "force": bool}``, ``{"op": "connector"}`` (what nova sends
cinder).  A failure replies ``{"error": <exception class>,
"message": ..., "traceback": ...}`` and the process goes on.
"""

import argparse
import inspect
import json
import logging
import sys
import traceback
from typing import Any

import nova.conf
from nova import context as nova_context
from nova import objects
from nova.tests import fixtures as nova_fixtures
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from os_brick import privileged as brick_privileged
from oslo_utils import uuidutils

CONF = nova.conf.CONF


def instance() -> Any:
    """An instance of this host, with what nova 30-33's
    ``_get_volume_config`` reads of it (its flavor and image metadata, for
    SEV)."""
    return objects.Instance(
        uuid=uuidutils.generate_uuid(), host=CONF.host,
        flavor=objects.Flavor(name="m1.lab", extra_specs={}),
        system_metadata={}, image_ref="")


def volume_config(driver: libvirt_driver.LibvirtDriver, instance: Any,
                  connection_info: dict[str, Any],
                  disk_info: dict[str, Any]) -> Any:
    """nova's libvirt disk config: nova 30-33 take the instance first,
    nova 34 does not."""
    if "instance" in inspect.signature(driver._get_volume_config).parameters:
        return driver._get_volume_config(instance, connection_info,
                                         disk_info)
    return driver._get_volume_config(connection_info, disk_info)


def qualname(obj: object) -> str:
    cls = type(obj)
    return "%s.%s" % (cls.__module__, cls.__qualname__)


class Compute:
    """One nova compute host's volume path."""

    def __init__(self) -> None:
        self.driver = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        self.context = nova_context.get_admin_context()
        self.instance = instance()

    def connect(self, connection_info: dict[str, Any]) -> dict[str, Any]:
        # encryption={}: an unencrypted volume, as nova's block device
        # code passes it (None would ask cinder).
        self.driver._connect_volume(self.context, connection_info,
                                    self.instance, encryption={})
        volume_driver = self.driver._get_volume_driver(connection_info)
        return {"connection_info": connection_info,
                "volume_driver": qualname(volume_driver),
                "connector": qualname(volume_driver.connector)}

    def config(self, connection_info: dict[str, Any],
               disk_info: dict[str, Any]) -> dict[str, Any]:
        conf = volume_config(self.driver, self.instance, connection_info,
                             disk_info)
        return {"source_type": conf.source_type,
                "source_path": conf.source_path,
                "xml": conf.to_xml()}

    def disconnect(self, connection_info: dict[str, Any],
                   force: bool) -> dict[str, Any]:
        self.driver._disconnect_volume(self.context, connection_info,
                                       self.instance, encryption={},
                                       force=force)
        return {}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "connect":
            return self.connect(request["connection_info"])
        if op == "config":
            return self.config(request["connection_info"],
                               request["disk_info"])
        if op == "connector":
            return {"connector": self.driver.get_volume_connector(
                self.instance)}
        if op == "disconnect":
            return self.disconnect(request["connection_info"],
                                   bool(request.get("force")))
        raise ValueError("unknown op %r" % op)


def serve(compute: Compute) -> None:
    for line in sys.stdin:
        try:
            reply = compute.handle(json.loads(line))
        except Exception as error:
            logging.getLogger(__name__).exception("request failed")
            reply = {"error": qualname(error), "message": str(error),
                     "traceback": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True)
    args = parser.parse_args()
    CONF(["--config-file", args.config_file], project="nova")
    # The log (stderr) is the test's evidence when something fails.
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s "
                               "%(message)s")
    objects.register_all()
    # The lab runs nova as root without nova-rootwrap: os-brick's own
    # privsep context (its NVMe-oF, ScaleIO and LightOS connectors answer
    # get_volume_connector through it) runs in this process.
    brick_privileged.default.set_client_mode(False)
    with nova_fixtures.LibvirtFixture():
        compute = Compute()
        sys.stdout.write(json.dumps({"ready": True}) + "\n")
        sys.stdout.flush()
        serve(compute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
