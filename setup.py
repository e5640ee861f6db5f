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

import configparser
import os

import setuptools

# The version is declared once, in setup.cfg's [metadata] version, and a
# build from this tree reports exactly that.  pbr would otherwise derive it
# from git: pre-versioning makes a commit without a tag on it 0.1.0.devN (N
# commits since the last tag), so a clone without tags (a CI checkout) or
# without history (git archive) would not report the release's version.
# PBR_VERSION is pbr's own override: one given in the environment still
# wins, and an sdist's PKG-INFO already carries the version.
_HERE = os.path.dirname(os.path.abspath(__file__))
if not os.path.exists(os.path.join(_HERE, 'PKG-INFO')):
    _cfg = configparser.ConfigParser()
    _cfg.read(os.path.join(_HERE, 'setup.cfg'))
    os.environ.setdefault('PBR_VERSION', _cfg['metadata']['version'])

setuptools.setup(setup_requires=['pbr>=6.0.0'], pbr=True)
