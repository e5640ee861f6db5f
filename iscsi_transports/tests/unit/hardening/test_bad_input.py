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

"""Every bad input gets a typed error with a clear message and changes nothing.

"Nothing" is checked where it could happen: no iscsiadm process is started
(a recording ``execute``) and nothing is written under ``state_path``.
"""

from __future__ import annotations

import functools
import io
import os

import fixtures

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import portal
from iscsi_transports.attach import connection
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.plugins import tcp
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor

PORTAL = "192.0.2.10:3260"
IQN = "iqn.2010-10.org.openstack:volume-1"
BAD_IFACE_NAMES = (
    "a/b", "/etc/passwd", "..", "a..b", "../../etc", "has space", "tab\tname",
    "new\nline", "x;reboot", "$(id)", "`id`", "a|b", "a&b", "a>b", "a<b",
    "it's", 'say"hi"', "*", "a?", "~root", "-I", "--op", ".hidden", "x" * 65,
    "", "caf\u00e9", "nul\0byte")
BAD_MACS = ("00:07:43:05:97", "00:07:43:05:97:07:08", "gg:07:43:05:97:07",
            "00:00:00:00:00:00", "0007.4305.9707", "00074305970", "",
            "00:07:43:05:97:0\u0667", "00:07:43:05:97:07;id")
BAD_IPS = ("10.0.0.256", "10.0.0", "010.0.0.1", "fe80::1::2", "1.2.3.4/24",
           "", "example.com", "10.0.0.1; reboot")
BAD_PORTALS = ("", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1:0", "10.0.0.1:65536",
               "10.0.0.1:abc", "10.0.0.1:-1", "[fe80::1", "[fe80::1]x",
               "[10.0.0.1]:3260", "300.1.1.1", "10.0.0.1:3260;id", "host name",
               "-p", "a..b", "10.0.0.1:\u0663\u0662\u0666\u0660")
BAD_IQNS = ("", "iqn", "iqn.2010.org.x", "iqn.10-10.org.x", "iqn.2010-10.",
            "iqn.2010-10.org.x:a b", "eui.123", "eui.0123456789abcdefg",
            "naa.xyz", "naa.0123", "-o", "iqn.2010-10.org.x:a/b", "target",
            "iqn.2010-10.org.x:nul\x00byte", "iqn.2010-10.org.x:esc\x1b[0m")


class IscsiadmCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.state = os.path.join(self.lock_path, "state")
        self.flags(state_path=self.state)
        self.scripted = fake_executor.ScriptedExecutor()
        self.tool = iscsiadm.Iscsiadm(self.conf, executor=self.scripted)

    def assert_untouched(self) -> None:
        self.assertEqual([], self.scripted.argvs)
        self.assertFalse(os.path.exists(self.state), "state_path written")


class TestIfaceNames(IscsiadmCase):

    def test_unsafe_names_rejected_with_the_name_and_reason(self) -> None:
        for name in BAD_IFACE_NAMES:
            error = self.assertRaises(exception.InvalidIfaceName,
                                      iface_mod.validate_name, name)
            self.assertIn(repr(name), str(error))
            self.assertIn(": ", str(error))  # a reason follows the name

    def test_unsafe_names_never_reach_iscsiadm_or_disk(self) -> None:
        records = iscsiadm_ifaces.IfaceRecords(self.tool)
        plugin = tcp.TcpTransport(self.conf)
        calls = (records.show, records.delete, records.created_by_us,
                 plugin.iscsiadm_args,
                 functools.partial(iface_mod.Iface, transport_name="tcp"))
        for name in BAD_IFACE_NAMES:
            for call in calls:
                self.assertRaises(exception.InvalidIfaceName, call, name)
        self.assert_untouched()

    def test_builtin_names_cannot_be_created(self) -> None:
        for name in sorted(iface_mod.BUILTIN_IFACES):
            error = self.assertRaises(exception.InvalidIfaceName,
                                      iface_mod.validate_name, name,
                                      allow_builtin=False)
            self.assertIn("built into iscsiadm", str(error))
            wanted = iface_mod.Iface(name=name, transport_name="tcp")
            self.assertEqual(iscsiadm_ifaces.BUILTIN,
                             iscsiadm_ifaces.IfaceRecords(self.tool).ensure(wanted))
            self.assertFalse(iscsiadm_ifaces.IfaceRecords(self.tool)
                             .delete(name))
        self.assert_untouched()

    def test_values_cannot_inject_record_lines(self) -> None:
        injected = "eth0\niface.transport_name = cxgb4i"
        for fields in ({"net_ifacename": injected},
                       {"initiatorname": "iqn.2010-10.org.x:a\x00b"},
                       {"extra": {"iface.mtu": "9000\r"}},
                       {"extra": {"iface.mtu": 9000}}):
            error = self.assertRaises(exception.InvalidInput, iface_mod.Iface,
                                      name="i0", transport_name="tcp",
                                      **fields)
            self.assertIn("control characters", str(error))
        self.assert_untouched()

    def test_64_characters_is_the_limit(self) -> None:
        self.assertEqual("x" * 64, iface_mod.validate_name("x" * 64))
        error = self.assertRaises(exception.InvalidIfaceName,
                                  iface_mod.validate_name, "x" * 65)
        self.assertIn("longer than 64", str(error))

    def test_non_string_names(self) -> None:
        for name in (None, 7, b"default", ["default"]):
            self.assertRaises(exception.InvalidIfaceName,
                              iface_mod.validate_name, name)


