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

# The release artefacts, built and installed the way a user gets them.
#
# Builds the sdist from this tree (pbr takes the file list from git) and the
# wheel from that sdist, outside the repository where no git history is in
# reach, both into dist/; then installs the wheel into a throwaway venv and
# checks what a user would see:
#   - the version is exactly setup.cfg's [metadata] version (no .devN) in
#     the sdist, the wheel and iscsi-transports --version;
#   - both carry LICENSE;
#   - the console script runs (--version, list) and the package imports from
#     the venv, not from this tree;
#   - the sample configuration and the rootwrap filters are installed, equal
#     to the tree's.
#
# The wheel is built with pip's build isolation, as "pip install <sdist>"
# builds it: pbr, setuptools and wheel come from the package index (about
# half a minute).  The runtime dependencies are not downloaded again: the
# venv sees the site-packages of the Python running the tests (a .pth
# line), which has them; its own copy of the package comes first.
#
# Usage: tools/check-dist.sh (with the tests' python3 first on PATH, as
# tools/run-tests.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
python=python3

fail() { echo "check-dist: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tmp" rev-parse --git-dir >/dev/null 2>&1 \
    && fail "$tmp is inside a git work tree: set TMPDIR elsewhere"
# pip unpacks the sdist under TMPDIR: there too, no git history.
export TMPDIR=$tmp

version=$("$python" -c 'import configparser
c = configparser.ConfigParser()
c.read("setup.cfg")
print(c["metadata"]["version"])')
echo "Expected version: $version"

mkdir -p dist
rm -f dist/iscsi_transports-* dist/iscsi-transports-*
# The PEP 517 hook pip and "python -m build" call; the sdist needs only pbr
# and setuptools, which the tests' Python has (pbr requires setuptools).
sdist=$("$python" -c 'import pbr.build; print(pbr.build.build_sdist("dist"))' \
    | tail -n 1)
# pbr writes the release notes into the sdist when reno is installed, and
# leaves them in the tree: reno's Sphinx extension would read that cache
# instead of git history in the next release-notes build.
rm -f RELEASENOTES.rst releasenotes/notes/reno.cache
[ -f "dist/$sdist" ] || fail "no sdist in dist/"
echo "Built dist/$sdist"

mkdir "$tmp/src"
cp "dist/$sdist" "$tmp/src/"
tar -tzf "$tmp/src/$sdist" > "$tmp/sdist-files"
for member in LICENSE PKG-INFO setup.cfg etc/iscsi-transports.conf.sample \
        etc/rootwrap.d/iscsi-transports.filters; do
    grep -qx "[^/]*/$member" "$tmp/sdist-files" || fail "$sdist lacks $member"
done
pkg_version=$(tar -xzOf "$tmp/src/$sdist" --wildcards '*/PKG-INFO' \
    | sed -n 's/^Version: //p' | head -n 1)
[ "$pkg_version" = "$version" ] \
    || fail "$sdist's PKG-INFO says $pkg_version, setup.cfg $version"

pip() { "$python" -m pip --disable-pip-version-check "$@"; }
pip wheel -q --no-deps -w "$tmp/wheel" "$tmp/src/$sdist"
wheel=$(cd "$tmp/wheel" && ls -- *.whl)
cp "$tmp/wheel/$wheel" dist/
echo "Built dist/$wheel from the sdist, without git"
"$python" - "dist/$wheel" "$version" <<'EOF'
import sys
import zipfile

wheel, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = archive.read(metadata).decode()
found = [line.split(": ", 1)[1] for line in text.splitlines()
         if line.startswith("Version: ")]
if found != [version]:
    sys.exit("check-dist: %s says version %s, setup.cfg %s"
             % (wheel, found, version))
if not any(n.endswith(".dist-info/licenses/LICENSE")
           or n.endswith(".dist-info/LICENSE") for n in names):
    sys.exit("check-dist: %s carries no LICENSE" % wheel)
EOF

# A venv without pip of its own (ensurepip takes long): the tests' pip
# installs into it (pip --python).  The runtime dependencies come from the
# tests' Python, behind the venv's own site-packages.
"$python" -m venv --without-pip "$tmp/venv"
venv_python=$tmp/venv/bin/python
"$python" -c 'import sysconfig
paths = sysconfig.get_paths()
print("\n".join(dict.fromkeys([paths["purelib"], paths["platlib"]])))' \
    > "$("$venv_python" -c 'import sysconfig
print(sysconfig.get_paths()["purelib"])')/test-python.pth"
pip --python "$venv_python" install -q --no-deps --no-index "dist/$wheel"

reported=$("$tmp/venv/bin/iscsi-transports" --version)
[ "$reported" = "iscsi-transports $version" ] \
    || fail "the installed command says '$reported', expected $version"
echo "$reported"
"$tmp/venv/bin/iscsi-transports" list >/dev/null \
    || fail "iscsi-transports list failed in the venv"
(cd "$tmp" && "$venv_python" -c 'import sys, iscsi_transports
sys.exit(0 if iscsi_transports.__file__.startswith(sys.argv[1]) else
         "imported %s, not the venv\x27s copy" % iscsi_transports.__file__)' \
    "$tmp/venv/") || fail "the package does not import from the venv"
for file in iscsi-transports.conf.sample:etc/iscsi-transports.conf.sample \
        rootwrap.d/iscsi-transports.filters:etc/rootwrap.d/iscsi-transports.filters; do
    installed=$tmp/venv/etc/iscsi-transports/${file%%:*}
    cmp -s "$installed" "${file#*:}" \
        || fail "${installed#"$tmp/"} is missing or differs from ${file#*:}"
done
echo "dist/$sdist and dist/$wheel install and run without git"
