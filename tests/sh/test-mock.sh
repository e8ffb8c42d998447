#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The xapi-storage-script mock itself: fake plugins that misbehave must be
# caught the way the real daemon catches them (SCRIPT_FAILED for bad JSON,
# a bad error object or a signal; SCRIPT_MISSING for a missing or
# non-regular file, SCRIPT_NOT_EXECUTABLE; case-insensitive lookup, the
# smallest name winning), and results that break the IDL are refused.
# Then what the daemon does around the real plugins: a datapath plugin is
# used only once its Plugin.query succeeded with a supported version; VM
# start and shutdown run open, attach, activate and deactivate, detach,
# close per disk, concurrently across disks and VMs, with the daemon's
# domain strings (the domid; "u0-<dp>" for dom0).
source "$LQ_TOP/tests/lib.sh"

d=$PWD/fake
mkdir -p "$d"
script() { printf '#!/bin/sh\ncat >/dev/null\n%s\n' "$2" > "$d/$1"; chmod +x "$d/$1"; }
script SR.stat 'echo "not json"'
script SR.ls 'echo "{\"code\":\"X\"}"; exit 1'
script SR.attach 'kill -9 $$'
script SR.detach 'echo "{\"code\":\"SR_BACKEND_FAILURE\",\"params\":[\"Boom\",\"detail\"],\"backtrace\":{\"error\":\"e\",\"files\":[],\"lines\":[]}}"; exit 1'
script Volume.stat 'echo "{\"key\":\"k\",\"name\":\"n\",\"description\":\"d\",\"read_write\":1,\"sharable\":false,\"virtual_size\":0,\"physical_utilisation\":0,\"uri\":[],\"keys\":{}}"'
script Volume.create 'echo "{\"key\":\"k\",\"name\":\"n\",\"description\":\"d\",\"read_write\":true,\"sharable\":false,\"virtual_size\":0,\"physical_utilisation\":0,\"uri\":[],\"keys\":{},\"tags\":[]}"'
script SR.probe 'echo "[{\"configuration\":{\"sr_uuid\":\"u\"},\"complete\":false,\"extra_info\":{}}]"'
script sr.SET_NAME 'echo null'
printf 'echo null\n' > "$d/SR.set_description"

rc() { local r=0; xss call "$d" "$@" >out.json 2>err.txt || r=$?; echo $r; }
assert_eq "bad json" 2 "$(rc SR.stat '{}')"
grep -q '"SCRIPT_FAILED".*"bad json on stdout"' out.json || die "bad json: $(cat out.json)"
assert_eq "bad error object" 2 "$(rc SR.ls '{}')"
grep -q 'non-zero exit and bad json on stdout' out.json || die "bad error: $(cat out.json)"
assert_eq "signal" 2 "$(rc SR.attach '{}')"
grep -q '"signalled", "9"' out.json || die "signal: $(cat out.json)"
assert_eq "plugin error" 1 "$(rc SR.detach '{}')"
grep -q '"Boom", "detail"' out.json || die "error: $(cat out.json)"
assert_eq "bool typed as int" 3 "$(rc Volume.stat '{}')"
assert_eq "unknown field" 3 "$(rc Volume.create '{}')"
grep -q "unknown field 'tags'" err.txt || die "unknown field: $(cat err.txt)"
assert_eq "probe rules" 3 "$(rc SR.probe '{}')"
assert_eq "case-insensitive lookup" 0 "$(rc SR.set_name '{}')"
assert_eq "missing" 2 "$(rc SR.destroy '{}')"
grep -q SCRIPT_MISSING out.json || die "missing: $(cat out.json)"
assert_eq "not executable" 2 "$(rc SR.set_description '{}')"
grep -q SCRIPT_NOT_EXECUTABLE out.json || die "not executable: $(cat out.json)"

note "non-regular files are SCRIPT_MISSING; a link to a script is followed"
mkdir "$d/Volume.destroy"
mkfifo "$d/Volume.clone"
ln -s nowhere "$d/Volume.snapshot"
ln -s sr.SET_NAME "$d/Volume.resize"
for m in Volume.destroy Volume.clone Volume.snapshot; do
	assert_eq "$m" 2 "$(rc $m '{}')"
	grep -q SCRIPT_MISSING out.json || die "$m: $(cat out.json)"
done
assert_eq "symlink" 0 "$(rc Volume.resize '{}')"
script Volume.set 'echo null'
script volume.set 'echo broken'
assert_eq "smallest of the names that fold alike" 0 "$(rc volume.SET '{}')"

