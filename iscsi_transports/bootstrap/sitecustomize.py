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

"""Start-up code of a program run by ``iscsi-transports run``.

Python's ``site`` imports ``sitecustomize`` from the first directory of
``sys.path`` that has one; ``run`` puts this directory first, so this
module runs before the program's code and before any other
``sitecustomize``.  With ``ISCSI_TRANSPORTS_RUN`` set (``run`` sets it) it
installs the hook that makes os-brick's ISCSI and ISER connector the
library's (:func:`iscsi_transports.adopt.install`), then runs the
``sitecustomize`` it shadows from the rest of ``sys.path``.

``site`` reports an error raised here on one line and goes on, which would
run the program with os-brick's own connector: when the hook cannot be
installed (the library is not importable by this interpreter), this
module writes one line and ends the process with exit status 1 instead.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

#: As :data:`iscsi_transports.adopt.ACTIVE_ENV` (not imported from there:
#: importing the library is what may fail).
ACTIVE_ENV = "ISCSI_TRANSPORTS_RUN"


def install_hook() -> None:
    """The hook, or one line on stderr and exit status 1."""
    try:
        from iscsi_transports import adopt
        adopt.install()
    except Exception as error:  # whatever it is, the program must not run
        sys.stderr.write("iscsi-transports run: cannot load the os-brick "
                         "hook: %s\n" % " ".join(str(error).split()))
        sys.stderr.flush()
        os._exit(1)


def chain() -> None:
    """Run the ``sitecustomize`` this one shadows, as ``site`` would have
    (its errors are reported by ``site`` as they would have been)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = [entry for entry in sys.path
            if os.path.abspath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


if __name__ == "sitecustomize":  # imported by site, not as a package module
    if os.environ.get(ACTIVE_ENV):
        install_hook()
    chain()
