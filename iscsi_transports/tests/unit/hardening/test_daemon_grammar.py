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

"""Property tests of the root daemon's checks: nothing outside the grammar
reaches a system call.

Each entry point's checks run here in process, as the daemon runs them,
on a built tree (:class:`~iscsi_transports.tests.unit.privileged.base.
TreeTestCase`: an iSCSI disk ``sdb`` on session 1 of iSCSI host 11, the
host's own ``sda``, and ``sdc``, an iSCSI disk holding a mounted file
system), with the process start, file opens and the flush ioctl recorded
instead of done.  Requests are what the library builds with some words
replaced by hostile ones (other keys, other objects, wildcards, control
characters, long and multi-byte text).  Whatever a request is, it is
either refused with a typed one-line error that does not quote a value,
and then nothing was started or opened, or it is inside the grammar,
which each test states again independently of the code under test.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from typing import Any

import fixtures
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from iscsi_transports import exception
from iscsi_transports.privileged import commands
from iscsi_transports.privileged import records
from iscsi_transports.privileged import scsi
from iscsi_transports.tests.unit.privileged import base

settings.register_profile(
    "daemon", max_examples=int(os.environ.get("HARDENING_EXAMPLES", 150)),
    deadline=None, derandomize=True)
PROFILE = settings.get_profile("daemon")

HOSTILE = st.sampled_from([
    "", "-", "*", "..", "../x", "a b", "a\nb", "a\x00b", "x" * 300,
    "\u00e9" * 128, "sda", "sdc", "dm-0", "host0", "ib_iser", "dummy",
    "automatic", "update", "delete", "show", "--login", "--logout",
    "--discover", "-o", "-n", "-v", "-I", "-T", "-p", "nonpersistent",
    "iface.bootproto", "iface.vlan_id", "iface.iscsi_ifacename",
    "discovery.sendtargets.use_discoveryd", "node.startup",
    "node.session.auth.password", "Yes", "00:00:00:00:00:00",
    "fe80::1%eth0", "eth/0", "iqn.x", base.TARGET + "-boot",
])
WORDS = st.one_of(HOSTILE, st.text(max_size=20))
IFACE = ["-m", "iface", "-I", "lab0"]
NODE = ["-m", "node", "-T", base.TARGET, "-p", base.PORTAL, "-I", "lab0"]
DB = ["-m", "discoverydb", "-t", "sendtargets", "-p", base.PORTAL, "-I",
      "lab0"]
#: What the library sends (iscsiadm/runner.py, iscsiadm/ifaces.py).
LIBRARY_ARGV = [
    ["-m", "node"], ["-m", "iface"],
    [*NODE, "-o", "new"], [*NODE, "--login"], [*NODE, "--logout"],
    [*NODE, "-o", "delete"],
    ["-m", "node", "-T", base.TARGET, "-p", base.PORTAL, "-o", "show"],
    [*IFACE, "-o", "new"], [*IFACE, "-o", "show"], [*IFACE, "-o", "delete"],
    [*IFACE, "-o", "update", "-n", "iface.transport_name", "-v", "cxgb4i"],
    [*IFACE, "-o", "update", "-n", "iface.hwaddress", "-v",
     "00:07:43:05:97:07"],
    [*IFACE, "-o", "update", "-n", "iface.ipaddress", "-v", "192.0.2.7"],
    [*IFACE, "-o", "update", "-n", "iface.net_ifacename", "-v", "eth0"],
    ["-m", "discovery", "-t", "sendtargets", "-p", base.PORTAL, "-I",
     "lab0", "-o", "nonpersistent"],
    [*DB, "-o", "new"], [*DB, "--discover", "-o", "nonpersistent"],
]


@st.composite
def mutated(draw: Callable[..., Any], argvs: list[list[str]]) -> list[str]:
    """A library argv with up to three words replaced, inserted or
    dropped."""
    argv = list(draw(st.sampled_from(argvs)))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.integers(0, len(argv)))
        action = draw(st.sampled_from(["replace", "insert", "drop"]))
        if action == "insert" or where == len(argv):
            argv.insert(where, draw(WORDS))
        elif action == "replace":
            argv[where] = draw(WORDS)
        else:
            del argv[where]
    return argv


# -- the grammar, stated again --------------------------------------------------

_MAC = re.compile(r"\A[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
_IFACE_VALUES: dict[str, Callable[[str], bool]] = {
    "iface.transport_name": lambda v: v in {
        "tcp", "iser", "bnx2i", "be2iscsi", "cxgb3i", "cxgb4i", "ocs",
        "qedi", "qla4xxx", "acme"},
    "iface.hwaddress": lambda v: bool(_MAC.match(v)) and
    v != "00:00:00:00:00:00",
    "iface.ipaddress": lambda v: bool(re.match(
        r"\A(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:.]+)\Z", v)),
    "iface.net_ifacename": lambda v: 0 < len(v.encode()) <= 15 and
    not re.search(r"[/:\s]", v) and v not in (".", ".."),
    "iface.initiatorname": lambda v: len(v.encode()) <= 223 and
    v.startswith(("iqn.", "eui.", "naa.")),
}


def in_grammar(argv: list[str]) -> bool:
    """What the daemon may run: a library shape, its values each in their
    own grammar."""
    if argv[:2] == ["-m", "iface"] and "update" in argv:
        pairs = argv[argv.index("update") + 1:]
        return argv[:6] == [*IFACE, "-o", "update"] and \
            len(pairs) % 4 == 0 and pairs and all(
                pairs[i] == "-n" and pairs[i + 2] == "-v" and
                pairs[i + 1] in _IFACE_VALUES and
                _IFACE_VALUES[pairs[i + 1]](pairs[i + 3])
                for i in range(0, len(pairs), 4))
    if argv[:2] == ["-m", "discoverydb"]:
        return "-n" not in argv and "update" not in argv and \
            ("--discover" in argv) == ("nonpersistent" in argv) and \
            "delete" not in argv
    if argv[:2] == ["-m", "discovery"]:
        return argv[-2:] == ["-o", "nonpersistent"] or \
            "nonpersistent" in argv
    if argv[:2] == ["-m", "node"] and ("--logout" in argv or
                                       "delete" in argv):
        return {"-T", "-p", "-I"} <= set(argv) and \
            argv[argv.index("-T") + 1] != base.TARGET + "-boot"
    return argv[:2] in (["-m", "node"], ["-m", "iface"])


def _body(operation: Any) -> Any:
    """The entry point's body, as the daemon runs it (calling the entry
    point itself would start a daemon)."""
    return inspect.unwrap(operation)


class _Finished:
    """A process that ran and said nothing."""

    returncode = 0
    pid = -1

    def communicate(self, timeout: float | None = None
                    ) -> tuple[bytes, bytes]:
        return b"", b""


class _Recorder:
    """Stands in for the process start and records its argv."""

    def __init__(self) -> None:
        self.started: list[list[str]] = []

    def popen(self, argv: list[str], **_: object) -> _Finished:
        self.started.append(list(argv[1:]))
        return _Finished()


class DaemonPropertyCase(base.TreeTestCase):
    in_process = True

    def setUp(self) -> None:
        super().setUp()
        for binary in ("iscsiadm", "multipath", "multipathd"):
            self.script(binary)
        self.tree.add_disk(1, 3, "sdc")
        self.mounts(base.MOUNTINFO + "40 24 8:32 / /srv rw - xfs /dev/sdc "
                    "rw\n")
        self.write(os.path.join(self.paths.sysfs, "firmware", "ibft",
                                "target0", "target-name"),
                   base.TARGET + "-boot\n")
        self.recorder = _Recorder()
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.commands.subprocess.Popen",
            self.recorder.popen))
        self.opened: list[str] = []
        real_open = os.open

        def recording_open(path: str, *args: Any, **kwargs: Any) -> int:
            self.opened.append(str(path))
            return real_open(path, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch("os.open", recording_open))
        self.ioctls: list[int] = []
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.scsi.fcntl.ioctl",
            lambda fd, *_: self.ioctls.append(fd)))

    def touched(self) -> list[str]:
        """Paths opened in the built tree (sysfs, /dev, records)."""
        return [path for path in self.opened if path.startswith(self.root)
                and not path.startswith(self.paths.proc)]

    def assert_refusal(self, error: exception.PrivilegedRequestRefused,
                       values: list[object]) -> None:
        message = str(error)
        self.assertNotIn("\n", message)
        for value in values:
            if isinstance(value, str) and len(value) > 3 and \
                    value not in ("update", "delete", "show", "None"):
                self.assertNotIn(value, message.replace(base.TARGET, ""))


class TestIscsiadmRequests(DaemonPropertyCase):

    @PROFILE
    @given(mutated(LIBRARY_ARGV))
    def test_only_the_grammar_starts_iscsiadm(self, argv: list[str]) -> None:
        del self.recorder.started[:]
        try:
            _body(commands.iscsiadm)(argv, 30)
        except exception.PrivilegedRequestRefused as error:
            self.assertEqual([], self.recorder.started)
            at = argv.index("-v") + 1 if "-v" in argv else len(argv)
            # A value, not the same word quoted where it is an option.
            if at < len(argv) and argv.count(argv[at]) == 1:
                self.assert_refusal(error, [argv[at]])
            return
        self.assertEqual([argv], self.recorder.started)
        self.assertTrue(in_grammar(argv), argv)

    @PROFILE
    @given(st.sampled_from(sorted(_IFACE_VALUES)), WORDS)
    def test_iface_values(self, key: str, value: str) -> None:
        del self.recorder.started[:]
        argv = [*IFACE, "-o", "update", "-n", key, "-v", value]
        try:
            _body(commands.iscsiadm)(argv, 30)
        except exception.PrivilegedRequestRefused as error:
            self.assertIn(key, str(error))
            self.assert_refusal(error, [value])
            self.assertEqual([], self.recorder.started)
            return
        self.assertTrue(_IFACE_VALUES[key](value), (key, value))


class TestMultipathdRequests(DaemonPropertyCase):

    @PROFILE
    @given(st.sampled_from(["add", "del"]),
           st.one_of(st.sampled_from(["sda", "sdb", "sdc", "sdq"]),
                     st.from_regex(r"\Asd[a-z]{1,4}\Z"), WORDS))
    def test_only_unused_iscsi_paths(self, verb: str, disk: str) -> None:
        del self.recorder.started[:]
        try:
            _body(commands.multipathd)([verb, "path", disk], 30)
        except exception.PrivilegedRequestRefused:
            self.assertEqual([], self.recorder.started)
            return
        self.assertIn(disk, ("sdb", "sdc") if verb == "add" else ("sdb",))


class TestDiskRequests(DaemonPropertyCase):

    @PROFILE
    @given(st.sampled_from(["delete_disk", "rescan_disk", "flush_disk"]),
           st.one_of(st.sampled_from(["sda", "sdb", "sdc", "sdq"]),
                     st.from_regex(r"\Asd[a-z]{1,4}\Z"), WORDS))
    def test_only_the_unused_iscsi_disk(self, name: str, disk: str) -> None:
        del self.opened[:]
        del self.ioctls[:]
        try:
            _body(getattr(scsi, name))(disk)
        except exception.PrivilegedRequestRefused:
            self.assertEqual([], self.touched())
            self.assertEqual([], self.ioctls)
            return
        except exception.PrivilegedOperationFailed:
            pass  # allowed, and the kernel (here: the tree) said no
        self.assertTrue(all("/sdb" in path or "/1" in path
                            for path in self.touched()), self.touched())
        if self.touched():
            self.assertEqual("sdb", disk)

    @PROFILE
    @given(st.one_of(st.integers(-2, 20), st.booleans(), WORDS),
           st.one_of(st.sampled_from(["0 0 1", "- - -", "0 0 -", "1 2 3"]),
                     WORDS))
    def test_only_numbered_scans_of_iscsi_hosts(self, host: object,
                                                hctl: object) -> None:
        del self.opened[:]
        try:
            _body(scsi.scan_host)(host, hctl)  # type: ignore[arg-type]
        except exception.PrivilegedRequestRefused:
            self.assertEqual([], self.touched())
            return
        self.assertEqual(11, host)
        self.assertTrue(re.match(r"\A\d+ \d+ \d+\Z", str(hctl)), hctl)

    @PROFILE
    @given(st.one_of(
        st.sampled_from(["/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdq",
                         "/dev/dm-0", "/dev/mapper/x", "/dev/../etc/x"]),
        st.builds("/dev/{}".format, WORDS), WORDS))
    def test_reads_only_of_the_unused_iscsi_disk(self, path: str) -> None:
        del self.opened[:]
        try:
            _body(scsi.read_block)(path)
        except exception.PrivilegedRequestRefused:
            self.assertEqual([], self.touched())
            return
        except exception.PrivilegedOperationFailed:
            pass
        self.assertEqual([], [opened for opened in self.touched()
                              if not opened.endswith("/dev/sdb")])


class TestChapRequests(DaemonPropertyCase):

    def setUp(self) -> None:
        super().setUp()
        self.record = self.node_record()
        self.replaced: list[str] = []
        real_replace = os.replace

        def recording_replace(src: str, dst: str) -> None:
            self.replaced.append(dst)
            real_replace(src, dst)

        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.records.os.replace",
            recording_replace))

    @PROFILE
    @given(st.sampled_from(["username", "password", "username_in",
                            "password_in"]),
           st.one_of(WORDS, st.text(min_size=200, max_size=300)))
    def test_only_values_open_iscsi_keeps(self, field: str,
                                          value: str) -> None:
        del self.replaced[:]
        key = "node.session.auth." + field
        try:
            _body(records.write_node_settings)(
                base.TARGET, base.PORTAL, "lab0",
                {"node.session.auth.authmethod": "CHAP", key: value})
        except exception.PrivilegedRequestRefused as error:
            self.assertEqual([], self.replaced)
            self.assertIn(key, str(error))
            self.assert_refusal(error, [value])
            return
        self.assertEqual([self.record], self.replaced)
        encoded = value.encode("utf-8")
        self.assertTrue(0 < len(encoded) <= 255, len(encoded))
        self.assertEqual(value, value.strip())
        self.assertFalse(re.search("[\x00-\x1f\x7f]", value))
        with open(self.record, encoding="utf-8") as handle:
            self.assertIn("%s = %s\n" % (key, value), handle.read())

