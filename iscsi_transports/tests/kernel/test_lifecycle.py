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

"""Issue 17 on the real kernel: shared targets, manual LUN scans, IPv6,
LUNs above 255, clean failures, concurrency, extend and the console
commands, against LIO in the VM."""

from __future__ import annotations

import concurrent.futures
import json
import os
import threading

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine


class LifecycleTestCase(base.KernelTestCase):
    def attach(self, driver: base.ISCSIDriver, props: dict) -> tuple[
            dict, str]:
        info = driver.connect_volume(props)
        return info, self.assert_attached(props["target_iqn"], info["path"])

    def assert_scanned(self, lun: int) -> None:
        """Kernel LUN ``lun`` was scanned for through the executor, and
        no other LUN (a scan request is ``"channel target lun"``)."""
        scans = self.root.named("scan_host")
        self.assertTrue(scans, self.root.names())
        self.assertEqual({str(lun)}, {str(operation.args[1]).split()[-1]
                                      for operation in scans})


class TestSharedTarget(LifecycleTestCase):

    def test_detach_one_of_three_luns_while_the_others_do_io(self) -> None:
        target = self.lio(luns=3)
        driver = self.driver()
        attached = [self.attach(driver, target.props(lun)) for lun in
                    range(3)]
        self.assertEqual(1, len(machine.sessions(target.iqn)))
        errors: list[BaseException] = []

        def io(path: str) -> None:
            try:
                for _round in range(3):
                    self.assert_pattern_io(path)
            except BaseException as error:  # reported below
                errors.append(error)

        workers = [threading.Thread(target=io, args=(info["path"],))
                   for info, _disk in attached[1:]]
        for worker in workers:
            worker.start()
        self.root.clear()
        driver.disconnect_volume(target.props(0), attached[0][0])
        for worker in workers:
            worker.join()
        self.assertEqual([], errors)
        # Its disk flushed and deleted, and nothing else: no node record
        # write, no logout, no iscsiadm process at all.
        self.assertEqual([("flush_disk", (attached[0][1],)),
                          ("delete_disk", (attached[0][1],))],
                         [(operation.name, operation.args)
                          for operation in self.root.operations])
        self.assertFalse(machine.disk_exists(attached[0][1]))
        self.assertEqual(1, len(machine.sessions(target.iqn)))
        self.assertEqual(sorted(disk for _info, disk in attached[1:]),
                         sorted(machine.disks(target.iqn)))
        for lun in (1, 2):
            driver.disconnect_volume(target.props(lun), attached[lun][0])
        self.assert_clean(target.iqn, [disk for _info, disk in attached])

    def test_lun_mapped_after_the_session_exists(self) -> None:
        target = self.lio(luns=1)
        driver = self.driver()
        _first, first_disk = self.attach(driver, target.props(0))
        target.add_lun(1)
        machine.settle()
        # The kernel does not add the LUN on its own (manual scan).
        self.assertEqual([first_disk], machine.disks(target.iqn))
        self.root.clear()
        second, second_disk = self.attach(driver, target.props(1))
        # The session was reused: only scans of LUN 1 ran.
        self.assertEqual({"scan_host"}, set(self.root.names()))
        self.assert_scanned(1)
        self.assert_pattern_io(second["path"])
        self.assertEqual(1, len(machine.sessions(target.iqn)))
        driver.disconnect_volume(target.props(1), None)
        driver.disconnect_volume(target.props(0), None)
        self.assert_clean(target.iqn, [first_disk, second_disk])


class TestAddressing(LifecycleTestCase):

    def test_ipv6_portal(self) -> None:
        target = self.lio(portal_ip="[::1]")
        driver = self.driver()
        info, disk = self.attach(driver, target.props(0))
        self.assertIn("/ip-::1:3260-iscsi-", info["path"])
        self.assert_pattern_io(info["path"])
        driver.disconnect_volume(target.props(0), info)
        self.assert_clean(target.iqn, [disk])

    def test_lun_above_255(self) -> None:
        target = self.lio(luns=0)
        target.add_lun(300)
        driver = self.driver()
        info, disk = self.attach(driver, target.props(300))
        self.assertTrue(info["path"].endswith("-lun-0x012c000000000000"),
                        info["path"])
        self.assertTrue(info["targets"][0]["hctl"].endswith(":300"))
        self.assert_scanned(300)
        self.assert_pattern_io(info["path"])
        driver.disconnect_volume(target.props(300), info)
        self.assert_clean(target.iqn, [disk])


