#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The datapath plugin through the xapi-storage-script mock: attach and
# activate a fileqcow volume, write random data with qemu-io and nbdcopy
# through the returned NBD URI, read it back, deactivate (twice), detach;
# then the image passes qemu-img check and holds exactly that data.  The
# activation rules (one writer or many readers, never both) and non-persistent mode.
. "$LQ_TOP/tests/lib.sh"
command -v nbdcopy >/dev/null || skip "nbdcopy not installed"
dcall() { xss call "$LQ_DATAPATH" "$@"; }
# Whatever a failure leaves running is stopped on exit.
at_exit kill_servers
size=$((64 << 20))

note "Plugin.Query / query / diagnostics of the datapath plugin"
q=$(dcall Plugin.Query '{"dbg":"t"}')
assert_eq plugin lvqcow "$(json_get "$q" 'j["plugin"]')"
json_get "$q" 'j["features"]' | grep -q '"NONPERSISTENT"' || die "NONPERSISTENT missing"
dcall plugin.query '{"dbg":"t"}' >/dev/null
dcall Plugin.diagnostics '{"dbg":"t"}' >/dev/null

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$size)
img=$(find "$PWD/sr" -name '*.qcow2' | sed -n 1p)
[ -f "$img" ] || die "no image file for the volume"

note "attach returns the backend; attaching again reuses the server"
be=$(xe vdi-attach uuid="$VU" domain=0)
nbd=$(json_get "$be" '[i[1]["uri"] for i in j["implementations"] if i[0] == "Nbd"][0]')
xen=$(json_get "$be" '[i[1] for i in j["implementations"] if i[0] == "XenDisk"][0]')
assert_eq "XenDisk params" "$nbd" "$(json_get "$xen" 'j["params"]')"
assert_eq "XenDisk backend" qdisk "$(json_get "$xen" 'j["backend_type"]')"
[[ $nbd =~ ^nbd:unix:(.*):exportname=(.*)$ ]] || die "bad NBD URI $nbd"
sock=${BASH_REMATCH[1]} export=${BASH_REMATCH[2]}
[ -S "$sock" ] || die "no socket at $sock"
assert_eq "socket mode" 600 "$(stat -c %a "$sock")"
at_exit xe vdi-detach uuid="$VU" domain=0
pid=$(cat "$(dirname "$sock")/pid")
assert_eq "attach again" "$be" "$(xe vdi-attach uuid="$VU" domain=0)"
assert_eq "same server" "$pid" "$(cat "$(dirname "$sock")/pid")"
uri="nbd+unix:///$export?socket=$sock"

note "activate; write with qemu-io and nbdcopy; read back"
xe vdi-activate uuid="$VU" domain=0
head -c $size /dev/zero >model.raw
python3 "$LQ_TESTS/nbd_ops.py" sparse 3 12 $size upload.raw
nbdcopy upload.raw "$uri"
cp upload.raw model.raw
mkdir w
python3 "$LQ_TESTS/nbd_ops.py" qemu-io 5 40 $size model.raw w >ops.txt
args=()
while read -r line; do args+=(-c "$line"); done <ops.txt
qemu-io -f raw "${args[@]}" "$nbd" >/dev/null
nbdcopy "$uri" back.raw
cmp_files back.raw model.raw
dcall Plugin.diagnostics '{"dbg":"t"}' | grep -q "state=running" || die "diagnostics"

