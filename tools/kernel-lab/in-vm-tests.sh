#!/bin/bash
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

# Inside the kernel lab VM: run the kernel tests one after another (one
# process: the machine is set up once), show their progress, and write
# their subunit v2 stream.  Called by run-tests.sh through vm.sh.
# Usage: in-vm-tests.sh PYTHON STREAM [stestr filter arguments...]
#
# With KLAB_PBR_VERSION set (another userland's root, see userland.sh), the
# checkout is first installed into PYTHON's venv, editable and offline
# (nothing leaves the VM; the venv has the requirements already): that
# root serves every checkout, and the install vanishes with the VM.
python=$1 stream=$2
shift 2
if [ -n "${KLAB_PBR_VERSION:-}" ]; then
    PBR_VERSION=$KLAB_PBR_VERSION "$python" -m pip install -q --no-deps \
        --no-build-isolation --no-index --disable-pip-version-check -e . ||
        { echo "in-vm-tests: cannot install the checkout into $python"; exit 1; }
fi
mkdir -p /tmp/kernel-tests
stestr=("$python" -m stestr --repo-url /tmp/kernel-tests
        --test-path ./iscsi_transports/tests/kernel --top-dir ./)
"${stestr[@]}" run --serial "$@"
rc=$?
"${stestr[@]}" last --subunit > "$stream"
exit $rc
