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

"""nova-compute's privilege setup in the kernel lab, for real.

nova-compute runs as an unprivileged service user and reaches root only
through oslo.privsep daemons it starts with ``sudo nova-rootwrap
/etc/nova/rootwrap.conf privsep-helper ...``.  :class:`ServiceUser` builds
exactly that inside the VM, as the install guide says: a configuration
directory under ``/etc`` with the library's rootwrap filter file copied into
its ``rootwrap.d``, a ``rootwrap.conf``, a sudoers line for the rootwrap
command only, and a ``nova.conf``.  It then starts this module as a real
process of uid/gid 65534 (``setpriv``, no capabilities, no groups), which
calls ``oslo_privsep.priv_context.init(root_helper=...)`` as nova-compute
does and serves requests through the os-brick connector (what nova calls)
or the library's driver, one JSON line each way over stdin/stdout (so no
CHAP secret is ever on its command line).

The guest's root file system is the host's, read-only under a tmpfs
overlay: the files under ``/etc`` exist only in this boot.  The lab's
Python lives under ``/root`` (0700 on the host); the overlay's ``/root``
is opened to 0711 (traverse, no listing) so that the service user can run
it, as nova's own interpreter is readable by nova.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

from iscsi_transports.tests.kernel import child

SERVICE_UID = SERVICE_GID = 65534
SERVICE_USER = "nobody"
#: The service's configuration directory: nova's /etc/nova.
ETC = "/etc/iscsi-transports-klab"
NOVA_CONF = os.path.join(ETC, "nova.conf")
ROOTWRAP_CONF = os.path.join(ETC, "rootwrap.conf")
SUDOERS = "/etc/sudoers.d/iscsi-transports-klab"
#: sudo's own log of every command it ran for the service user.
SUDO_LOG = "/run/iscsi-transports-klab-sudo.log"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
FILTERS = os.path.join(REPO, "etc", "rootwrap.d", "iscsi-transports.filters")
BIN = os.path.dirname(sys.executable)
ROOTWRAP = os.path.join(BIN, "oslo-rootwrap")
#: What nova passes to priv_context.init: its rootwrap under sudo.
ROOT_HELPER = ["sudo", ROOTWRAP, ROOTWRAP_CONF]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}
#: uid/gid 65534, no supplementary groups, no capabilities (dropped with
#: uid 0; the bounding set is kept, as sudo needs it, as nova's has it).
SETPRIV = ["setpriv", "--reuid=%d" % SERVICE_UID, "--regid=%d" % SERVICE_GID,
           "--clear-groups", "--inh-caps=-all", "--"]


def _write(path: str, text: str, mode: int = 0o644) -> None:
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


def install(options: dict[str, dict[str, str]]) -> None:
    """The host side of the install guide, as root: rootwrap, sudoers,
    nova.conf with ``options`` ({group: {name: value}})."""
    missing = [tool for tool in ("sudo", "visudo", "setpriv")
               if shutil.which(tool) is None]
    if missing or not os.access(ROOTWRAP, os.X_OK):
        raise AssertionError(
            "the service-user scenarios need %s: install the kernel-lab "
            "packages of bindep.txt (sudo, util-linux) and oslo.rootwrap"
            % ", ".join(missing or [ROOTWRAP]))
    os.chmod("/root", 0o711)
    os.makedirs(os.path.join(ETC, "rootwrap.d"), exist_ok=True)
    shutil.copy(FILTERS, os.path.join(ETC, "rootwrap.d"))
    _write(ROOTWRAP_CONF, "[DEFAULT]\nfilters_path = %s/rootwrap.d\n"
           "exec_dirs = %s,/sbin,/usr/sbin,/bin,/usr/bin\n"
           "use_syslog = False\n" % (ETC, BIN))
    with open(NOVA_CONF, "w") as conf:
        for group, values in options.items():
            conf.write("[%s]\n" % group)
            conf.writelines("%s = %s\n" % item for item in values.items())
    sudoers = SUDOERS + ".new"
    _write(sudoers, "Defaults logfile=%s\n"
           "%s ALL = (root) NOPASSWD: %s %s *\n"
           % (SUDO_LOG, SERVICE_USER, ROOTWRAP, ROOTWRAP_CONF), 0o440)
    subprocess.run(["visudo", "-c", "-f", sudoers], check=True,
                   capture_output=True, timeout=60)
    os.rename(sudoers, SUDOERS)


def sudo_log() -> str:
    try:
        with open(SUDO_LOG) as log:
            return log.read()
    except FileNotFoundError:
        return ""


class ServiceError(AssertionError):
    """A request failed in the service process: its type and message."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__("%s: %s" % (reply["error"], reply["message"]))
        self.error = str(reply["error"])
        self.message = str(reply["message"])


