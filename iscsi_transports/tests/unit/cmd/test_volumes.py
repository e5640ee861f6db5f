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

"""``iscsi-transports volumes``: the JSON contract field by field, the
prometheus exposition format parsed back, the table."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import fixtures

from iscsi_transports.attach import ledger
from iscsi_transports.cmd import volumes
from iscsi_transports.tests.unit.attach import kernel_tree
from iscsi_transports.tests.unit.cmd import test_inventory

IQN = "iqn.2003-01.org.linux-iscsi.lab:vol1"
IQN2 = "iqn.2003-01.org.linux-iscsi.lab:vol2"
WWID = "36001405" + "%025x" % 1
#: The keys the issue promises (more may come, none may go).
CONTRACT = {"target_iqn", "portal", "iface", "transport", "lun", "disk",
            "map", "scsi_wwn", "state", "in_use", "managed", "fallback",
            "reason"}

# The text exposition format, as node_exporter's textfile collector reads
# it: comment lines, then `name{label="value",...} number`.
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
_SAMPLE = re.compile(r"^(%s)(?:\{((?:%s,?)*)\})? (\S+)$" % (_NAME, _LABEL))


def parse_exposition(text: str) -> dict[str, Any]:
    """{metric: {"help", "type", "samples": [(labels, value)]}}; an
    AssertionError for any line the format does not allow."""
    metrics: dict[str, Any] = {}
    assert text.endswith("\n"), "no final newline"
    for line in text[:-1].split("\n"):
        if line.startswith(("# HELP ", "# TYPE ")):
            _hash, kind, name, rest = line.split(" ", 3)
            assert re.fullmatch(_NAME, name), line
            entry = metrics.setdefault(name, {"samples": []})
            assert kind.lower() not in entry, "second %s: %s" % (kind, line)
            assert not entry["samples"], "%s after samples" % kind
            entry[kind.lower()] = rest
            continue
        match = _SAMPLE.match(line)
        assert match, "not a sample: %r" % line
        name, labels, value = match.group(1), match.group(2), match.group(5)
        assert name in metrics and "type" in metrics[name], line
        pairs = {key: re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(
            m.group(1), m.group(1)), raw)
            for key, raw in re.findall(_LABEL, labels or "")}
        metrics[name]["samples"].append((pairs, float(value)))
    return metrics


def samples(metrics: dict[str, Any], name: str) -> dict[tuple, float]:
    return {tuple(sorted(labels.items())): value
            for labels, value in metrics[volumes.PREFIX + name]["samples"]}


class VolumesCase(test_inventory.CommandTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.proc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(self.proc, "self"))
        with open(os.path.join(self.proc, "self", "mountinfo"), "w") as fh:
            fh.write("36 22 8:16 / /srv/data rw - ext4 /dev/sdb rw\n")
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.state = os.path.join(self.lock_path, "state")
        self.conf_file = self.config_file(
            "[iscsi_transports]\nstate_path = %s\n" % self.state)
        self.flags(state_path=self.state)

    def cmd(self, *argv: str) -> str:
        out, _err = self.run_cmd("volumes", "--proc-root", self.proc,
                                 "--dev-root", self.dev,
                                 "--config-file", self.conf_file, *argv)
        return out

    def host(self) -> None:
        """A mounted, managed volume that fell back from iSER; a map with
        one path of two down; a session whose target is gone."""
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.tree.write("block/sdb/dev", "8:16")
        self.tree.add_session(2, IQN2, address="10.0.0.2")
        self.tree.add_session(3, IQN2, address="10.0.0.3",
                              session_attrs={"state": "FAILED"})
        self.tree.add_disk(2, 2, "sdc")
        self.tree.add_disk(3, 2, "sdd", attrs={"state": "blocked"})
        self.tree.add_dm("dm-0", "mpatha", "mpath-3600a")
        self.tree.stack("dm-0", "sdc")
        self.tree.stack("dm-0", "sdd")
        self.tree.add_session(4, "iqn.2003-01.org.lab:\"odd\\name",
                              address="10.0.0.4",
                              session_attrs={"state": "FAILED"})
        os.makedirs(ledger.directory(self.conf))
        ledger._write(ledger.directory(self.conf), ledger.Attachment(
            target_iqn=IQN, portal="10.0.0.1:3260", iface="default",
            kernel_lun=1, lun=1, requested="iser", transport="tcp",
            fallback=True, reason="iser (iface iser) failed: exit code 15",
            scsi_wwn=WWID, multipath_id=None, attached_at=1.0))


class TestJson(VolumesCase):

    def test_every_field_of_every_volume(self) -> None:
        self.host()
        data = json.loads(self.cmd("--format", "json"))
        self.assertEqual({"volumes", "problems"}, set(data))
        self.assertEqual([], data["problems"])
        by_device = {volume["device"]: volume for volume in data["volumes"]}
        self.assertEqual(["dm-0", "sdb", "session4"], sorted(by_device))
        for volume in data["volumes"]:
            self.assertLessEqual(CONTRACT, set(volume))
        disk = by_device["sdb"]
        self.assertEqual(
            {"target_iqn": IQN, "portal": "10.0.0.1:3260",
             "iface": "default", "transport": "tcp", "lun": 1,
             "disk": "sdb", "disks": ["sdb"], "map": None,
             "map_name": None, "scsi_wwn": WWID, "state": "ok",
             "problems": [], "lun_reported": True, "paths_up": 1,
             "in_use": True, "managed": True, "requested": "iser",
             "fallback": True,
             "reason": "iser (iface iser) failed: exit code 15",
             "users": {"mounts": ["/srv/data"], "holders": [],
                       "processes": []},
             "size": 2097152 * 512, "stable_path": os.path.join(
                 self.dev, "sdb")},
            {key: value for key, value in disk.items()
             if key not in ("paths", "device")})
        self.assertEqual([{
            "sid": 1, "target_iqn": IQN, "portal": "10.0.0.1:3260",
            "iface": "default", "transport": "tcp",
            "session_state": "LOGGED_IN", "hctl": "11:0:0:1", "lun": 1,
            "disk": "sdb", "disk_state": "running",
            "stable_path": os.path.join(self.dev, "sdb"), "up": True}],
            disk["paths"])
        mapped = by_device["dm-0"]
        self.assertEqual(
            ("degraded", ["session3 is FAILED"], IQN2, "10.0.0.2:3260",
             "3600a", "mpatha", ["sdc", "sdd"], 1, False, False, None,
             None),
            (mapped["state"], mapped["problems"], mapped["target_iqn"],
             mapped["portal"], mapped["scsi_wwn"], mapped["map_name"],
             mapped["disks"], mapped["paths_up"], mapped["in_use"],
             mapped["managed"], mapped["fallback"], mapped["reason"]))
        self.assertEqual([("LOGGED_IN", "running", True),
                          ("FAILED", "blocked", False)],
                         [(p["session_state"], p["disk_state"], p["up"])
                          for p in mapped["paths"]])
        session = by_device["session4"]
        self.assertEqual(("failed", None, None, None),
                         (session["state"], session["disk"],
                          session["lun"], session["in_use"] or None))

    def test_empty_host(self) -> None:
        self.assertEqual({"volumes": [], "problems": []},
                         json.loads(self.cmd("--format", "json")))


class TestPrometheus(VolumesCase):

    def test_exposition_parses_and_counts(self) -> None:
        self.host()
        metrics = parse_exposition(self.cmd("--format", "prometheus"))
        for entry in metrics.values():
            self.assertEqual("gauge", entry["type"])
            self.assertTrue(entry["help"])
        self.assertEqual({(("state", "FAILED"),): 2,
                          (("state", "LOGGED_IN"),): 2},
                         samples(metrics, "sessions"))
        self.assertEqual({(("state", "ok"),): 1, (("state", "degraded"),): 1,
                          (("state", "failed"),): 1,
                          (("state", "lun-gone"),): 0,
                          (("state", "empty"),): 0},
                         samples(metrics, "volumes"))
        self.assertEqual({(("map", "dm-0"), ("state", "up"),
                           ("wwid", "3600a")): 1,
                          (("map", "dm-0"), ("state", "down"),
                           ("wwid", "3600a")): 1},
                         samples(metrics, "map_paths"))
        self.assertEqual({(("transport", "tcp"),): 1},
                         samples(metrics, "attachments"))
        self.assertEqual({(("requested", "iser"), ("transport", "tcp")): 1},
                         samples(metrics, "fallbacks"))
        self.assertEqual({(): 1}, samples(metrics, "volumes_in_use"))
        self.assertEqual({(): 0}, samples(metrics, "inventory_problems"))

    def test_label_values_are_escaped(self) -> None:
        text = volumes._labels({"a": 'x"y\\z\nw'})
        self.assertEqual('{a="x\\"y\\\\z\\nw"}', text)
        metrics = parse_exposition(
            "# HELP m h\n# TYPE m gauge\nm%s 1\n" % text)
        self.assertEqual([({"a": 'x"y\\z\nw'}, 1.0)], metrics["m"]["samples"])

    def test_the_parser_refuses_what_the_format_does_not_allow(self) -> None:
        for bad in ('m{a="x"y"} 1\n', "m 1\n", "# TYPE m gauge\nm{a=x} 1\n",
                    "# TYPE m gauge\nm 1"):
            self.assertRaises(AssertionError, parse_exposition, bad)


class TestTable(VolumesCase):

    def test_one_line_per_volume_and_why(self) -> None:
        self.host()
        out = self.cmd()
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("STATE"))
        self.assertIn("degraded  dm-0     1/2", out)
        self.assertIn("    session3 is FAILED", lines)
        self.assertIn("    mounted on /srv/data", lines)
        self.assertIn("    fell back from iser: iser (iface iser) failed: "
                      "exit code 15", lines)
        ok = next(line for line in lines if line.startswith("ok"))
        self.assertEqual(["ok", "sdb", "1/1", "1", "yes", "yes", "tcp", IQN,
                          "10.0.0.1:3260", "default"], ok.split())

    def test_empty_host(self) -> None:
        self.assertIn("no iSCSI session on this host", self.cmd())

    def test_unknown_format_is_a_usage_error(self) -> None:
        self.assertRaises(SystemExit, self.run_cmd, "volumes", "--format",
                          "xml")