class TestAddresses(base.TestCase):

    def test_malformed_macs(self) -> None:
        for value in BAD_MACS + (None, 7):
            error = self.assertRaises(exception.InvalidHwAddress,
                                      iface_mod.normalize_hwaddress, value)
            self.assertIn(repr(value), str(error))
            self.assertRaises(exception.InvalidInput, iface_mod.Iface,
                              name="tcp.x", transport_name="tcp",
                              hwaddress=value if value is not None else 7)

    def test_malformed_macs_make_no_offload_name(self) -> None:
        for value in BAD_MACS:
            self.assertRaises(exception.InvalidHwAddress,
                              iface_mod.offload_name, "cxgb4i", value)

    def test_malformed_ips(self) -> None:
        for value in BAD_IPS:
            error = self.assertRaises(exception.InvalidIPAddress,
                                      iface_mod.validate_ipaddress, value)
            self.assertIn(repr(value), str(error))
            self.assertRaises(exception.InvalidIPAddress, iface_mod.Iface,
                              name="i0", transport_name="tcp",
                              ipaddress=value)

    def test_malformed_portals(self) -> None:
        for value in BAD_PORTALS + (None, 3260):
            error = self.assertRaises(exception.InvalidPortal,
                                      portal.parse_portal, value)
            self.assertIn("Invalid portal", str(error))

    def test_malformed_iqns(self) -> None:
        for value in BAD_IQNS + (None, 1):
            self.assertFalse(portal.is_target_name(value), value)
            error = self.assertRaises(exception.InvalidTargetName,
                                      portal.validate_target_name, value)
            self.assertIn("expected iqn.", str(error))

    def test_transport_names_must_be_names(self) -> None:
        for value in ("", "tcp ", "a/b", "-m", None):
            self.assertRaises(exception.InvalidInput, iface_mod.Iface,
                              name="i0", transport_name=value)


class TestConnectionProperties(IscsiadmCase):

    def setUp(self) -> None:
        super().setUp()
        self.driver = driver_mod.ISCSIDriver(self.conf, executor=self.scripted)

    def _props(self, **changes: object) -> dict[str, object]:
        props: dict[str, object] = {"target_portal": PORTAL,
                                    "target_iqn": IQN, "target_lun": 1}
        props.update(changes)
        return props

    def test_bad_portals_iqns_and_luns_never_run_anything(self) -> None:
        cases = ([self._props(target_portal=p) for p in BAD_PORTALS] +
                 [self._props(target_iqn=i) for i in BAD_IQNS if i] +
                 [self._props(target_lun=lun)
                  for lun in (-1, "x", None, True, 1.5j)])
        for props in cases:
            self.assertRaises(exception.InvalidConnectionProperties,
                              self.driver.connect_volume, props)
            self.assertRaises(exception.InvalidConnectionProperties,
                              self.driver.disconnect_volume, props)
        self.assert_untouched()

    def test_chap_values_with_line_breaks_are_refused(self) -> None:
        for field in ("auth_username", "auth_password", "auth_password_in"):
            props = self._props(auth_method="CHAP", **{field: "a\nb"})
            error = self.assertRaises(exception.InvalidConnectionProperties,
                                      self.driver.connect_volume, props)
            self.assertIn("line break", str(error))
            self.assertNotIn("a\nb", str(error))
        self.assert_untouched()

    def test_chap_values_open_iscsi_cannot_keep_are_refused(self) -> None:
        """Counted in UTF-8 bytes as open-iscsi counts them, refused
        before any iscsiadm runs, the key named and the value not."""
        for field in ("auth_password", "discovery_auth_password",
                      "auth_username_in"):
            method = field.rsplit("_", 1)[0].replace("_username", "")
            for value in ("\u00e9" * 128, "x" * 256, " padded", "a\x00b"):
                props = self._props(**{method + "_method": "CHAP",
                                       field: value})
                error = self.assertRaises(
                    exception.InvalidConnectionProperties,
                    self.driver.connect_volume, props)
                self.assertIn(field, str(error))
                self.assertNotIn(value.strip()[:6], str(error))
        self.assert_untouched()

    def test_unknown_auth_method(self) -> None:
        error = self.assertRaises(
            exception.InvalidConnectionProperties, connection.session_auth,
            self._props(auth_method="KRB5"))
        self.assertIn("only CHAP", str(error))


