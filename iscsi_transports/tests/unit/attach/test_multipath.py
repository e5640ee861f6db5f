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

"""Waiting for, reading and flushing multipath maps, on built sysfs trees.

The executor is a recording fake whose commands change the tree the way
multipathd and the kernel would (a map appears on ``multipathd add
path``, goes on ``multipath -f``), and the clock only moves when the code
sleeps, so every decision about time is exact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import multipath
from iscsi_transports.attach import sysfs
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel
from iscsi_transports.tests.unit.attach import kernel_tree

TARGET = "iqn.2003-01.org.linux-iscsi.lab:vol1"
#: The scsi_wwn of LUN 0 as kernel_tree writes its wwid (naa.6001405...).
WWID = "36001405" + "0" * 25
LINK = "disk/by-id/dm-uuid-mpath-" + WWID
LISTENING = ("Num       RefCount Protocol Flags    Type St Inode Path\n"
             "0000000000000000: 00000002 00000000 00010000 0001 01 21 "
             "@/org/kernel/linux/storage/multipathd\n")


class ScriptedExecutor(fake_executor.RecordingExecutor):
    """Records commands; ``on[(tool, first args...)]`` runs on a match."""

    def __init__(self) -> None:
        super().__init__()
        self.on: dict[tuple[str, ...], Callable[[], None]] = {}

    def _react(self, tool: str, args: Sequence[str]) -> None:
        for key, action in self.on.items():
            if (tool, *args)[:len(key)] == key:
                action()

    def multipath(self, args: Sequence[str],
                  timeout: int) -> client.CommandResult:
        result = super().multipath(args, timeout)
        self._react("multipath", args)
        return result

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> client.CommandResult:
        result = super().multipathd(args, timeout)
        self._react("multipathd", args)
        return result


class MultipathTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        temp = self.useFixture(fixtures.TempDir()).path
        self.dev = os.path.join(temp, "dev")
        self.proc = os.path.join(temp, "proc")
        os.makedirs(os.path.join(self.proc, "net"))
        self.listening(True)
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.tree.add_session(1, TARGET, address="10.0.0.1")
        self.tree.add_session(2, TARGET, address="10.0.0.2")
        self.executor = ScriptedExecutor()
        self.clock = fake_kernel.Clock(100.0)
        self.wwids = os.path.join(temp, "wwids")
        self.flags(multipath_map_wait=30, multipath_path_wait=5,
                   multipath_flush_attempts=3, multipath_flush_interval=2,
                   multipath_wwids_file=self.wwids)
        self.multipath = multipath.Multipath(
            self.conf, sysfs.Sysfs(self.sysfs.root, self.dev), self.executor,
            proc_root=self.proc, clock=self.clock.time,
            sleep=self.clock.sleep)

    def listening(self, yes: bool) -> None:
        with open(os.path.join(self.proc, "net", "unix"), "w",
                  encoding="ascii") as handle:
            handle.write(LISTENING if yes else LISTENING.splitlines()[0])

    def list_wwid(self, *wwids: str) -> None:
        """Write multipath-tools' wwids file as ``multipath -a`` does."""
        with open(self.wwids, "w", encoding="ascii") as handle:
            handle.write("# Multipath wwids, Version : 1.0\n")
            handle.writelines("/%s/\n" % wwid for wwid in wwids)

    def add_paths(self, held: tuple[str, ...] = ("sdb", "sdc"),
                  free: tuple[str, ...] = (),
                  linked: tuple[str, ...] = ()) -> None:
        """Disks sdb and sdc, ``held`` by dm-0; ``linked`` ones have the
        by-id link of a disk udev has processed."""
        for sid, name in ((1, "sdb"), (2, "sdc")):
            if name in held + free:
                self.tree.add_disk(sid, 0, name, holders=(
                    ("dm-0",) if name in held else ()), links=(
                    ("disk/by-id/wwn-0x%s-%s" % (WWID[1:], name),)
                    if name in linked else ()))

    def add_map(self, link: bool = True) -> None:
        self.tree.add_dm("dm-0", "mpatha", "mpath-" + WWID,
                         links=(LINK,) if link else ())

    def drop_map(self) -> None:
        self.tree.remove("block/dm-0")

    def commands(self) -> list[tuple[object, ...]]:
        return [(call[0], " ".join(call[1])) for call in self.executor.calls]


