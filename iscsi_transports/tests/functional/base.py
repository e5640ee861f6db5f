"""Base class of the functional tests: the real lab, the real iscsiadm.

The library runs iscsiadm through its ``root_helper`` option set to
``nsenter -t <lab pid> -m -n --`` (the legacy ``use_privsep = false``
path), so commands reach the lab's private /etc/iscsi and network
namespace.  The default path, the root daemon, is tested against the lab
in ``test_privileged.py``, with ``privsep-helper`` started through the
same ``nsenter``: a daemon in this process's namespaces would reach the
host's records instead.
Nothing here is skipped: a lab that cannot start fails the test.
"""

from __future__ import annotations

from typing import Any

from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.functional import lab as lab_mod


class RecordingExecute:
    """The real processutils.execute, recording every argv and outcome."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.exit_codes: list[int | None] = []

    def __call__(self, *cmd: str, **kwargs: Any) -> tuple[str, str]:
        from oslo_concurrency import processutils
        self.calls.append(list(cmd))
        kwargs["on_completion"] = lambda proc: self.exit_codes.append(
            proc.returncode)
        return processutils.execute(*cmd, **kwargs)

    def iscsiadm_args(self) -> list[list[str]]:
        """The iscsiadm part of each command (root helper stripped)."""
        return [cmd[cmd.index("iscsiadm") + 1:] for cmd in self.calls]

    def ifaces(self) -> list[str]:
        return [cmd[cmd.index("-I") + 1] for cmd in self.iscsiadm_args()
                if "-I" in cmd and cmd[:2] != ["-m", "iface"]]


class FunctionalTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.lab = lab_mod.get_lab()
        self.lab.reset_records()
        self.addCleanup(self.lab.reset_records)
        self.flags(root_helper=self.lab.root_helper, use_privsep=False,
                   state_path=self.lock_path, iscsiadm_timeout=60,
                   iscsi_db_path=self.lab.etc_iscsi)
        self.execute = RecordingExecute()
        self.iscsiadm = iscsiadm.Iscsiadm(self.conf, execute=self.execute)

    def discovery_chap(self, user: str, password: str) -> None:
        self.lab.add_discovery_chap(user, password)
        self.addCleanup(self.lab.remove_discovery_chap, user)
