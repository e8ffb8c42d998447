#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock of xapi-storage-script, and an xe-like front on top of it.

It runs the installed call executables exactly as xapi-storage-script
does: argv [script, "--json"], the named parameters as one line of JSON
on stdin (then closed), the bare result on stdout with exit status 0, or
the error object {"code", "params", "backtrace"} with a non-zero status.
Scripts are looked up case-insensitively; bad output, a signal, a missing
or non-regular file (directory, FIFO, dangling link) or a non-executable
one become SCRIPT_FAILED / SCRIPT_MISSING / SCRIPT_NOT_EXECUTABLE as in the
real daemon.  Every result is checked
against the IDL types (idl.py).

Usage:
  xss.py [--root DIR] [--state FILE] call PLUGIN_DIR METHOD [JSON]
      One call; JSON (default: read verbatim from stdin, even malformed).
      Prints the result JSON, or the error JSON; exit 0 ok, 1 plugin
      error, 2 SCRIPT_* failure, 3 IDL violation.
  xss.py [...] xe COMMAND [key=value ...]
      sr-create, sr-list, sr-param-set, sr-probe, sr-forget, sr-destroy,
      sr-attach / pbd-plug, pbd-unplug, sr-scan, plugin-query,
      vdi-create, vdi-list, vdi-param-set, vdi-param-get, vdi-param-remove,
      vdi-destroy, vdi-attach, vdi-activate, vdi-deactivate, vdi-detach,
      vdi-open, vdi-close, vm-start, vm-shutdown.
      Datapath commands take vm=DOMID [dp=NAME] (the daemon's domain
      string: the domid, or for vm=0 "u0-" + dp with / and - made _) or a
      raw domain=STRING (default "0", as the static-vdis script sends).
      vm-start vm=DOMID vdi=U1,U2 [ro=U3] [persistent=false] plugs each
      disk (open, attach, activate or activate_readonly) concurrently;
      vm-shutdown with the same arguments unplugs (deactivate, detach,
      close).  A datapath plugin is used only once registered: its
      Plugin.query succeeded with a supported required_api_version.
