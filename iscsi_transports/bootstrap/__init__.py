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

"""The directory ``iscsi-transports run`` puts first on ``PYTHONPATH``.

It holds one module meant to be imported from there, ``sitecustomize``,
which Python's ``site`` imports at start-up, before the program's own
code: it installs :func:`iscsi_transports.adopt.install`'s import hook,
then runs the ``sitecustomize`` it shadows, if any, so a distribution's or
a site's own start-up code still runs.  This file only makes the directory
a package, so that it is installed with the library.
"""
