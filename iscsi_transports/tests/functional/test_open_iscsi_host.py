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

"""The installed open-iscsi's records directory and lock, for real.

Each case runs the real iscsiadm (and the root daemon's code) where it
cannot touch the host's records: in the lab's namespaces, or in a private
mount namespace of its own (``unshare -m``) whose ``/etc/iscsi``,
``/var/lib`` and ``/run/lock`` are empty tmpfs mounts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from iscsi_transports import exception
from iscsi_transports import openiscsi
from iscsi_transports import portal as portal_mod
from iscsi_transports.tests import base
from iscsi_transports.tests.functional import lab as lab_mod
from iscsi_transports.tests.functional import test_privileged

P = "node.session.auth."
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
#: Run first in each private namespace: nothing of the host's open-iscsi
#: state is seen or changed.
_PRIVATE_MOUNTS = """
import inspect, json, os, subprocess, sys
for path in ("/etc/iscsi", "/var/lib", "/run/lock"):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", path], check=True)
def iscsiadm(*args):
    return subprocess.run(["iscsiadm", *args], capture_output=True,
                          text=True)
"""


def in_private_mounts(code: str) -> dict[str, object]:
    """Run ``code`` as root in a new private mount namespace (after
    :data:`_PRIVATE_MOUNTS`); the JSON object it prints last."""
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "--", sys.executable,
         "-c", _PRIVATE_MOUNTS + code], capture_output=True, text=True,
        timeout=120, cwd=_TOP, env={**os.environ, "PYTHONPATH": _TOP})
    if result.returncode != 0:
        raise AssertionError("the namespace script failed: %s"
                             % result.stderr)
    return json.loads(result.stdout.splitlines()[-1])


class TestRecordsDirectory(base.TestCase):

    def test_a_stray_directory_does_not_move_the_records(self) -> None:
        # The old guess took /var/lib/iscsi as soon as it had an ifaces
        # directory, even for an iscsiadm that keeps records in
        # /etc/iscsi (Debian 12): the daemon then found no record to
        # write and every fresh attach failed.
        result = in_private_mounts("""
from iscsi_transports import openiscsi
from iscsi_transports import portal as portal_mod
from iscsi_transports.privileged import records
build = openiscsi.installed()
stray = "/etc/iscsi" if build.db_root != "/etc/iscsi" else "/var/lib/iscsi"
os.makedirs(stray + "/ifaces")
made = iscsiadm("-m", "node", "-o", "new", "-T", "%(target)s",
                "-p", "127.0.0.1:3260,1", "-I", "default")
try:
    # The entry point's body: what the daemon runs, here as root.
    inspect.unwrap(records.write_node_settings)(
        "%(target)s", "127.0.0.1:3260,1", "default",
        {"%(p)sauthmethod": "CHAP", "%(p)susername": "user",
         "%(p)spassword": "pass-word-1"})
    error = None
except Exception as failure:
    error = "%%s: %%s" %% (type(failure).__name__, failure)
shown = iscsiadm("-m", "node", "-T", "%(target)s", "-p", "127.0.0.1:3260",
                 "-o", "show").stdout
found = sorted(os.path.join(top, name) for top, _, names in os.walk("/")
               if top.startswith(("/etc/iscsi", "/var/lib")) for name in names)
print(json.dumps({"root": build.db_root, "made": made.returncode,
                  "error": error, "shown": shown, "found": found}))
""" % {"target": lab_mod.TARGET_IQN, "p": P})
        self.assertEqual(0, result["made"])
        self.assertIsNone(result["error"])
        self.assertIn(P + "username = user\n", str(result["shown"]))
        record = os.path.join(str(result["root"]), "nodes",
                              lab_mod.TARGET_IQN, "127.0.0.1,3260,1",
                              "default")
        self.assertIn(record, list(result["found"]))  # type: ignore[arg-type]

    def test_the_strings_of_the_installed_iscsiadm(self) -> None:
        # What the binary says is where its -o new writes.
        build = openiscsi.installed()
        result = in_private_mounts("""
made = iscsiadm("-m", "iface", "-I", "probe0", "-o", "new")
print(json.dumps({"made": made.returncode, "ifaces": [
    top for top, _, names in os.walk("/") if "probe0" in names and
    top.startswith(("/etc", "/var/lib"))], "locks": os.listdir(
    "/run/lock")}))