note "one writer; readers only while nobody writes, a writer only when no reader is left"
xe vdi-attach uuid="$VU" domain=7 >/dev/null
e=$(xe vdi-activate uuid="$VU" domain=7 2>&1 || true)
echo "$e" | grep -q 'SR_BACKEND_FAILURE_24' || die "second writer accepted: $e"
# The nested activations call the scripts directly, with the exact protocol
# the mock uses (stdin JSON, --json), to keep the test short.
vuri=$(json_get "$(fcall Volume.stat "{\"dbg\":\"t\",\"sr\":\"$(realpath sr)\",\"key\":\"$export\"}")" 'j["uri"][0]')
dp() { call "$LQ_DATAPATH" "$1" "{\"dbg\":\"t\",\"uri\":\"$vuri\",\"domain\":\"$2\"}" >/dev/null; }
in_use() {
	local rc=0
	call "$LQ_DATAPATH" "$1" "{\"dbg\":\"t\",\"uri\":\"$vuri\",\"domain\":\"$2\"}" >out.json || rc=$?
	assert_eq "$1 $2" 1 "$rc"
	grep -q '"VDIInUse"' out.json || die "$1 $2: $(cat out.json)"
}
in_use Datapath.activate_readonly u0-ro1                # a reader while domain 0 writes
xe vdi-activate uuid="$VU" domain=0 readonly=true      # the writer stays a writer
xe vdi-deactivate uuid="$VU" domain=0
for i in $(seq 1 20); do dp Datapath.activate_readonly "u0-ro$i"; done
in_use Datapath.activate 7                             # a writer while others read
in_use Datapath.activate u0-ro1                        # even one of the readers
e=$(xe vdi-activate uuid="$VU" domain=7 2>&1 || true)
echo "$e" | grep -q 'SR_BACKEND_FAILURE_24' || die "writer accepted among readers: $e"
for i in $(seq 1 20); do dp Datapath.deactivate "u0-ro$i"; done
xe vdi-activate uuid="$VU" domain=0
xe vdi-detach uuid="$VU" domain=7
[ -S "$sock" ] || die "detaching one domain stopped the server of another"

note "deactivate twice, detach: the server stops"
xe vdi-deactivate uuid="$VU" domain=0
xe vdi-deactivate uuid="$VU" domain=0
xe vdi-detach uuid="$VU" domain=0
xe vdi-detach uuid="$VU" domain=0
[ ! -e "$sock" ] || die "the server still runs after the last detach"
kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$pid/stat)" != Z ] && die "server process left"

note "the image is clean and holds the data"
qcheck "$img"
raw_of "$img" final.raw
cmp_files final.raw model.raw

note "activate without attach is refused"
not xe vdi-activate uuid="$VU" domain=0 2>/dev/null

note "non-persistent: writes are thrown away at close"
xe vdi-open uuid="$VU" persistent=false
xe vdi-attach uuid="$VU" domain=0 >/dev/null
xe vdi-activate uuid="$VU" domain=0
qemu-io -f raw -c 'write -P 0xee 0 8M' "$nbd" >/dev/null
qemu-io -f raw -c 'read -P 0xee 0 8M' "$nbd" | grep -q 'read 8388608' || die "write not visible"
xe vdi-deactivate uuid="$VU" domain=0
xe vdi-detach uuid="$VU" domain=0
xe vdi-close uuid="$VU"
qcheck "$img"
raw_of "$img" np.raw
cmp_files np.raw model.raw
xe vdi-attach uuid="$VU" domain=0 >/dev/null
xe vdi-activate uuid="$VU" domain=0
nbdcopy "$uri" again.raw
cmp_files again.raw model.raw
xe vdi-deactivate uuid="$VU" domain=0
xe vdi-detach uuid="$VU" domain=0
[ ! -e "$sock" ] || die "server left after the last detach"

note "hostile parameters get the error JSON, never a crash"
for p in '{"dbg":"t","uri":"lvqcow://fileqcow/nope/x","domain":"0"}' \
	 '{"dbg":"t","uri":"http://x","domain":"0"}' '{"dbg":"t","uri":7,"domain":"0"}' \
	 '{"dbg":"t"}' '[1,2]' 'garbage'; do
	rc=0; dcall Datapath.attach "$p" >out.json || rc=$?
	assert_eq "attach $p" 1 "$rc"
	rc=0; printf "%s\n" "$p" | "$LQ_DATAPATH/Datapath.detach" --json >out.json 2>/dev/null || rc=$?
	[ $rc -lt 2 ] || die "detach $p: rc $rc"
done