The root defaults to $LQ_XSS_ROOT, the state file to $XSS_MOCK_STATE
(default ./xss-state.json); it keeps what xapi would: SR uuid -> type,
device-config, attached SR string, and VDI uuid -> (SR, key).
"""
import fcntl
import json
import os
import threading
import stat
import subprocess
import sys
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idl  # noqa: E402

PREFIX = "org.xen.xapi.storage."


class XapiError(Exception):
    """A failure as xapi would report it: code and params."""

    def __init__(self, code, params, exit_code=1):
        Exception.__init__(self, code)
        self.code, self.params, self.exit_code = code, params, exit_code


class IdlViolation(Exception):
    pass


def find_script(directory, name):
    """The daemon's lookup: a caseless map of the directory's names (the
    smallest name wins when several fold alike), then the file kind with
    symlinks followed: a regular file must be executable
    (SCRIPT_NOT_EXECUTABLE); anything else - missing, a directory, a FIFO,
    a socket, a dangling link - is SCRIPT_MISSING."""
    try:
        entries = os.listdir(directory)
    except OSError:
        entries = []
    same = [e for e in entries if e.lower() == name.lower()]
    path = os.path.join(directory, min(same) if same else name)
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise XapiError("SCRIPT_MISSING", [path, "Check whether the file exists and has correct permissions"], 2)
    if not os.access(path, os.X_OK):
        raise XapiError("SCRIPT_NOT_EXECUTABLE", [path, "Permission denied"], 2)
    return path


def run_raw(directory, method, stdin_bytes):
    """Run one call; returns the parsed result or raises XapiError."""
    script = find_script(directory, method)
    p = subprocess.run([script, "--json"], input=stdin_bytes, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8", "surrogateescape")
    if os.environ.get("XSS_MOCK_LOG"):
        with open(os.environ["XSS_MOCK_LOG"], "ab") as log:
            log.write(b"%s %s rc=%d\n  in: %s\n  out: %s\n  err: %s\n" % (
                method.encode(), directory.encode(), p.returncode, stdin_bytes[:2000],
                p.stdout[:2000], p.stderr[-4000:]))
    if p.returncode < 0:
        raise XapiError("SCRIPT_FAILED", [script, "signalled", str(-p.returncode), out, out], 2)
    if p.returncode == 0:
        try:
            return json.loads(out)
        except ValueError:
            raise XapiError("SCRIPT_FAILED", [script, "bad json on stdout", out], 2)
    try:
        err = json.loads(out)
    except ValueError:
        err = None
    if not idl.check_error(err):
        raise XapiError("SCRIPT_FAILED", [script, "non-zero exit and bad json on stdout",
                                          str(p.returncode), out, out], 2)
    raise XapiError(err["code"], err["params"], 1)


def call(directory, method, params):
    """A typed call: params as xapi-storage-script would send them."""
    line = json.dumps(params, separators=(",", ":")).encode()
    result = run_raw(directory, method, line)
    check_result(method, result)
    return result


def check_result(method, result):
    t = idl.RESULTS.get(method)
    if t is None:
        return
    try:
        idl.check(t, result, method)
        if method == "SR.probe":
            idl.check_probe_rules(result)
    except idl.IdlError as e:
        raise IdlViolation(str(e))


# ---- what xapi-storage-script derives from a plugin -----------------------

CAPABILITY_SCRIPTS = [
    ("SR.attach", "SR_ATTACH"), ("SR.create", "SR_CREATE"), ("SR.destroy", "SR_DELETE"),
    ("SR.detach", "SR_DETACH"), ("SR.ls", "SR_SCAN"), ("SR.stat", "SR_UPDATE"),
    ("SR.probe", "SR_PROBE"), ("Volume.create", "VDI_CREATE"), ("Volume.clone", "VDI_CLONE"),
    ("Volume.snapshot", "VDI_SNAPSHOT"), ("Volume.resize", "VDI_RESIZE"),
    ("Volume.destroy", "VDI_DELETE"), ("Volume.stat", "VDI_UPDATE"),
]


def capabilities(directory, features):
    """Feature rewriting of the daemon's Query.query."""
    caps = ["VDI_DELETE" if f == "VDI_DESTROY" else f for f in features]
    for script, cap in CAPABILITY_SCRIPTS:
        try:
            find_script(directory, script)
            caps.append(cap)
        except XapiError:
            pass
    caps += ["VDI_ATTACH", "VDI_DETACH", "VDI_ACTIVATE", "VDI_DEACTIVATE", "VDI_INTRODUCE"]
    if "VDI_CLONE" in caps:
        caps += ["VDI_RESET_ON_BOOT/2"]
    return sorted(set(caps))


# ---- datapath plugins: registration, choice, domains -----------------------

SUPPORTED_API_VERSIONS = ("3.0", "5.0")


def register_datapaths(root):
    """As the daemon does for each directory under <root>/datapath: call
    Plugin.query (dbg "register"); the plugin is registered only if the
    call succeeds, its result is a query_result and its
    required_api_version is one the daemon supports.  A plugin that fails
    is silently not registered: its URIs are then never chosen."""
    table = {}
    base = os.path.join(root, "datapath")
    try:
        names = sorted(os.listdir(base))
    except OSError:
        names = []
    for name in names:
        d = os.path.join(base, name)
        if not os.path.isdir(d):
            continue
        try:
            q = call(d, "Plugin.query", {"dbg": "register"})
        except (XapiError, IdlViolation):
            continue
        if q["required_api_version"] in SUPPORTED_API_VERSIONS:
            table[name] = (d, q)
    return table


def choose_datapath(table, uris, persistent=True):
    """The first URI whose scheme names a registered datapath plugin;
    non-persistent prefers plugins declaring NONPERSISTENT."""
    possible = []
    for uri in uris:
        scheme = uri.split("://", 1)[0] if "://" in uri else None
        if scheme in table:
            possible.append((table[scheme], uri))
    if not persistent:
        possible.sort(key=lambda p: "NONPERSISTENT" not in p[0][1]["features"])
    if not possible:
        raise XapiError("MISSING_URI", ["Please include a URI in the device-config"])
    (d, q), uri = possible[0]
    return d, q, uri


def domain_of(dp, vm):
    """The domain string the daemon sends: the domid for a guest; for
    dom0, "u0-" and the (unique) datapath name with / and - made _."""
    if vm == "0":
        return "u0-" + dp.replace("/", "_").replace("-", "_")
    return vm


# ---- the xe front -----------------------------------------------------------