# ---- the real plugins under a root of the test's own ----------------------
export LVQCOW_GC_AUTO=0
at_exit kill_servers
root=$PWD/root
mkdir -p "$root/volume" "$root/datapath/lvqcow"
ln -s "$LQ_FILEQCOW" "$root/volume/org.xen.xapi.storage.fileqcow"
for f in "$LQ_DATAPATH"/*; do ln -s "$f" "$root/datapath/lvqcow/$(basename "$f")"; done
rm "$root/datapath/lvqcow/Plugin.query" "$root/datapath/lvqcow/Plugin.Query"
# query_script BODY: the datapath's Plugin.query, a shell script.
query_script() {
	printf '#!/bin/sh
cat >/dev/null
%s
' "$1" >"$root/datapath/lvqcow/Plugin.query"
	chmod +x "$root/datapath/lvqcow/Plugin.query"
}
good=$(call "$LQ_DATAPATH" Plugin.query '{"dbg":"t"}')
mxe() { python3 "$LQ_TESTS/mock/xss.py" --root "$root" xe "$@"; }
mkdir -p sr
SRU=$(mxe sr-create type=fileqcow name-label=m device-config:path="$(realpath sr)")
V1=$(mxe vdi-create sr-uuid="$SRU" name-label=a virtual-size=1048576)
V2=$(mxe vdi-create sr-uuid="$SRU" name-label=b virtual-size=1048576)

note "a datapath plugin whose Plugin.query fails or wants another API is not used"
export XSS_MOCK_LOG=$PWD/calls.log
for q in 'exit 1' "echo '$(echo "$good" | sed 's/"5.0"/"9.9"/')'" 'echo "{}"'; do
	query_script "$q"
	: >calls.log
	rc=0; mxe vdi-attach uuid="$V1" vm=3 2>err.txt || rc=$?
	assert_eq "attach with query [$q]" 1 "$rc"
	grep -q MISSING_URI err.txt || die "query [$q]: $(cat err.txt)"
	grep -q "^Plugin.query .*datapath/lvqcow" calls.log || die "Plugin.query not called"
	! grep -q "^Datapath\." calls.log || die "an unregistered plugin was called: $(cat calls.log)"
done
query_script "echo '$good'"

note "VM start and shutdown: the call sequence per disk, the domain strings"
: >calls.log
mxe vm-start vm=3 vdi="$V1" ro="$V2"
seq_of() { grep -o '^Datapath\.[a-z_]*\|"domain":"[^"]*"' calls.log | paste -sd' '; }
grep -q '"uri":"lvqcow://' calls.log || die "no datapath call: $(cat calls.log)"
for v in "$V1" "$V2"; do
	got=$(grep -A1 "^Datapath" calls.log | grep -B1 "$v" | grep -o '^Datapath\.[a-z_]*' | paste -sd' ')
	case $v in
	"$V1") want="Datapath.open Datapath.attach Datapath.activate" ;;
	*) want="Datapath.open Datapath.attach Datapath.activate_readonly" ;;
	esac
	assert_eq "start sequence of $v" "$want" "$got"
done
[ "$(grep -c '"domain":"3"' calls.log)" = 4 ] || die "guest domain: $(seq_of)"
: >calls.log
mxe vm-shutdown vm=3 vdi="$V1" ro="$V2"
for v in "$V1" "$V2"; do
	got=$(grep -A1 "^Datapath" calls.log | grep -B1 "$v" | grep -o '^Datapath\.[a-z_]*' | paste -sd' ')
	assert_eq "shutdown sequence of $v" "Datapath.deactivate Datapath.detach Datapath.close" "$got"
done
: >calls.log
mxe vdi-attach uuid="$V1" vm=0 dp=vbd/0/xvd-b >/dev/null
grep -q '"domain":"u0-vbd_0_xvd_b"' calls.log || die "dom0 domain: $(cat calls.log)"
mxe vdi-detach uuid="$V1" vm=0 dp=vbd/0/xvd-b
unset XSS_MOCK_LOG

note "concurrent calls: two VMs start at once, xe commands share the state"
V3=$(mxe vdi-create sr-uuid="$SRU" name-label=c virtual-size=1048576)
pids=()
mxe vm-start vm=5 vdi="$V1,$V3" & pids+=($!)
mxe vm-start vm=6 vdi="$V2" & pids+=($!)
for i in 1 2 3 4; do mxe vdi-create sr-uuid="$SRU" name-label="p$i" virtual-size=65536 >>new.txt & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || die "a concurrent command failed"; done
assert_eq "volumes known to the mock" 7 "$(jq '.vdis | length' "$XSS_MOCK_STATE")"
assert_eq "active servers" 3 "$(ls "$LVQCOW_RUNDIR"/nbd/*/pid | wc -l)"
rc=0; mxe vm-start vm=7 ro="$V1" 2>err.txt || rc=$?
assert_eq "reader while vm 5 writes" 1 "$rc"
grep -q VDIInUse err.txt || die "reader: $(cat err.txt)"
mxe vm-shutdown vm=7 ro="$V1"
mxe vm-shutdown vm=5 vdi="$V1,$V3" & p1=$!
mxe vm-shutdown vm=6 vdi="$V2" & p2=$!
wait $p1 && wait $p2 || die "concurrent shutdown failed"
[ -z "$(ls "$LVQCOW_RUNDIR"/nbd/*/pid 2>/dev/null)" ] || die "servers left after shutdown"
echo OK
