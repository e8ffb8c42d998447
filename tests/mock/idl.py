# SPDX-License-Identifier: LGPL-2.1-or-later
"""IDL types of the SMAPIv3 storage interface (version 5.0), as the mock
checks every result against them: exact field names, JSON types, required
fields.  Stricter than rpclib on purpose: an unknown field in a result is
an error here, because a plugin that emits one is not speaking the IDL."""

STRING, BOOL, INT, UNIT = "string", "bool", "int64", "unit"


def List(t):
    return ("list", t)


DICT = ("dict",)  # (string * string) list


def Record(name, required, optional=None):
    return ("record", name, required, optional or {})


SR_STAT = Record("sr_stat", {
    "sr": STRING, "name": STRING, "description": STRING,
    "free_space": INT, "total_space": INT, "datasources": List(STRING),
    "clustered": BOOL, "health": ("health",),
}, {"uuid": STRING})

VOLUME = Record("volume", {
    "key": STRING, "name": STRING, "description": STRING, "read_write": BOOL,
    "sharable": BOOL, "virtual_size": INT, "physical_utilisation": INT,
    "uri": List(STRING), "keys": DICT,
}, {"uuid": STRING, "volume_type": ("enum", ["Data", "CBT_Metadata", "Data_and_CBT_Metadata"]),
    "cbt_enabled": BOOL})

QUERY_RESULT = Record("query_result", {
    "plugin": STRING, "name": STRING, "description": STRING, "vendor": STRING,
    "copyright": STRING, "version": STRING, "required_api_version": STRING,
    "features": List(STRING), "configuration": DICT,
    "required_cluster_stack": List(STRING),
})

PROBE_RESULT = Record("probe_result", {
    "configuration": DICT, "complete": BOOL, "extra_info": DICT,
}, {"sr": SR_STAT})

IMPLEMENTATION = ("variant", {
    "XenDisk": Record("xendisk", {"params": STRING, "extra": DICT, "backend_type": STRING}),
    "BlockDevice": Record("blockdevice", {"path": STRING}),
    "File": Record("file", {"path": STRING}),
    "Nbd": Record("nbd", {"uri": STRING}),
})
BACKEND = Record("backend", {"implementations": List(IMPLEMENTATION)})

# call name -> result type
RESULTS = {
    "Plugin.query": QUERY_RESULT, "Plugin.ls": List(STRING), "Plugin.diagnostics": STRING,
    "SR.probe": List(PROBE_RESULT), "SR.create": DICT, "SR.attach": STRING,
    "SR.detach": UNIT, "SR.destroy": UNIT, "SR.stat": SR_STAT,
    "SR.set_name": UNIT, "SR.set_description": UNIT, "SR.ls": List(VOLUME),
    "Volume.create": VOLUME, "Volume.snapshot": VOLUME, "Volume.clone": VOLUME,
    "Volume.destroy": UNIT, "Volume.set_name": UNIT, "Volume.set_description": UNIT,
    "Volume.set": UNIT, "Volume.unset": UNIT, "Volume.resize": UNIT, "Volume.stat": VOLUME,
    "Volume.compose": UNIT,
    "Datapath.open": UNIT, "Datapath.attach": BACKEND, "Datapath.activate": UNIT,
    "Datapath.activate_readonly": UNIT, "Datapath.deactivate": UNIT,
    "Datapath.detach": UNIT, "Datapath.close": UNIT,
}


class IdlError(Exception):
    pass


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check(t, v, where="result"):
    """Raise IdlError unless v is a value of IDL type t."""
    if t == STRING:
        ok = isinstance(v, str)
    elif t == BOOL:
        ok = isinstance(v, bool)
    elif t == INT:
        ok = _is_int(v) and -2**63 <= v < 2**63
    elif t == UNIT:
        ok = v is None
    elif t[0] == "list":
        if not isinstance(v, list):
            raise IdlError("%s: expected a list, got %r" % (where, v))
        for i, e in enumerate(v):
            check(t[1], e, "%s[%d]" % (where, i))
        return
    elif t[0] == "dict":
        ok = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    elif t[0] == "health":
        ok = (isinstance(v, list) and len(v) == 2 and isinstance(v[1], str) and
              v[0] in ("Healthy", "Recovering", "Unreachable", "Unavailable"))
    elif t[0] == "enum":
        ok = v in t[1]
    elif t[0] == "variant":
        if not (isinstance(v, list) and len(v) == 2 and v[0] in t[1]):
            raise IdlError("%s: expected one of %s as [tag, arg], got %r" % (where, list(t[1]), v))
        check(t[1][v[0]], v[1], "%s.%s" % (where, v[0]))
        return
    elif t[0] == "record":
        _check_record(t, v, where)
        return
    else:
        raise IdlError("unknown IDL type %r" % (t,))
    if not ok:
        raise IdlError("%s: expected %s, got %r" % (where, t if isinstance(t, str) else t[0], v))


def _check_record(t, v, where):
    _, name, required, optional = t
    if not isinstance(v, dict):
        raise IdlError("%s: expected a %s object, got %r" % (where, name, v))
    for k in v:
        if k not in required and k not in optional:
            raise IdlError("%s: unknown field %r in %s" % (where, k, name))
    for k, ft in required.items():
        if k not in v:
            raise IdlError("%s: %s lacks required field %r" % (where, name, k))
        check(ft, v[k], "%s.%s" % (where, k))
    for k, ft in optional.items():
        if k in v:
            check(ft, v[k], "%s.%s" % (where, k))


def check_probe_rules(results):
    """The rules xapi-storage-script applies to SR.probe results."""
    for r in results:
        has_uuid = "sr_uuid" in r["configuration"]
        if not r["complete"] and has_uuid:
            raise IdlError("probe: a configuration with a uuid cannot be incomplete")
        if "sr" in r and not has_uuid:
            raise IdlError("probe: an SR without sr_uuid is not attachable")


def check_error(e):
    """Is e the error object xapi-storage-script parses on a failure?"""
    if not (isinstance(e, dict) and isinstance(e.get("code"), str) and
            isinstance(e.get("params"), list) and all(isinstance(p, str) for p in e["params"])):
        return False
    bt = e.get("backtrace")
    return (isinstance(bt, dict) and isinstance(bt.get("error"), str) and
            isinstance(bt.get("files"), list) and all(isinstance(f, str) for f in bt["files"]) and
            isinstance(bt.get("lines"), list) and all(_is_int(x) for x in bt["lines"]))
