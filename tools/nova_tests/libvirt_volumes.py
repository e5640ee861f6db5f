"""nova-compute's volume path, driven one request at a time.

The kernel lab's ``test_nova`` runs this with the python of the nova
virtualenv ``tools/nova-tests.sh`` builds (nova is never installed with the
library) and asserts on what the kernel did.  Every request goes through
nova's real ``LibvirtDriver`` methods -- ``_connect_volume``,
``_get_volume_config``, ``_disconnect_volume`` with ``force`` -- which pick
the volume driver from nova's ``VOLUME_DRIVERS`` (patched as the docs say)
and so reach ``iscsi_transports.nova_libvirt`` and its os-brick connector,
and from there the library's driver and the real initiator.

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
{...}, "force": bool}``.  A failure replies ``{"error": <exception class>,
"message": ..., "traceback": ...}`` and the process goes on.
"""

import argparse
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
from oslo_utils import uuidutils

CONF = nova.conf.CONF


def qualname(obj: object) -> str:
    cls = type(obj)
    return "%s.%s" % (cls.__module__, cls.__qualname__)


class Compute:
    """One nova compute host's volume path."""

    def __init__(self) -> None:
        self.driver = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        self.context = nova_context.get_admin_context()
        self.instance = objects.Instance(
            uuid=uuidutils.generate_uuid(), host=CONF.host)

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
        conf = self.driver._get_volume_config(connection_info, disk_info)
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
    with nova_fixtures.LibvirtFixture():
        compute = Compute()
        sys.stdout.write(json.dumps({"ready": True}) + "\n")
        sys.stdout.flush()
        serve(compute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
