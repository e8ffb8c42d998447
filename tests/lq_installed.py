#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks of an installed plugin directory against what xapi expects.

Usage:
  lq_installed.py dispatch PLUGIN_DIR NAME...
      Runs each installed NAME as xapi-storage-script does (through the
      mock), with malformed JSON on stdin.  Each must answer the xapi
      error of a parse failure (SR_BACKEND_FAILURE, UnmarshalException):
      proof that the name reached its call, where an unknown name prints
      no error JSON at all.
  lq_installed.py capabilities PLUGIN_DIR QUERY_JSON
      For every script xapi-storage-script turns into a capability, the
      script is installed if and only if the Plugin.query result
      QUERY_JSON declares that capability (VDI_DELETE as VDI_DESTROY).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import xss  # noqa: E402


def dispatch(directory, names):
    bad = []
    for name in names:
        try:
            xss.run_raw(directory, name, b"{")
            bad.append("%s: accepted malformed JSON" % name)
        except xss.XapiError as e:
            if e.exit_code != 1 or e.code != "SR_BACKEND_FAILURE" or \
                    not e.params or e.params[0] != "UnmarshalException":
                bad.append("%s: %s %s" % (name, e.code, json.dumps(e.params)[:200]))
    for b in bad:
        print("does not dispatch: " + b)
    print("%d names checked, %d bad" % (len(names), len(bad)))
    return 1 if bad else 0


def capabilities(directory, query):
    features = set(json.loads(query)["features"])
    bad = 0
    for script, cap in xss.CAPABILITY_SCRIPTS:
        declared = ("VDI_DESTROY" if cap == "VDI_DELETE" else cap) in features
        try:
            xss.find_script(directory, script)
            installed = True
        except xss.XapiError:
            installed = False
        if installed != declared:
            print("%s installed=%s but %s declared=%s" % (script, installed, cap, declared))
            bad += 1
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "dispatch":
        return dispatch(argv[2], argv[3:])
    if len(argv) == 4 and argv[1] == "capabilities":
        return capabilities(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
