#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""append-pyzip.py BINARY MAIN_PY: append to BINARY a zip archive whose
__main__.py is MAIN_PY (see cli/py/__main__.py).  The archive is built
on its own and appended whole: readers of zip files find it from its end
record and allow for the bytes in front of it."""
import io
import sys
import zipfile

binary, main_py = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.write(main_py, "__main__.py")
with open(binary, "ab") as f:
    f.write(buf.getvalue())