class TestUnknownTransports(base.TestCase):

    def test_get_unknown_names_the_transport(self) -> None:
        mgr = manager_mod.TransportManager(self.conf)
        for name in ("nosuch", "", "tcp ", "../tcp"):
            error = self.assertRaises(exception.TransportNotFound, mgr.get,
                                      name)
            self.assertIn(repr(name), str(error))

    def test_unknown_transport_without_fallback_lists_what_exists(self) -> None:
        self.flags(transport="nosuch", fallback_to_tcp=False)
        error = self.assertRaises(exception.TransportUnusable,
                                  manager_mod.TransportManager(self.conf)
                                  .active)
        self.assertIn("no transport plugin named nosuch", str(error))
        self.assertIn("tcp", error.reason)

    def test_unsafe_configured_iface_is_refused_before_iscsiadm(self) -> None:
        scripted = fake_executor.ScriptedExecutor()
        for value in ("cxgb4i.00:07:43:05:97:07;reboot", "cxgb4i./../../x",
                      "tcp.$(id)"):
            self.flags(transport=value, fallback_to_tcp=False)
            drv = driver_mod.ISCSIDriver(self.conf, executor=scripted)
            self.assertRaises(exception.TransportUnusable,
                              drv.connect_volume,
                              {"target_portal": PORTAL, "target_iqn": IQN})
        self.assertEqual([], scripted.argvs)


class TestConsole(base.TestCase):
    """Bad arguments to the console script: exit 1, one line, no iscsiadm."""

    def setUp(self) -> None:
        super().setUp()
        self.calls = os.path.join(self.lock_path, "calls")
        # The iscsiadm the root operations would run (in process: root).
        bin_dir = os.path.join(self.lock_path, "bin")
        os.mkdir(bin_dir)
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.commands.SECURE_PATH", bin_dir))
        script = os.path.join(bin_dir, "iscsiadm")
        with open(script, "w") as out:
            out.write("#!/bin/sh\necho \"$*\" >> %s\n" % self.calls)
        os.chmod(script, 0o700)
        self.state = os.path.join(self.lock_path, "state")
        self.config = os.path.join(self.lock_path, "bad.conf")
        with open(self.config, "w") as out:
            out.write("[iscsi_transports]\n"
                      "state_path = %s\nfallback_to_tcp = false\n"
                      % self.state)

    def assert_refused(self, argv: list[str]) -> str:
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main([*argv, "--config-file", self.config,
                              "--sysfs-root", self.sysfs.root],
                             out=out, err=err)
        self.assertEqual(1, code, argv)
        self.assertEqual(1, len(err.getvalue().splitlines()), argv)
        self.assertNotIn("Traceback", err.getvalue())
        return err.getvalue()

    def test_discover_with_bad_portal_or_transport(self) -> None:
        for argv in (["discover", "10.0.0.1:3260;reboot"],
                     ["discover", "../../etc:3260"],
                     ["discover", "10.0.0.1", "--transport", "tcp.$(id)"],
                     ["show", "../tcp"]):
            self.assert_refused(argv)
        self.assertFalse(os.path.exists(self.calls))

    def test_attach_and_detach_with_hostile_property_files(self) -> None:
        files = {
            "truncated": '{"target_portal": "10.0.0.1:3260", "target_',
            "not-an-object": '["10.0.0.1:3260"]',
            "nul": '{"target_portal": "10.0.0.1:3260\\u0000"}',
            "no-portal": '{"target_iqn": "%s", "target_lun": 1}' % IQN,
            "path-like-iqn": '{"target_portal": "%s", "target_iqn": '
                             '"iqn.2010-10.org.x:../../../etc", '
                             '"target_lun": 1}' % PORTAL,
            "two-line-iqn": '{"target_portal": "%s", "target_iqn": '
                            '"%s\\n%s", "target_lun": 1}' % (PORTAL, IQN,
                                                              IQN),
            "textual-lun": '{"target_portal": "%s", "target_iqn": "%s", '
                           '"target_lun": "one"}' % (PORTAL, IQN),
            "long-chap": '{"data": {"target_portal": "%s", "target_iqn": '
                         '"%s", "target_lun": 1, "auth_method": "CHAP", '
                         '"auth_username": "u", "auth_password": "%s"}}'
                         % (PORTAL, IQN, "s" * 256),
        }
        for name, text in files.items():
            path = os.path.join(self.lock_path, name + ".json")
            with open(path, "w") as handle:
                handle.write(text)
            message = self.assert_refused(["attach", "--properties", path])
            self.assertNotIn("s" * 256, message)
            if name != "long-chap":
                self.assert_refused(["detach", "--properties", path])
        self.assertFalse(os.path.exists(self.calls))
        self.assertFalse(os.path.exists(self.state), "state_path written")

