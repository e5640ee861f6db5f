#!/bin/bash
# Inside the kernel lab VM: run the kernel tests one after another (one
# process: the machine is set up once), show their progress, and write
# their subunit v2 stream.  Called by run-tests.sh through vm.sh.
# Usage: in-vm-tests.sh PYTHON STREAM [stestr filter arguments...]
python=$1 stream=$2
shift 2
mkdir -p /tmp/kernel-tests
stestr=("$python" -m stestr --repo-url /tmp/kernel-tests
        --test-path ./iscsi_transports/tests/kernel --top-dir ./)
"${stestr[@]}" run --serial "$@"
rc=$?
"${stestr[@]}" last --subunit > "$stream"
exit $rc