""")
        self.assertEqual({"made": 0, "ifaces": [build.db_root + "/ifaces"],
                          "locks": [os.path.basename(build.lock_dir)]},
                         result)
        self.assertEqual("/run/lock", os.path.dirname(build.lock_dir))


class TestStateOnAFullDisk(base.TestCase):

    def test_no_marker_is_left_on_a_full_tmpfs(self) -> None:
        result = in_private_mounts("""
from oslo_config import cfg
from iscsi_transports import exception, state
from iscsi_transports.iscsiadm import ifaces
os.makedirs("/var/lib/full")
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs",
                "/var/lib/full"], check=True)
conf = cfg.ConfigOpts()
conf.register_opts(state.state_opts, group="iscsi_transports")
conf.set_override("state_path", "/var/lib/full/state", "iscsi_transports")
conf([])
state.ensure(conf, "ifaces")
filler = os.open("/var/lib/full/filler", os.O_WRONLY | os.O_CREAT)
try:
    while os.write(filler, b"x" * 4096):
        pass
except OSError:
    pass
os.close(filler)
try:
    state.write_file(conf, "ifaces", "cxgb4i.00:07:43:05:97:07",
                     ifaces.MARKER)
    error = None
except exception.StateWriteFailed as failure:
    error = str(failure)
print(json.dumps({"error": error, "left": os.listdir(
    "/var/lib/full/state/ifaces")}))
""")
        self.assertEqual(
            {"error": "Could not write /var/lib/full/state/ifaces/cxgb4i."
                      "00:07:43:05:97:07 (No space left on device); nothing "
                      "half-written was left: free space on its file "
                      "system, then retry", "left": []}, result)


class TestStaleLock(test_privileged.DaemonCase):
    """A ``lock.write`` whose holder was killed: the daemon does what the
    installed iscsiadm does with it (2.1.8 goes on after 30 s and removes
    it; 2.1.10 and later fail until it is removed)."""

    def test_the_daemon_and_iscsiadm_agree(self) -> None:
        self.privileged_iscsiadm(*self.node("default"), "-o", "new")
        lock = os.path.join(self.lab.lock_dir, "lock")
        stale = lock + ".write"
        os.link(lock, stale)
        self.addCleanup(lambda: os.path.exists(stale) and os.unlink(stale))
        outcome: dict[str, object] = {}

        def daemon_write() -> None:
            try:
                self.executor.write_node_settings(
                    lab_mod.TARGET_IQN, self.lab.portal, "default",
                    {P + "authmethod": "CHAP", P + "username": "user",
                     P + "password": "pass-word-1"})
                outcome["daemon"] = "written"
            except exception.IscsiDbLocked as error:
                outcome["daemon"] = error

        started = time.monotonic()
        writer = threading.Thread(target=daemon_write)
        writer.start()
        theirs = self.lab.run("iscsiadm", *self.node("default"), "-o",
                              "update", "-n", "node.startup", "-v", "manual")
        writer.join(120)
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 29)
        if openiscsi.takes_over_stale_lock(openiscsi.installed_version()):
            self.assertEqual((0, "written", False),
                             (theirs.returncode, outcome["daemon"],
                              os.path.exists(stale)), theirs.stderr)
            self.assertIn(P + "username = user\n",
                          self.show(*self.node("default")))
        else:
            self.assertEqual(6, theirs.returncode, theirs.stderr)
            self.assertIsInstance(outcome["daemon"], exception.IscsiDbLocked)
            self.assertIn("remove %s" % "/run/lock/iscsi/lock.write",
                          str(outcome["daemon"]))
            self.assertTrue(os.path.exists(stale))


class TestLinkLocalPortal(test_privileged.DaemonCase):

    def test_a_zone_the_library_keeps_reaches_the_record(self) -> None:
        # What the library builds for a link-local portal; iscsiadm keeps
        # the zone in the record's directory name (fe80::1%lo,3260,1).
        built = str(portal_mod.parse_portal("[fe80::1%lo]:3260")) + ",1"
        node = ["-m", "node", "-T", lab_mod.TARGET_IQN, "-p", built, "-I",
                "default"]
        self.privileged_iscsiadm(*node, "-o", "new")
        self.assertEqual(["fe80::1%lo,3260,1"], os.listdir(os.path.join(
            self.lab.etc_iscsi, "nodes", lab_mod.TARGET_IQN)))
        self.assertEqual(([1], None), tuple(self.executor.read_node_layout(
            lab_mod.TARGET_IQN, built[:-2])))
        self.executor.write_node_settings(
            lab_mod.TARGET_IQN, built, "default",
            {P + "authmethod": "CHAP", P + "username": "zoned"})
        self.assertIn(P + "username = zoned\n", self.show(*node))
