"""Where the root operations act: the kernel's and open-iscsi's own paths.

These are not options: open-iscsi compiles its paths in, and a path the
unprivileged caller could choose would let it direct root's writes.  Tests
point them at built trees by replacing :data:`PATHS` before the daemon
starts (a forked test daemon inherits it).
"""

from __future__ import annotations

import os
from typing import NamedTuple

from iscsi_transports import host


class Paths(NamedTuple):
    sysfs: str = "/sys"
    dev: str = "/dev"
    #: Where ``mountinfo`` (of the daemon's own mount namespace) and
    #: ``swaps`` are read: what holds a disk the daemon may not touch.
    proc: str = "/proc"
    #: open-iscsi's ISCSI_DB_ROOT (usr/idbm.h); empty: detected among
    #: :data:`iscsi_transports.host.ISCSI_DB_ROOTS` at each use, as the
    #: library's ``iscsi_db_path`` is when unset (never the caller's
    #: choice).
    iscsi_db: str = ""
    #: open-iscsi's LOCK_DIR (usr/initiator.h).
    iscsi_lock_dir: str = "/run/lock/iscsi"
    #: open-iscsi's configuration directory (``initiatorname.iscsi``).
    iscsi_etc: str = "/etc/iscsi"

    def db_root(self) -> str:
        return self.iscsi_db or host.detect_iscsi_db_root()

    def scsi_host(self, host: int) -> str:
        return os.path.join(self.sysfs, "class", "scsi_host", "host%d" % host)

    def disk(self, name: str) -> str:
        return os.path.join(self.sysfs, "block", name)

    def nodes(self) -> str:
        return os.path.join(self.db_root(), "nodes")

    def send_targets(self) -> str:
        return os.path.join(self.db_root(), "send_targets")

    def initiator_name(self) -> str:
        """open-iscsi's ``initiatorname.iscsi`` (root's, often 0600)."""
        return os.path.join(self.iscsi_etc, "initiatorname.iscsi")


PATHS = Paths()