class TestWait(MultipathTestCase):

    def test_complete_map_returns_at_once(self) -> None:
        self.add_paths()
        self.add_map()
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(multipath.MultipathMap(
            wwid=WWID, name="dm-0", dm_name="mpatha",
            device=os.path.join(self.dev, "dm-0"),
            link=os.path.join(self.dev, LINK), paths=("sdb", "sdc")), found)
        self.assertEqual(os.path.join(self.dev, LINK), found.path)
        self.assertEqual(([], []), (self.executor.calls, self.clock.sleeps))

    def build_on_add_path(self, name: str) -> None:
        """multipathd builds the map of both paths on ``add path name``."""
        def build() -> None:
            if not os.path.exists(os.path.join(self.sysfs.root,
                                               "block/dm-0")):
                self.tree.add_dm("dm-0", "mpatha", "mpath-" + WWID,
                                 links=(LINK,))
            for path in ("sdb", "sdc"):
                self.tree.stack("dm-0", path)
        self.executor.on[("multipathd", "add", "path", name)] = build

    def test_listed_wwid_tells_multipathd_after_a_second(self) -> None:
        self.list_wwid("3600140599", WWID)
        self.add_paths(held=(), free=("sdb", "sdc"))
        self.build_on_add_path("sdc")
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(("sdb", "sdc"), found.paths)
        self.assertEqual([("multipath", "-a " + WWID),
                          ("multipathd", "add path sdb"),
                          ("multipathd", "add path sdc")], self.commands())
        self.assertGreaterEqual(self.clock.now - 100, multipath.NUDGE_AFTER)
        # Short polls again once multipathd was told.
        self.assertLess(self.clock.now - 100, multipath.NUDGE_AFTER + 0.3)

    def test_unlisted_wwid_tells_multipathd_at_once(self) -> None:
        # find_multipaths strict builds no map of a WWID its wwids file
        # does not list: waiting for it first is a second lost.
        self.list_wwid("3600140599")
        self.add_paths(held=(), free=("sdb", "sdc"), linked=("sdb", "sdc"))
        self.build_on_add_path("sdb")
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(("sdb", "sdc"), found.paths)
        self.assertEqual([("multipath", "-a " + WWID),
                          ("multipathd", "add path sdb")], self.commands())
        self.assertEqual([0.01], self.clock.sleeps)

    def test_paths_udev_has_not_processed_are_told_when_it_has(self) -> None:
        # multipathd refuses a path without udev data ("failed to get
        # udev uid"): the WWID at once, sdc once udev linked it.
        self.add_paths(held=(), free=("sdb", "sdc"))
        self.build_on_add_path("sdc")
        told = []

        def udev_links_sdc(seconds: float) -> None:
            told.append(self.commands())
            link = os.path.join(self.dev, "disk/by-id/wwn-sdc")
            if self.clock.now - 100 >= 0.3 and not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink("../../sdc", link)
            self.clock.sleep(seconds)
        self.multipath._sleep = udev_links_sdc
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(("sdb", "sdc"), found.paths)
        self.assertEqual([("multipath", "-a " + WWID)], told[0])
        self.assertEqual([("multipath", "-a " + WWID),
                          ("multipathd", "add path sdc")], self.commands())
        self.assertLess(self.clock.now - 100, 0.6)

    def test_unreadable_wwids_file_counts_as_unlisted(self) -> None:
        os.mkdir(self.wwids)  # open() fails with IsADirectoryError
        self.add_paths(held=(), free=("sdb", "sdc"), linked=("sdb",))
        self.build_on_add_path("sdb")
        self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual([0.01], self.clock.sleeps)
        self.assertFalse(self.multipath.listed(WWID))

    def test_one_path_told_when_the_map_adopts_the_others(self) -> None:
        self.add_paths(held=(), free=("sdb", "sdc"))

        def build() -> None:
            self.add_map()
            for name in ("sdb", "sdc"):
                self.tree.stack("dm-0", name)
        self.executor.on[("multipathd", "add", "path", "sdb")] = build
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(("sdb", "sdc"), found.paths)
        self.assertEqual([("multipath", "-a " + WWID),
                          ("multipathd", "add path sdb")], self.commands())

    def test_polls_are_short_and_read_only_the_paths(self) -> None:
        self.add_paths(held=(), free=("sdb",))
        reads = self.useFixture(fixtures.MockPatchObject(
            sysfs.Sysfs, "multipath_map", autospec=True,
            side_effect=sysfs.Sysfs.multipath_map)).mock
        self.assertRaises(exception.MultipathMapNotFound,
                          self.multipath.wait_for_map, WWID, ["sdb"])
        # Never a longer pause: past the map's arrival it is latency.
        self.assertEqual([0.01, 0.02, 0.04, 0.05],
                         [round(pause, 6) for pause in self.clock.sleeps[:4]])
        self.assertEqual(0.05, round(max(self.clock.sleeps), 6))
        # Each poll reads sdb's holders; every dm device of the host is
        # walked on the old schedule only (0.02 s doubling to 1 s).
        given = [(call.args[2:] or (call.kwargs.get("paths", ()),))[0]
                 for call in reads.call_args_list]
        self.assertGreater(given.count(["sdb"]), 500)
        self.assertLess(given.count(()), 50)
        self.assertGreater(given.count(()), 10)

    def test_without_paths_every_dm_device_on_the_slow_schedule(
            self) -> None:
        self.assertRaises(exception.MultipathMapNotFound,
                          self.multipath.wait_for_map, WWID, [])
        self.assertEqual([0.02, 0.05, 0.1, 0.2],
                         [round(pause, 6) for pause in self.clock.sleeps[:4]])
        self.assertEqual(1.0, round(max(self.clock.sleeps), 6))

    def test_no_map_within_the_budget(self) -> None:
        self.add_paths(held=(), free=("sdb", "sdc"))
        error = self.assertRaises(exception.MultipathMapNotFound,
                                  self.multipath.wait_for_map, WWID,
                                  ["sdb", "sdc"])
        self.assertEqual(130.0, round(self.clock.now, 6))
        self.assertEqual((WWID, "sdb, sdc"), (error.wwid, error.paths))
        # Told once, not on every poll.
        self.assertEqual(3, len(self.executor.calls))

    def test_missing_path_is_added_and_waited_for_briefly(self) -> None:
        self.add_paths(held=("sdb",), free=("sdc",))
        self.add_map()
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(("sdb",), found.paths)
        self.assertEqual([("multipathd", "add path sdc")], self.commands())
        self.assertEqual(105.0, round(self.clock.now, 6))
        self.assertIn("not there yet: sdc", self.log.output)

    def test_map_without_udev_link_is_its_device(self) -> None:
        self.add_paths()
        self.add_map(link=False)
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual((None, os.path.join(self.dev, "dm-0")),
                         (found.link, found.path))
        self.assertEqual(105.0, round(self.clock.now, 6))
        self.assertEqual([], self.executor.calls)
        self.assertIn("not there yet: udev's dm-uuid link", self.log.output)

    def test_link_to_another_device_is_not_ours(self) -> None:
        self.add_paths()
        self.add_map(link=False)
        self.tree.add_dev("dm-1", links=(LINK,))
        found = self.multipath.wait_for_map(WWID, ["sdb", "sdc"])
        self.assertEqual(os.path.join(self.dev, "dm-0"), found.path)

    def test_refused_nudge_is_logged_and_the_wait_goes_on(self) -> None:
        self.add_paths(held=(), free=("sdb",))
        self.executor.answer = client.CommandResult(0, "fail\n", "")
        self.executor.on[("multipathd", "add", "path", "sdb")] = \
            lambda: (self.add_map(), self.tree.stack("dm-0", "sdb"))
        found = self.multipath.wait_for_map(WWID, ["sdb"])
        self.assertEqual(("sdb",), found.paths)
        self.assertIn("Telling multipathd about sdb failed: multipathd add "
                      "path sdb failed (exit 0): fail", self.log.output)

    def test_daemon_not_running(self) -> None:
        self.listening(False)
        self.add_paths()
        self.add_map()
        self.assertRaises(exception.MultipathdNotRunning,
                          self.multipath.wait_for_map, WWID, ["sdb"])
        self.assertFalse(self.multipath.daemon_running())
        self.assertEqual([], self.executor.calls)