class TestCleanFailure(LifecycleTestCase):

    def test_wrong_target_name_leaves_no_record_or_session(self) -> None:
        target = self.lio()
        wrong = target.iqn + "-no-such-target"
        self.addCleanup(self.forget_sessions, wrong)
        self.flags(fallback_to_tcp=False)
        self.assertRaises(base.exception.IscsiadmError,
                          self.driver().connect_volume,
                          dict(target.props(0), target_iqn=wrong))
        node = ["-m", "node", "-T", wrong, "-p", target.portal, "-I",
                "default"]
        ran = self.root.iscsiadm_args()
        self.assertEqual([node + ["-o", "new"], node + ["--login"]],
                         ran[:2])
        self.assertEqual(node + ["-o", "delete"], ran[-1])
        self.assertNotEqual(0, self.root.exit_codes[1])
        self.assertEqual([], machine.node_records(wrong))
        self.assertEqual([], machine.sessions(wrong))
        self.assertEqual([], machine.sessions(target.iqn))


class TestConcurrency(LifecycleTestCase):

    def test_two_luns_of_one_target_at_once(self) -> None:
        target = self.lio(luns=2)
        driver = self.driver()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda lun: self.attach(
                driver, target.props(lun)), (0, 1)))
        self.assertEqual(1, len(machine.sessions(target.iqn)))
        self.assertEqual(2, len({disk for _info, disk in results}))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda lun: driver.disconnect_volume(
                target.props(lun), results[lun][0]), (0, 1)))
        self.assert_clean(target.iqn, [disk for _info, disk in results])

    def test_attach_racing_detach_on_one_target(self) -> None:
        target = self.lio(luns=2)
        driver = self.driver()
        first, first_disk = self.attach(driver, target.props(0))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            detach = pool.submit(driver.disconnect_volume, target.props(0),
                                 first)
            attach = pool.submit(self.attach, driver, target.props(1))
            detach.result()
            second, second_disk = attach.result()
        # By SCSI address: the kernel may give LUN 1 the name LUN 0 had.
        self.assertFalse(os.path.exists(
            "/sys/class/scsi_device/%s" % first["targets"][0]["hctl"]))
        self.assertTrue(second["targets"][0]["hctl"].endswith(":1"))
        self.assertEqual([second_disk], machine.disks(target.iqn))
        self.assert_pattern_io(second["path"])
        driver.disconnect_volume(target.props(1), second)
        self.assert_clean(target.iqn, [first_disk, second_disk])


class TestExtend(LifecycleTestCase):

    def test_extend_after_growing_the_backing_file(self) -> None:
        target = self.lio(luns=0)
        target.add_lun(1, size_mib=32)
        driver = self.driver()
        info, disk = self.attach(driver, target.props(1))
        target.grow(1, 48)
        self.root.clear()
        self.assertEqual(48 << 20, driver.extend_volume(target.props(1)))
        self.assertEqual([("rescan_disk", (disk,))],
                         [(operation.name, operation.args)
                          for operation in self.root.operations])
        with open("/sys/block/%s/size" % disk) as size:
            self.assertEqual(48 << 11, int(size.read()))
        driver.disconnect_volume(target.props(1), info)
        self.assert_clean(target.iqn, [disk])


class TestCommands(LifecycleTestCase):

    def test_attach_and_detach_commands_end_to_end(self) -> None:
        target = self.lio()
        config = os.path.join(self.state, "it.conf")
        with open(config, "w") as handle:
            handle.write("[iscsi_transports]\nstate_path = %s\n"
                         "device_scan_attempts = 60\n"
                         "device_scan_interval = 0.5\n" % self.state)
        props = os.path.join(self.state, "props.json")
        with open(props, "w") as handle:
            json.dump({"driver_volume_type": "iscsi",
                       "data": target.props(0)}, handle)
        info = self.cli_json("attach", "--properties", props,
                             "--config-file", config)
        for key in ("path", "scsi_wwn", "transport", "iface", "fallback",
                    "reason", "paths"):
            self.assertIn(key, info)
        disk = self.assert_attached(target.iqn, info["path"])
        self.assertTrue(info["scsi_wwn"])
        self.assert_pattern_io(info["path"])
        device_info = os.path.join(self.state, "info.json")
        with open(device_info, "w") as handle:
            json.dump(info, handle)
        code, out, err = base.cli("detach", "--properties", props,
                                  "--device-info", device_info,
                                  "--config-file", config)
        self.assertEqual((0, "detached\n", ""), (code, out, err))
        self.assert_clean(target.iqn, [disk])
