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

"""``iscsi-transports run -- COMMAND``: real processes, real os-brick.

The end-to-end tests run the console script's ``main`` in a child
interpreter, which executes another: what they check is what that program
got from os-brick.  This checkout goes first on ``PYTHONPATH`` so the
children import it (not another installation of the library).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import fixtures

from iscsi_transports import adopt
from iscsi_transports import exception
from iscsi_transports.cmd import run
from iscsi_transports.tests import base

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(
    adopt.__file__)))
#: What a program under run sees of os-brick.
PROGRAM = textwrap.dedent("""\
    import sys
    from os_brick.initiator import connector
    for protocol in ("ISCSI", "ISER"):
        conn = connector.InitiatorConnector.factory(protocol, "sudo")
        print(type(conn).__module__, type(conn).__name__, conn.volume_type)
    print("chained" if getattr(sys, "chained_sitecustomize", False) else
          "alone")
""")


class RunTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def run_cli(self, *command: str, pythonpath: str = CHECKOUT
                ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PYTHONPATH=pythonpath,
                   PYTHONWARNINGS="ignore")
        env.pop(adopt.ACTIVE_ENV, None)
        return subprocess.run(
            [sys.executable, "-m", "iscsi_transports.cmd.main", "run", "--",
             *command], env=env, capture_output=True, text=True,
            timeout=300, check=False)

    def write(self, name: str, text: str, mode: int = 0o644) -> str:
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, mode)
        return path


class TestRun(RunTestCase):
    def test_os_brick_hands_the_program_the_library_s_connector(self) -> None:
        # A site's own sitecustomize, on PYTHONPATH as before: still runs.
        site = os.path.join(self.tmp, "site")
        self.write("site/sitecustomize.py",
                   "import sys\nsys.chained_sitecustomize = True\n")
        script = self.write("bin/cinder-volume-like",
                            "#!%s\n%s" % (sys.executable, PROGRAM), 0o755)
        done = self.run_cli(script,
                            pythonpath=os.pathsep.join([CHECKOUT, site]))
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertEqual(["iscsi_transports.brick ISCSIConnector iscsi",
                          "iscsi_transports.brick ISCSIConnector iser",
                          "chained"], done.stdout.splitlines())

    def test_changed_os_brick_is_one_line_and_nothing_runs(self) -> None:
        # An os-brick 99.0.0 whose factory table holds classes: refused by
        # the preflight, before the program starts.
        fake = os.path.join(self.tmp, "fake")
        self.write("fake/os_brick-99.0.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: os-brick\n"
                   "Version: 99.0.0\n")
        self.write("fake/os_brick/__init__.py", "")
        self.write("fake/os_brick/initiator/__init__.py", "")
        self.write("fake/os_brick/initiator/connector.py", textwrap.dedent(
            """\
            class ISCSIConnector:
                pass
            _MAPPING = {"ISCSI": ISCSIConnector, "ISER": ISCSIConnector}
            def get_connector_mapping(arch=None):
                return _MAPPING
            def _get_connector_list():
                return [ISCSIConnector]
            def get_connector_properties(*args, **kwargs):
                return {k: c for k, c in enumerate(_get_connector_list())}
            class InitiatorConnector:
                @staticmethod
                def factory(protocol, *args, **kwargs):
                    return get_connector_mapping()[protocol]()
            """))
        ran = os.path.join(self.tmp, "ran")
        done = self.run_cli(sys.executable, "-c", "open(%r, 'w')" % ran,
                            pythonpath=os.pathsep.join([CHECKOUT, fake]))
        self.assertEqual(1, done.returncode)
        (line,) = done.stderr.splitlines()
        self.assertTrue(line.startswith("iscsi-transports: error: cannot run "
                                        "%s: " % sys.executable), line)
        self.assertIn("os-brick 99.0.0's iSCSI/iSER connector", line)
        self.assertIn("sends ISCSI to", line)
        self.assertFalse(os.path.exists(ran))


class TestBootstrap(RunTestCase):
    def python(self, code: str, pythonpath: str
               ) -> subprocess.CompletedProcess[str]:
        env = run.environment(dict(os.environ, PYTHONPATH=pythonpath))
        return subprocess.run([sys.executable, "-c", code], env=env,
                              capture_output=True, text=True, timeout=120,
                              check=False)

    def test_hook_installed_and_existing_sitecustomize_runs(self) -> None:
        site = os.path.join(self.tmp, "site")
        self.write("site/sitecustomize.py",
                   "import sys\nsys.chained_sitecustomize = __file__\n")
        done = self.python(
            "import sys; from iscsi_transports import adopt; "
            "print(sys.chained_sitecustomize); "
            "print(sum(isinstance(f, adopt.Finder) for f in sys.meta_path)); "
            # Nothing a service must import after its eventlet patching.
            "print(sorted(m for m in sys.modules if m.startswith(("
            "'os_brick', 'oslo', 'eventlet', 'iscsi_transports.brick'))))",
            os.pathsep.join([CHECKOUT, site]))
        self.assertEqual(("", [os.path.join(site, "sitecustomize.py"), "1",
                               "[]"]),
                         (done.stderr, done.stdout.splitlines()))

    def test_library_not_importable_stops_the_program(self) -> None:
        # An interpreter that cannot import the library (here: another
        # package of that name first on its path) must not go on with
        # os-brick's connector: one line, exit status 1.
        other = os.path.join(self.tmp, "other")
        self.write("other/iscsi_transports/__init__.py",
                   "raise ImportError('not this library')\n")
        done = self.python("print('ran')", other)
        self.assertEqual((1, ""), (done.returncode, done.stdout))
        self.assertEqual(["iscsi-transports run: cannot load the os-brick "
                          "hook: not this library"],
                         done.stderr.splitlines())

    def test_environment_puts_the_bootstrap_first_once(self) -> None:
        env = run.environment({"PYTHONPATH": os.pathsep.join(
            ["/opt/site", adopt.BOOTSTRAP_DIR])})
        self.assertEqual(os.pathsep.join([adopt.BOOTSTRAP_DIR, "/opt/site"]),
                         env["PYTHONPATH"])
        self.assertEqual("1", env[adopt.ACTIVE_ENV])


class TestResolve(RunTestCase):
    def test_console_script(self) -> None:
        script = self.write("nova-compute", "#!%s -s\nimport sys\n" %
                            sys.executable, 0o755)
        self.assertEqual(run.Program(script, (sys.executable, "-s")),
                         run.resolve(script))

    def test_console_script_through_env(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(
            "PATH", os.pathsep.join([os.path.dirname(sys.executable),
                                     os.environ.get("PATH", "")])))
        name = os.path.basename(sys.executable)
        script = self.write("glance-api", "#!/usr/bin/env %s\n" % name,
                            0o755)
        self.assertEqual(
            (os.path.join(os.path.dirname(sys.executable), name),),
            run.resolve(script).interpreter)

    def test_python_itself(self) -> None:
        self.assertEqual((sys.executable,), run.resolve(
            sys.executable, ["-W", "ignore", "-c", "-I"]).interpreter)

    def test_refused(self) -> None:
        shell = self.write("wrapper", "#!/bin/sh\nexec nova-compute\n",
                           0o755)
        isolated = self.write("isolated", "#!%s -I\n" % sys.executable,
                              0o755)
        for name, arguments, reason in (
                ("no-such-program-anywhere", [], "no such program"),
                (shell, [], "not a Python console script"),
                (isolated, [], "option -I"),
                (sys.executable, ["-sE", "x.py"], "option -sE"),
                (self.write("not-executable", "#!%s\n" % sys.executable),
                 [], "no such program")):
            error = self.assertRaises(exception.RunRefused, run.resolve,
                                      name, arguments)
            self.assertIn(reason, str(error))