class TestHolders(MultipathTestCase):

    def test_maps_holding_a_session(self) -> None:
        self.add_paths(held=("sdb",), free=("sdc",))
        self.add_map()
        (held,) = self.multipath.maps_holding(1)
        self.assertEqual(("dm-0", WWID, ("sdb",)),
                         (held.name, held.wwid, held.paths))
        self.assertEqual([], self.multipath.maps_holding(2))
        self.assertEqual(held, self.multipath.holder_of("sdb"))
        self.assertIsNone(self.multipath.holder_of("sdc"))
        self.assertIsNone(self.multipath.holder_of("sdx"))

    def test_other_device_mapper_holders_are_no_maps(self) -> None:
        self.tree.add_dm("dm-0", "vg-lv", "LVM-abcdef")
        self.add_paths(held=("sdb",))
        self.assertEqual([], self.multipath.maps_holding(1))
        self.assertIsNone(self.multipath.holder_of("sdb"))
        self.assertIsNone(self.multipath.find(WWID))


class TestFlush(MultipathTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.add_paths()
        self.add_map()

    def test_flushed_first_time(self) -> None:
        self.executor.on[("multipath", "-f")] = self.drop_map
        result = self.multipath.flush(WWID)
        self.assertEqual(multipath.Teardown(WWID, ("sdb", "sdc"), 1, None,
                                            None), result)
        self.assertTrue(result.removed)
        self.assertEqual([("multipath", "-f mpatha")], self.commands())
        self.assertEqual([], self.clock.sleeps)

    def test_flushed_on_the_last_attempt(self) -> None:
        answers = iter([client.CommandResult(1, "", "map in use\n")] * 2)

        def second() -> None:
            self.executor.answer = next(answers, client.CommandResult(
                0, "", ""))
            if len(self.executor.calls) == 3:
                self.drop_map()
        self.executor.answer = client.CommandResult(1, "", "map in use\n")
        self.executor.on[("multipath", "-f")] = second
        result = self.multipath.flush(WWID)
        self.assertEqual((True, 3), (result.removed, result.attempts))
        self.assertEqual([2, 2], self.clock.sleeps)

    def test_map_that_stays_is_an_error_and_nothing_else_runs(self) -> None:
        self.executor.answer = client.CommandResult(1, "", "map in use\n")
        error = self.assertRaises(exception.MultipathFlushFailed,
                                  self.multipath.flush, WWID)
        self.assertEqual(("mpatha", 3, "sdb, sdc"),
                         (error.name, error.attempts, error.paths))
        self.assertIn("map in use", str(error))
        self.assertEqual([("multipath", "-f mpatha")] * 3, self.commands())
        self.assertEqual([2, 2], self.clock.sleeps)

    def test_forced_flush_reports_what_it_left(self) -> None:
        self.executor.raises["multipath"] = \
            exception.PrivilegedCommandTimeout("multipath -f mpatha", "60")
        result = self.multipath.flush(WWID, force=True)
        self.assertFalse(result.removed)
        self.assertEqual(("dm-0", ("sdb", "sdc"), 3),
                         (result.left and result.left.name, result.paths,
                          result.attempts))
        self.assertIn("did not finish within 60 seconds", result.reason)
        self.assertIn("Forced detach leaves multipath map dm-0",
                      self.log.output)

    def test_no_map_nothing_to_do(self) -> None:
        self.drop_map()
        self.assertEqual(multipath.Teardown(WWID, (), 0, None, None),
                         self.multipath.flush(WWID))
        self.assertEqual([], self.executor.calls)


class TestNodeSettings(base.TestCase):

    def test_defaults(self) -> None:
        self.assertEqual({"node.session.timeo.replacement_timeout": "15",
                          "node.conn[0].timeo.noop_out_interval": "5",
                          "node.conn[0].timeo.noop_out_timeout": "5"},
                         multipath.node_settings(self.conf))

    def test_configured(self) -> None:
        self.flags(multipath_replacement_timeout=5,
                   multipath_noop_out_interval=2)
        settings = multipath.node_settings(self.conf)
        self.assertEqual(("5", "2"), (
            settings["node.session.timeo.replacement_timeout"],
            settings["node.conn[0].timeo.noop_out_interval"]))
