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

"""Every configuration option of the library, for oslo-config-generator.

This is the ``oslo.config.opts`` entry point and nothing else: it imports
every option owner (the privileged wing's context included: its section is
oslo.privsep's options, registered on the global ``CONF`` when the context
is created), so nothing in the library imports it (an import-linter
contract holds that).  Owners register their own options through
:func:`iscsi_transports.config.register` when they are used.
"""

from __future__ import annotations

from oslo_config import cfg

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import multipathd
from iscsi_transports import openiscsi
from iscsi_transports import privileged
from iscsi_transports.attach import driver
from iscsi_transports.attach import multipath
from iscsi_transports.iscsiadm import runner
from iscsi_transports.selection import manager
from iscsi_transports.selection import network
from iscsi_transports.support import doctor

__all__ = ["list_opts", "register_opts"]


def _all_opts() -> list[cfg.Opt]:
    return [*manager.manager_opts, *base.plugin_opts, *runner.iscsiadm_opts,
            *driver.driver_opts, *network.network_opts, *doctor.doctor_opts,
            *multipathd.multipathd_opts, *multipath.multipath_opts]


def list_opts() -> list[tuple[str | cfg.OptGroup, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point: the library's group and the
    root daemon's section (oslo.privsep's options and where the installed
    open-iscsi keeps records, when its iscsiadm does not say)."""
    group, options = privileged.list_opts()
    return [(config.GROUP, _all_opts()),
            (group, [*options, *openiscsi.build_opts])]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option on ``conf`` at once (idempotent).

    For a program that wants the whole group up front, such as a test
    suite; the library itself registers each owner's options when used.
    """
    config.register(conf, _all_opts())