class Xe:
    def __init__(self, root, state_path):
        self.root, self.state_path = root, state_path
        self.state = self.load()
        self.orig = json.loads(json.dumps(self.state))
        self.dp_table = None

    def load(self):
        try:
            with open(self.state_path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = {}
        state.setdefault("srs", {})
        state.setdefault("vdis", {})
        return state

    def save(self):
        """Concurrent xe commands share the state file, as calls share
        xapi's database: under a lock, only the entries this command
        changed (or removed) are applied to what is on disk, so no command
        loses another's changes."""
        with open(self.state_path + ".lock", "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            disk = self.load()
            for table in ("srs", "vdis"):
                mine, orig, theirs = self.state[table], self.orig[table], disk[table]
                for k in set(orig) - set(mine):
                    theirs.pop(k, None)
                for k, v in mine.items():
                    if orig.get(k) != v:
                        theirs[k] = v
            tmp = "%s.%d.tmp" % (self.state_path, os.getpid())
            with open(tmp, "w") as f:
                json.dump(disk, f, indent=1, sort_keys=True)
            os.replace(tmp, self.state_path)
        self.orig = json.loads(json.dumps(self.state))

    def vol_dir(self, sr_type):
        return os.path.join(self.root, "volume", PREFIX + sr_type)

    def sr(self, args, attached=True):
        u = args.get("uuid") or args.get("sr-uuid")
        rec = self.state["srs"].get(u)
        if rec is None:
            raise XapiError("UUID_INVALID", ["SR", str(u)])
        if attached and not rec.get("sr"):
            raise XapiError("SR_NOT_ATTACHED", [u])
        return u, rec

    def vcall(self, rec, method, **params):
        params.setdefault("dbg", "xss-mock")
        return call(self.vol_dir(rec["type"]), method, params)

    # SR commands
    def sr_create(self, a):
        sr_type = a.get("type", "fileqcow")
        cfg = {k[len("device-config:"):]: v for k, v in a.items() if k.startswith("device-config:")}
        u = a.get("uuid") or str(uuidlib.uuid4())
        rec = {"type": sr_type, "name": a.get("name-label", ""), "sr": None}
        rec["device_config"] = self.vcall(rec, "SR.create", uuid=u, configuration=cfg,
                                          name=rec["name"], description=a.get("name-description", ""))
        self.state["srs"][u] = rec
        self.save()
        self.plug(u, rec)
        print(u)

    def plug(self, u, rec):
        rec["sr"] = self.vcall(rec, "SR.attach", configuration=rec["device_config"])
        self.vcall(rec, "SR.stat", sr=rec["sr"])
        self.save()

    def sr_attach(self, a):
        u, rec = self.sr(a, attached=False)
        self.plug(u, rec)

    pbd_plug = sr_attach

    def pbd_unplug(self, a):
        u, rec = self.sr(a, attached=False)
        if rec.get("sr"):
            self.vcall(rec, "SR.detach", sr=rec["sr"])
        rec["sr"] = None
        self.save()

    def sr_forget(self, a):
        u, rec = self.sr(a, attached=False)
        if rec.get("sr"):
            self.vcall(rec, "SR.detach", sr=rec["sr"])
        self.drop_sr(u)

    def drop_sr(self, u):
        del self.state["srs"][u]
        self.state["vdis"] = {k: v for k, v in self.state["vdis"].items() if v["sr"] != u}
        self.save()

    def sr_destroy(self, a):
        u, rec = self.sr(a)
        self.vcall(rec, "SR.destroy", sr=rec["sr"])
        self.drop_sr(u)

    def sr_list(self, a):
        for u, rec in sorted(self.state["srs"].items()):
            if a.get("uuid") and a["uuid"] != u:
                continue
            if "--minimal" in a:
                print(u)
                continue
            out = [("uuid", u), ("type", rec["type"]), ("attached", str(bool(rec.get("sr"))).lower())]
            if rec.get("sr"):
                st = self.vcall(rec, "SR.stat", sr=rec["sr"])
                out += [("name-label", st["name"]), ("name-description", st["description"]),
                        ("physical-size", str(st["total_space"])),
                        ("free-space", str(st["free_space"])), ("sr", st["sr"])]
            print_record(out)

    def sr_param_set(self, a):
        u, rec = self.sr(a)
        if "name-label" in a:
            self.vcall(rec, "SR.set_name", sr=rec["sr"], new_name=a["name-label"])
        if "name-description" in a:
            self.vcall(rec, "SR.set_description", sr=rec["sr"], new_description=a["name-description"])

    def sr_probe(self, a):
        rec = {"type": a.get("type", "fileqcow")}
        cfg = {k[len("device-config:"):]: v for k, v in a.items() if k.startswith("device-config:")}
        print(json.dumps(self.vcall(rec, "SR.probe", configuration=cfg), indent=1, sort_keys=True))

    def sr_scan(self, a):
        u, rec = self.sr(a)
        self.vcall(rec, "SR.stat", sr=rec["sr"])
        vols = self.vcall(rec, "SR.ls", sr=rec["sr"])
        self.state["vdis"] = {k: v for k, v in self.state["vdis"].items() if v["sr"] != u}
        for v in vols:
            if "clone-on-boot" in v["keys"]:
                continue
            self.state["vdis"][v.get("uuid", v["key"])] = {"sr": u, "key": v["key"]}
        self.save()

    def plugin_query(self, a):
        d = self.vol_dir(a.get("type", "fileqcow"))
        q = call(d, "Plugin.query", {"dbg": "xss-mock"})
        q["capabilities"] = capabilities(d, q["features"])
        print(json.dumps(q, indent=1, sort_keys=True))

    # VDI commands
    def vdi(self, a):
        u = a.get("uuid")
        v = self.state["vdis"].get(u)
        if v is None:
            raise XapiError("UUID_INVALID", ["VDI", str(u)])
        rec = self.state["srs"].get(v["sr"])
        if rec is None or not rec.get("sr"):
            raise XapiError("Sr_not_attached", [v["sr"]])
        return u, v, rec

    def vdi_create(self, a):
        u, rec = self.sr({"uuid": a.get("sr-uuid")})
        vol = self.vcall(rec, "Volume.create", sr=rec["sr"], name=a.get("name-label", ""),
                         description=a.get("name-description", ""),
                         size=int(a.get("virtual-size", "0")),
                         sharable=a.get("sharable", "false") == "true")
        if a.get("type", "user"):
            self.vcall(rec, "Volume.set", sr=rec["sr"], key=vol["key"], k="vdi-type",
                       v=a.get("type", "user"))
        vu = vol.get("uuid", vol["key"])
        self.state["vdis"][vu] = {"sr": u, "key": vol["key"]}
        self.save()
        print(vu)

    def vdi_list(self, a):
        for u, rec in sorted(self.state["srs"].items()):
            if not rec.get("sr") or (a.get("sr-uuid") and a["sr-uuid"] != u):
                continue
            for v in self.vcall(rec, "SR.ls", sr=rec["sr"]):
                vu = v.get("uuid", v["key"])
                if a.get("uuid") and a["uuid"] != vu:
                    continue
                if "--minimal" in a:
                    print(vu)
                    continue
                print_record([("uuid", vu), ("sr-uuid", u), ("name-label", v["name"]),
                              ("name-description", v["description"]),
                              ("virtual-size", str(v["virtual_size"])),
                              ("physical-utilisation", str(v["physical_utilisation"])),
                              ("sharable", str(v["sharable"]).lower()),
                              ("read-only", str(not v["read_write"]).lower()),
                              ("location", v["key"]), ("uri", ", ".join(v["uri"])),
                              ("sm-config", "; ".join("%s: %s" % kv for kv in sorted(v["keys"].items())))])

    def vdi_param_set(self, a):
        u, v, rec = self.vdi(a)
        common = dict(sr=rec["sr"], key=v["key"])
        if "name-label" in a:
            self.vcall(rec, "Volume.set_name", new_name=a["name-label"], **common)
        if "name-description" in a:
            self.vcall(rec, "Volume.set_description", new_description=a["name-description"], **common)
        for k, val in a.items():
            if k.startswith("other-config:"):
                self.vcall(rec, "Volume.set", k=k[len("other-config:"):], v=val, **common)

    def vdi_param_remove(self, a):
        u, v, rec = self.vdi(a)
        self.vcall(rec, "Volume.unset", sr=rec["sr"], key=v["key"], k=a["param-key"])

    def vdi_param_get(self, a):
        u, v, rec = self.vdi(a)
        vol = self.vcall(rec, "Volume.stat", sr=rec["sr"], key=v["key"])
        name = a.get("param-name", "name-label")
        fields = {"name-label": "name", "name-description": "description",
                  "virtual-size": "virtual_size", "physical-utilisation": "physical_utilisation",
                  "location": "key", "sharable": "sharable", "uri": "uri", "other-config": "keys"}
        val = vol[fields[name]]
        if name == "other-config" and "param-key" in a:
            if a["param-key"] not in val:
                raise XapiError("MAP_KEY_NOT_FOUND", [a["param-key"]])
            val = val[a["param-key"]]
        if "--json" in a:
            print(json.dumps(val))
        else:
            print(val if isinstance(val, str) else json.dumps(val))

    def vdi_destroy(self, a):
        u, v, rec = self.vdi(a)
        self.vcall(rec, "Volume.stat", sr=rec["sr"], key=v["key"])
        self.vcall(rec, "Volume.destroy", sr=rec["sr"], key=v["key"])
        del self.state["vdis"][u]
        self.save()

    def new_vdi(self, sr_uuid, vol):
        vu = vol.get("uuid", vol["key"])
        self.state["vdis"][vu] = {"sr": sr_uuid, "key": vol["key"]}
        self.save()
        print(vu)

    def vdi_snapshot(self, a):
        """As xapi: Volume.snapshot, then the snapshot's keys."""
        u, v, rec = self.vdi(a)
        vol = self.vcall(rec, "Volume.snapshot", sr=rec["sr"], key=v["key"])
        for k, val in (("snapshot_time", time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime())),
                       ("is_a_snapshot", "true"), ("snapshot_of", v["key"])):
            self.vcall(rec, "Volume.set", sr=rec["sr"], key=vol["key"], k=k, v=val)
        self.new_vdi(v["sr"], vol)

    def vdi_clone(self, a):
        u, v, rec = self.vdi(a)
        self.new_vdi(v["sr"], self.vcall(rec, "Volume.clone", sr=rec["sr"], key=v["key"]))

    def vdi_resize(self, a):
        u, v, rec = self.vdi(a)
        self.vcall(rec, "Volume.resize", sr=rec["sr"], key=v["key"], new_size=int(a["disk-size"]))
        self.vcall(rec, "Volume.stat", sr=rec["sr"], key=v["key"])

    # Datapath commands.  The datapath plugin is chosen by URI scheme among
    # the registered ones (register_datapaths).  The domain is domain_of(dp,
    # vm) when vm= is given (dp= defaults to vbd/<vm>/xvda), else the raw
    # domain= string (default "0", what static-vdis sends).
    def datapaths(self):
        if self.dp_table is None:
            self.dp_table = register_datapaths(self.root)
        return self.dp_table

    def datapath(self, a, persistent=True):
        u, v, rec = self.vdi(a)
        vol = self.vcall(rec, "Volume.stat", sr=rec["sr"], key=v["key"])
        d, q, uri = choose_datapath(self.datapaths(), vol["uri"], persistent)
        return d, uri

    @staticmethod
    def domain(a):
        if "vm" in a:
            return domain_of(a.get("dp", "vbd/%s/xvda" % a["vm"]), a["vm"])
        return a.get("domain", "0")

    def dp_call(self, a, method, persistent=True, **extra):
        d, uri = self.datapath(a, persistent)
        params = {"dbg": "xss-mock", "uri": uri}
        params.update(extra)
        return call(d, method, params)

    def vdi_attach(self, a):
        print(json.dumps(self.dp_call(a, "Datapath.attach", domain=self.domain(a)), sort_keys=True))

    def vdi_activate(self, a):
        m = "Datapath.activate_readonly" if a.get("readonly") == "true" else "Datapath.activate"
        self.dp_call(a, m, domain=self.domain(a))

    def vdi_deactivate(self, a):
        self.dp_call(a, "Datapath.deactivate", domain=self.domain(a))

    def vdi_detach(self, a):
        self.dp_call(a, "Datapath.detach", domain=self.domain(a))

    def epoch_begin(self, a, persistent):
        """VDI.epoch_begin: Datapath.open only when the plugin declares
        NONPERSISTENT (the daemon otherwise clones for a non-persistent
        disk, which this mock does not model)."""
        d, uri = self.datapath(a, persistent)
        q = next(q for dd, q in self.datapaths().values() if dd == d)
        if "NONPERSISTENT" in q["features"]:
            call(d, "Datapath.open", {"dbg": "xss-mock", "uri": uri, "persistent": persistent})
        elif not persistent:
            raise XapiError("MOCK_UNSUPPORTED", ["non-persistent without NONPERSISTENT"])

    def epoch_end(self, a):
        d, uri = self.datapath(a)
        q = next(q for dd, q in self.datapaths().values() if dd == d)
        if "NONPERSISTENT" in q["features"]:
            call(d, "Datapath.close", {"dbg": "xss-mock", "uri": uri})

    def vdi_open(self, a):
        self.epoch_begin(a, a.get("persistent", "true") == "true")

    def vdi_close(self, a):
        self.epoch_end(a)

    # VM start / shutdown: each disk goes through epoch_begin (open),
    # attach, activate (read-only for the VDIs listed in ro=), and back
    # through deactivate, detach, epoch_end (close).  Disks are plugged
    # concurrently, one thread each, as xenopsd runs VBD plugs in parallel;
    # each disk's own steps stay in order.
    def vm_vdis(self, a):
        rw = [x for x in a.get("vdi", "").split(",") if x]
        ro = [x for x in a.get("ro", "").split(",") if x]
        return [(x, False) for x in rw] + [(x, True) for x in ro]

    def each_disk(self, a, fn):
        errors = []
        self.datapaths()

        def one(i, vdi, readonly):
            try:
                fn({"uuid": vdi, "vm": a["vm"], "dp": "vbd/%s/%d" % (a["vm"], i)}, readonly)
            except (XapiError, IdlViolation) as e:
                errors.append(e)
        threads = [threading.Thread(target=one, args=(i, x, r))
                   for i, (x, r) in enumerate(self.vm_vdis(a))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def vm_start(self, a):
        persistent = a.get("persistent", "true") == "true"

        def plug(d, readonly):
            self.epoch_begin(d, persistent)
            self.dp_call(d, "Datapath.attach", domain=self.domain(d))
            self.vdi_activate(dict(d, readonly="true" if readonly else "false"))
        self.each_disk(a, plug)

    def vm_shutdown(self, a):
        def unplug(d, readonly):
            self.vdi_deactivate(d)
            self.vdi_detach(d)
            self.epoch_end(d)
        self.each_disk(a, unplug)


def print_record(fields):
    width = max(len(k) for k, _ in fields) + 6
    for i, (k, v) in enumerate(fields):
        label = "%s ( RO)" % k
        print("%s%s: %s" % ("" if i == 0 else "    ", label.ljust(width - (0 if i == 0 else 4)), v))
    print()


def parse_kv(argv):
    a = {}
    for x in argv:
        if "=" in x and not x.startswith("--"):
            k, v = x.split("=", 1)
            a[k] = v
        else:
            a[x] = True
    return a


def report(e):
    if isinstance(e, XapiError):
        print("Error code: %s" % e.code, file=sys.stderr)
        print("Error parameters: %s" % ", ".join(e.params), file=sys.stderr)
        return e.exit_code
    print("IDL violation: %s" % e, file=sys.stderr)
    return 3


def main(argv):
    root = os.environ.get("LQ_XSS_ROOT", "/usr/libexec/xapi-storage-script")
    state = os.environ.get("XSS_MOCK_STATE", "xss-state.json")
    while argv and argv[0] in ("--root", "--state"):
        if argv[0] == "--root":
            root = argv[1]
        else:
            state = argv[1]
        argv = argv[2:]
    if len(argv) >= 3 and argv[0] == "call":
        data = argv[3].encode() if len(argv) > 3 else sys.stdin.buffer.read()
        try:
            result = run_raw(argv[1], argv[2], data)
            check_result(argv[2], result)
            print(json.dumps(result, sort_keys=True))
            return 0
        except XapiError as e:
            print(json.dumps({"code": e.code, "params": e.params}))
            return report(e)
        except IdlViolation as e:
            return report(e)
    if len(argv) >= 2 and argv[0] == "xe":
        xe = Xe(root, state)
        fn = getattr(xe, argv[1].replace("-", "_"), None)
        if fn is None or argv[1].startswith("_"):
            print("unknown command %s" % argv[1], file=sys.stderr)
            return 2
        try:
            fn(parse_kv(argv[2:]))
            return 0
        except (XapiError, IdlViolation) as e:
            return report(e)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
