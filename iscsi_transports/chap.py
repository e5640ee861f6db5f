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

"""CHAP user names and secrets: what an open-iscsi record can carry.

open-iscsi keeps a CHAP value in a 256-byte field (``AUTH_STR_MAX_LEN`` in
``usr/auth.h``, with the NUL) and its record parser
(``idbm_recinfo_config`` in ``usr/idbm.c``) copies each ``name = value``
line's value into a ``VALUE_MAXVAL`` (256) stack buffer without a bound,
after stripping white space around it.  So a value must be at most 255
*bytes* of UTF-8 (a 255-character secret can be 1020 bytes: truncated
between 256 and about 347 bytes, past that it overruns the buffer and
every ``iscsiadm -m node`` on the host fails), hold no control character
(a NUL ends the C string, a line break ends the record line) and no white
space at either end.

Checked in two places with this one rule: the connection properties, so
a bad value is refused before anything runs, and the root daemon, which
trusts nothing its caller sends.
"""

from __future__ import annotations

import re

__all__ = ["MAX_BYTES", "problem"]

#: AUTH_STR_MAX_LEN less the NUL.
MAX_BYTES = 255
#: Control characters, and what else Python takes for a line break.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def problem(value: object) -> str | None:
    """Why ``value`` cannot be a CHAP user name or secret in an open-iscsi
    record, or None if it can.  Never quotes the value."""
    if not isinstance(value, str) or not value:
        return "must be non-empty text"
    if _CONTROL_RE.search(value):
        return "contains a control character or line break"
    if value != value.strip():
        return "starts or ends with white space, which open-iscsi strips"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    if size > MAX_BYTES:
        return "is %d bytes of UTF-8, more than the %d open-iscsi keeps" % (
            size, MAX_BYTES)
    return None