class ServiceUser(child.JsonLinesChild):
    """This module running as uid 65534, answering one request at a time.

    Its stderr (the library's log) goes to ``log_path``.
    """

    who = "the service user"

    def __init__(self, log_path: str, timeout: float = 900) -> None:
        super().__init__([*SETPRIV, sys.executable, "-m", __name__,
                          NOVA_CONF, " ".join(ROOT_HELPER)],
                         log_path, timeout, env=ENV, cwd=REPO)
        self.identity = self._reply()["result"]

    def request(self, op: str, **kwargs: Any) -> Any:
        """The result of ``op``, or ServiceError with the error's type."""
        reply = self._send(op, **kwargs)
        if "error" in reply:
            raise ServiceError(reply)
        return reply["result"]


def run_as_service_user(*argv: str, timeout: float = 600
                        ) -> subprocess.CompletedProcess[str]:
    """A command of the venv (``iscsi-transports``) as uid 65534."""
    return subprocess.run([*SETPRIV, os.path.join(BIN, argv[0]), *argv[1:]],
                          capture_output=True, text=True, env=ENV, cwd="/",
                          timeout=timeout)


# -- the service process --------------------------------------------------------

def _identity() -> dict[str, Any]:
    with open("/proc/self/status") as status:
        caps = [line.split()[1] for line in status
                if line.startswith("CapEff:")]
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
            "groups": os.getgroups(), "cap_eff": caps[0]}


def _serve(conf_file: str, root_helper: str) -> None:
    # nova-compute's start-up: logging, its configuration, then its root
    # helper handed to every privsep context (ours included).
    import logging

    from oslo_concurrency import lockutils  # noqa: F401 - [oslo_concurrency]
    from oslo_config import cfg
    from oslo_privsep import priv_context

    from iscsi_transports.tests.kernel import base

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    cfg.CONF(["--config-file", conf_file], project="nova",
             default_config_files=[])
    priv_context.init(root_helper=root_helper.split())
    connector = base.ISCSIConnector(root_helper, conf=cfg.CONF)

    def driver(request: dict[str, Any]) -> base.ISCSIDriver:
        """The library's driver; ``claimed_card``: detection claims a
        cxgb4i card (QEMU emulates none), everything else is real."""
        manager = (base.fake_manager.FakeManager(cfg.CONF)
                   if request.get("claimed_card") else None)
        return base.ISCSIDriver(cfg.CONF, manager=manager)

    def flags(request: dict[str, Any]) -> None:
        for group, values in request["values"].items():
            for name, value in values.items():
                cfg.CONF.set_override(name, value, group=group)

    ops = {
        "properties": lambda r: base.ISCSIConnector.get_connector_properties(
            root_helper, conf=cfg.CONF),
        "connect": lambda r: connector.connect_volume(r["props"]),
        "check": lambda r: connector.check_valid_device(r["path"]),
        "disconnect": lambda r: connector.disconnect_volume(r["props"],
                                                            r["info"]),
        "driver_connect": lambda r: driver(r).connect_volume(r["props"]),
        "driver_disconnect": lambda r: driver(r).disconnect_volume(
            r["props"], r["info"]),
        "flags": flags,
        "daemon": lambda r: base.daemon_operation(r["name"], *r["args"]),
    }
    print(json.dumps({"result": _identity()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"result": ops[request["op"]](request)}
        except Exception as error:  # the test asserts on its type
            reply = {"error": type(error).__name__, "message": str(error)}
        print(json.dumps(reply, default=str), flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
