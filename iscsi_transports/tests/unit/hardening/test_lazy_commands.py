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

"""The console script imports only the module of the command it runs.

``cmd.main.COMMAND_MODULES`` maps each command to its module so that
``iscsi-transports list`` starts without importing the driver or tarfile;
these tests keep that map in step with what the modules register.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from iscsi_transports.cmd import main
from iscsi_transports.cmd import output
from iscsi_transports.tests import base


def _registered(module_name: str) -> set[str]:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    importlib.import_module(module_name).register(
        subparsers, output.common_parser())
    return set(subparsers.choices)


class TestCommandModules(base.TestCase):

    def test_map_matches_what_each_module_registers(self):
        for module_name in main.SUBCOMMAND_MODULES:
            mapped = {command for command, owner in
                      main.COMMAND_MODULES.items() if owner == module_name}
            self.assertEqual(_registered(module_name), mapped, module_name)

    def test_known_command_needs_only_its_module(self):
        self.assertEqual(("iscsi_transports.cmd.inventory",),
                         tuple(main.modules_for(["list", "--format", "json"])))

    def test_help_and_typos_load_every_command(self):
        for argv in ([], ["--help"], ["lsit"], None):
            self.assertEqual(main.SUBCOMMAND_MODULES,
                             tuple(main.modules_for(argv)))

    def test_list_does_not_import_the_driver(self):
        code = ("import sys, io; from iscsi_transports.cmd import main; "
                "main.build_parser(['list']); "
                "print(sorted(m for m in ('iscsi_transports.attach.driver', "
                "'tarfile', 'iscsi_transports.cmd.doctor') "
                "if m in sys.modules))")
        output = subprocess.check_output([sys.executable, "-c", code],
                                         text=True)
        self.assertEqual("[]", output.strip())

    def test_attach_command_imports_no_privsep_until_it_needs_root(self):
        # oslo.privsep's import prints eventlet's deprecation warning on
        # stderr: a console attach that fails before any root work (an
        # unusable state directory) must still print its one line only.
        code = ("import sys; import iscsi_transports.cmd.volume, "
                "iscsi_transports.attach.driver, "
                "iscsi_transports.iscsiadm.nodes; "
                "print(sorted(m for m in sys.modules if m.startswith("
                "('oslo_privsep', 'iscsi_transports.privileged'))))")
        result = subprocess.run([sys.executable, "-c", code], text=True,
                                capture_output=True, check=True)
        self.assertEqual(("[]", ""), (result.stdout.strip(), result.stderr))

    def test_a_run_without_config_files_checks_none(self):
        # configcheck (and difflib) only load for files to check: the
        # start-up time of `list` is measured against its floor.
        code = ("import io, sys; from iscsi_transports.cmd import main; "
                "main.main(['list', '--format', 'json'], io.StringIO(), "
                "io.StringIO()); "
                "print(sorted(m for m in ('iscsi_transports.cmd.configcheck',"
                " 'difflib') if m in sys.modules))")
        output = subprocess.check_output([sys.executable, "-c", code],
                                         text=True)
        self.assertEqual("[]", output.strip())
