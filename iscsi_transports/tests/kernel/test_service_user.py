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

"""Issue 14: the library run by an unprivileged service user, as nova runs it.

Every request below is made by a real process of uid/gid 65534 with no
capabilities (:mod:`.service_user`), which reaches root only through the
library's privsep daemon, started with ``sudo oslo-rootwrap rootwrap.conf
privsep-helper ...`` through the shipped rootwrap filter, exactly as
nova-compute starts its own.  The test itself (root) plays the hypervisor
and the operator: it makes targets, writes and reads the attached disk, and
checks what the kernel and open-iscsi hold afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import threading

import fixtures

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import service_user
from iscsi_transports.tests.kernel import targets

SECRET = "service-user-secret-7"
TARGET_SECRET = "service-user-target-secret-8"


class CmdlineWatcher:
    """Reads every ``/proc/*/cmdline`` over and over in a thread, as any
    local user can, and keeps each distinct command line it saw."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            for path in glob.glob("/proc/[0-9]*/cmdline"):
                try:
                    with open(path, "rb") as handle:
                        argv = handle.read()
                except OSError:  # the process ended meanwhile
                    continue
                if argv:
                    self.seen.add(argv.replace(b"\0", b" ").decode(
                        "utf-8", "replace"))

    def __enter__(self) -> CmdlineWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def saw(self, text: str) -> bool:
        return any(text in argv for argv in self.seen)


