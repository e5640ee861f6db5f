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

"""Where the root operations act: the kernel's and open-iscsi's own paths.

These are not options: open-iscsi compiles its paths in (read from the
installed iscsiadm by :mod:`~iscsi_transports.openiscsi`), and a
path the unprivileged caller could choose would let it direct root's
writes.  Tests point them at built trees by replacing :data:`PATHS` before
the daemon starts (a forked test daemon inherits it).
"""

from __future__ import annotations

import os
from typing import NamedTuple

from iscsi_transports import openiscsi


class Paths(NamedTuple):
    sysfs: str = "/sys"
    dev: str = "/dev"
    #: Where ``mountinfo`` (of the daemon's own mount namespace) and
    #: ``swaps`` are read: what holds a disk the daemon may not touch.
    proc: str = "/proc"
    #: open-iscsi's ISCSI_DB_ROOT (usr/idbm.h); empty: the installed
    #: iscsiadm's (:func:`openiscsi.installed`, never the caller's choice).
    iscsi_db: str = ""
    #: open-iscsi's LOCK_DIR (usr/initiator.h); empty: the installed
    #: iscsiadm's.
    iscsi_lock_dir: str = ""
    #: open-iscsi's configuration directory (``initiatorname.iscsi``).
    iscsi_etc: str = "/etc/iscsi"

    def db_root(self) -> str:
        return self.iscsi_db or openiscsi.installed().db_root

    def lock_dir(self) -> str:
        return self.iscsi_lock_dir or openiscsi.installed().lock_dir

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