class ServiceUserTestCase(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        os.chown(self.state, service_user.SERVICE_UID,
                 service_user.SERVICE_GID)
        service_user.install({"iscsi_transports": {
            "state_path": self.state, "iscsiadm_timeout": "90",
            "device_scan_attempts": "60", "device_scan_interval": "0.5"}})
        log_dir = self.useFixture(fixtures.TempDir()).path
        self.service = service_user.ServiceUser(
            os.path.join(log_dir, "service.log"))
        self.addCleanup(self.service.close)

    def service_error(self, op: str, **kwargs: object
                      ) -> service_user.ServiceError:
        return self.assertRaises(service_user.ServiceError,
                                 self.service.request, op, **kwargs)

    def assert_one_line_state_error(self, message: str, path: str) -> None:
        self.assertNotIn("\n", message)
        self.assertIn("State directory %s" % path, message)
        self.assertIn("install -d -o nova -g nova", message)


class TestAttachDetach(ServiceUserTestCase):

    def test_no_root_of_its_own(self) -> None:
        identity = self.service.identity
        self.assertEqual((65534, 65534, 65534, [], "0000000000000000"),
                         (identity["uid"], identity["euid"],
                          identity["gid"], identity["groups"],
                          identity["cap_eff"]))

    def test_attach_io_detach_removes_the_disk(self) -> None:
        target = self.lio(luns=2)
        props = target.props()
        # The initiator name file is root's alone (0600, as Debian installs
        # it; made so here whatever the image has): read by the daemon.
        os.chmod(machine.INITIATOR_FILE, 0o600)
        self.assertEqual(0, os.stat(machine.INITIATOR_FILE).st_uid)
        self.assertEqual({"initiator": machine.read_initiator()},
                         self.service.request("properties"))
        info = self.service.request("connect", props=props)
        disk = self.assert_attached(target.iqn, info["path"])
        # The daemon wrote the settings into the record (no -o update
        # process): iscsiadm reads them back, and iscsid honoured the
        # manual scan, so LUN 1 of the target has no disk.
        shown = machine.run("iscsiadm", "-m", "node", "-T", target.iqn,
                            "-p", target.portal, "-I", "default")
        for line in ("node.session.scan = manual", "node.startup = manual",
                     "node.conn[0].timeo.login_timeout = 15",
                     "node.session.initial_login_retry_max = 4"):
            self.assertIn(line + "\n", shown)
        self.assertEqual([disk], machine.disks(target.iqn))
        self.assertTrue(self.service.request("check", path=info["path"]))
        self.assert_pattern_io(info["path"])
        self.service.request("disconnect", props=props, info=info)
        self.assert_clean(target.iqn, [disk])
        # A gone disk fails the check (the daemon's read, not a traceback).
        self.assertFalse(self.service.request("check", path="/dev/" + disk))
        # Root came from nova's way only: sudo ran the rootwrap command,
        # rootwrap the privsep-helper line of the shipped filter.
        log = " ".join(service_user.sudo_log().split())
        self.assertIn("nobody : ", log)
        self.assertIn("COMMAND=%s %s privsep-helper --config-file %s "
                      "--privsep_context iscsi_transports.privileged.context"
                      % (service_user.ROOTWRAP, service_user.ROOTWRAP_CONF,
                         service_user.NOVA_CONF), log)


class TestChapSecretOnNoCommandLine(ServiceUserTestCase):

    def test_mutual_chap_attach_while_every_cmdline_is_read(self) -> None:
        chap = targets.Chap("kl-user", SECRET, "kl-target", TARGET_SECRET)
        target = self.lio(chap=chap)
        props = target.props(**chap.props())
        canary = "cmdline-canary-%d" % os.getpid()
        with CmdlineWatcher() as watcher:
            # The watcher is shown to catch an argument while it runs.
            subprocess.run(["sh", "-c", "sleep 1", canary], check=True)
            info = self.service.request("connect", props=props)
            disk = self.assert_attached(target.iqn, info["path"])
            self.assert_pattern_io(info["path"])
            self.service.request("disconnect", props=props, info=info)
        self.assert_clean(target.iqn, [disk])
        self.assertTrue(watcher.saw(canary), "the watcher saw nothing")
        # It watched while the daemon ran iscsiadm for this target.
        self.assertTrue(watcher.saw("iscsiadm -m node -T %s" % target.iqn),
                        sorted(watcher.seen))
        self.assertTrue(watcher.saw("privsep-helper"))
        for secret in (SECRET, TARGET_SECRET):
            self.assertFalse(watcher.saw(secret), "a secret in an argv")
            self.assertNotIn(secret, service_user.sudo_log())
            self.assertNotIn(secret, self.service.log())


class TestUnusableStateDirectory(ServiceUserTestCase):
    """/var/lib is root's: the service user cannot create a directory in
    it, which is the first offload attach of issue 14."""

    def setUp(self) -> None:
        super().setUp()
        self.missing = "/var/lib/iscsi-transports-klab-%d" % os.getpid()
        self.assertFalse(os.path.exists(self.missing))

    def test_first_offload_iface_creation_fails_cleanly(self) -> None:
        target = self.lio()
        iface = base.fake_manager.FakeOffload(self.conf).generate_iface().name
        self.forget_iface(iface)
        ifaces = os.path.join(machine.records_dir(), "ifaces")
        locks = self.useFixture(fixtures.TempDir()).path
        os.chown(locks, service_user.SERVICE_UID, service_user.SERVICE_GID)
        # Locks elsewhere (nova's lock_path): the iface lock is taken, and
        # the marker of ownership is what cannot be written.
        self.service.request("flags", values={
            "iscsi_transports": {"state_path": self.missing},
            "oslo_concurrency": {"lock_path": locks}})
        error = self.service_error("driver_connect", props=target.props(),
                                   claimed_card=True)
        self.assertEqual("StateDirUnusable", error.error)
        self.assert_one_line_state_error(error.message, self.missing)
        # No half-made iface record, no node record, no session.
        self.assertFalse(os.path.exists(os.path.join(ifaces, iface)))
        self.assertNotIn(iface, machine.run("iscsiadm", "-m", "iface"))
        self.assertEqual([], machine.node_records(target.iqn))
        self.assertEqual([], machine.sessions(target.iqn))
        self.assertFalse(os.path.exists(self.missing))
        # Fixed: the record is made and marked as ours; the card-less
        # login falls back to TCP for its own reason, not a conflict.
        self.service.request("flags", values={
            "iscsi_transports": {"state_path": self.state}})
        info = self.service.request("driver_connect", props=target.props(),
                                    claimed_card=True)
        self.assertTrue(os.path.exists(os.path.join(ifaces, iface)))
        self.assertTrue(os.path.exists(os.path.join(self.state, "ifaces",
                                                    iface)))
        self.assertEqual(("tcp", "default", True),
                         (info["transport"], info["iface"], info["fallback"]))
        self.assertIn("host not found", info["reason"])
        disk = self.assert_attached(target.iqn, info["path"])
        self.service.request("driver_disconnect", props=target.props(),
                             info=info)
        self.assert_clean(target.iqn, [disk])

    def test_state_directory_that_cannot_be_created(self) -> None:
        target = self.lio()
        self.service.request("flags", values={
            "iscsi_transports": {"state_path": self.missing}})
        error = self.service_error("connect", props=target.props())
        self.assert_one_line_state_error(error.message, self.missing)
        error = self.service_error("driver_connect", props=target.props())
        self.assertEqual("StateDirUnusable", error.error)
        self.assert_one_line_state_error(error.message, self.missing)
        self.assertEqual([], machine.node_records(target.iqn))
        self.assertEqual([], machine.sessions(target.iqn))
        # The console script run by the service user: one line, exit 1.
        work = self.useFixture(fixtures.TempDir()).path
        os.chmod(work, 0o755)
        conf = os.path.join(work, "cli.conf")
        with open(conf, "w") as handle:
            handle.write("[iscsi_transports]\nstate_path = %s\n"
                         % self.missing)
        props = os.path.join(work, "props.json")
        with open(props, "w") as handle:
            json.dump(target.props(), handle)
        result = service_user.run_as_service_user(
            "iscsi-transports", "attach", "--config-file", conf,
            "--properties", props)
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertEqual("", result.stdout)
        lines = result.stderr.splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertTrue(lines[0].startswith(
            "iscsi-transports: error: State directory %s cannot be created "
            "(Permission denied)" % self.missing), lines[0])
        self.assertEqual([], machine.node_records(target.iqn))
        self.assertFalse(os.path.exists(self.missing))
