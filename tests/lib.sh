# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh: helpers shared by every shell test (source it first).
# Tests run in a scratch directory (the current one) against the installed
# binaries: $LQ_BIN (the admin CLI) and the call trees under $LQ_XSS_ROOT.
set -euo pipefail

: "${LQ_BIN:?run the tests through tests/run.sh}"
LQ_TESTS=$LQ_TOP/tests
LQ_FILEQCOW=$LQ_XSS_ROOT/volume/org.xen.xapi.storage.fileqcow
LQ_DATAPATH=$LQ_XSS_ROOT/datapath/lvqcow
export LVQCOW_RUNDIR=${LVQCOW_RUNDIR:-$PWD/run}
# Host tests never use the host's systemd or kernel NBD client (a CI
# runner may have both); tests of those set these themselves.
export LVQCOW_SYSTEMD_PROBE=${LVQCOW_SYSTEMD_PROBE:-/nonexistent/systemd}
export LVQCOW_NBD_DEVICE=${LVQCOW_NBD_DEVICE:-0}
mkdir -p "$LVQCOW_RUNDIR"

die() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "== $*"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" == "$3" ] || die "$1: expected [$2], got [$3]"
}

# not CMD...: CMD must exit non-zero by itself, not by a signal.
not() {
	local rc=0
	"$@" || rc=$?
	[ $rc -ne 0 ] || die "expected failure: $*"
	[ $rc -lt 128 ] || die "killed by signal $((rc - 128)): $*"
}

# lq ARGS...: the admin CLI.
lq() { "$LQ_BIN" "$@"; }

# call PLUGIN_DIR NAME JSON: run one SMAPIv3 call as xapi-storage-script
# does; prints stdout, returns the exit status.
call() {
	local dir=$1 name=$2 json=$3
	printf '%s\n' "$json" | "$dir/$name" --json
}

# raw_of IMAGE OUT: the guest view through qemu-img (the oracle).
raw_of() { qemu-img convert -O raw "$1" "$2"; }

# qcheck IMAGE: qemu-img check must find the image clean.
qcheck() { qemu-img check -q "$1" || die "qemu-img check $1 failed ($?)"; }

# cmp_files A B: byte-identical.
cmp_files() { cmp -s "$1" "$2" || die "$1 and $2 differ: $(cmp "$1" "$2" 2>&1 | head -1)"; }

# ---- cleanup on exit ------------------------------------------------------
# at_exit CMD...: run CMD when the test exits (last registered runs first).
LQ_AT_EXIT=()
lq_run_at_exit() {
	local i
	for ((i = ${#LQ_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${LQ_AT_EXIT[i]}" || true
	done
}
at_exit() {
	[ ${#LQ_AT_EXIT[@]} -gt 0 ] || trap lq_run_at_exit EXIT
	LQ_AT_EXIT+=("$(printf '%q ' "$@")")
}

# ---- NBD servers ----------------------------------------------------------
# nbd_start NAME IMAGE [SERVE ARGS...]: start "lvqcow serve" for IMAGE with
# export NAME on $PWD/NAME.sock (control $PWD/NAME.ctl, log NAME.log); it
# is stopped when the test exits.
nbd_start() {
	local name=$1 img=$2
	shift 2
	lq serve --socket "$PWD/$name.sock" --control "$PWD/$name.ctl" --export "$name" \
		--pidfile "$PWD/$name.pid" --log "$PWD/$name.log" "$@" "$img" ||
		{ cat "$PWD/$name.log" >&2 2>/dev/null; die "lvqcow serve $img failed"; }
	at_exit nbd_kill "$name"
}

# nbd_uri NAME: the libnbd URI (nbdcopy, nbdinfo); nbd_qemu NAME: qemu's.
nbd_uri() { echo "nbd+unix:///$1?socket=$PWD/$1.sock"; }
nbd_qemu() { echo "nbd:unix:$PWD/$1.sock:exportname=$1"; }

# nbd_ctl NAME COMMAND: one control command; prints the reply line and
# fails unless it starts with "ok".
nbd_ctl() { python3 "$LQ_TESTS/lq_ctl.py" "$PWD/$1.ctl" "$2"; }

# nbd_pid NAME: the server's pid (empty when its pid file is gone).
nbd_pid() { cat "$PWD/$1.pid" 2>/dev/null || true; }

# nbd_wait_gone NAME: wait (up to 60 s) until the server has removed its
# pid file, its last act after flushing and closing the image.
nbd_wait_gone() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -e "$PWD/$1.pid" ] || return 0
		local pid; pid=$(nbd_pid "$1")
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 0
		sleep 0.1
	done
	die "NBD server $1 did not stop"
}

# nbd_stop NAME: clean stop through the control channel.
nbd_stop() { nbd_ctl "$1" stop >/dev/null; nbd_wait_gone "$1"; }

# nbd_kill NAME [SIGNAL]: signal the server (default TERM) and wait.
nbd_kill() {
	local pid; pid=$(nbd_pid "$1")
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
	if [ "${2:-TERM}" = KILL ]; then
		while kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ]; do
			sleep 0.05
		done
		rm -f "$PWD/$1.pid"
	else
		nbd_wait_gone "$1"
	fi
}

# nbd_raw: run python3 with tests/nbd_raw.py importable.
nbd_raw() { PYTHONPATH=$LQ_TESTS${PYTHONPATH:+:$PYTHONPATH} python3 "$@"; }

# ---- the xapi-storage-script mock (tests/mock/xss.py) ----
# XSS_MOCK_STATE: the mock's xapi-side state, one per test scratch dir.
export XSS_MOCK_STATE=${XSS_MOCK_STATE:-$PWD/xss-state.json}
export LQ_XSS_ROOT

# xss ARGS...: the mock itself (call ... | xe ...).
xss() { python3 "$LQ_TESTS/mock/xss.py" "$@"; }
# xe COMMAND key=value...: the xe-like front.
xe() { python3 "$LQ_TESTS/mock/xss.py" xe "$@"; }
# fcall METHOD JSON: one call on the fileqcow plugin through the mock;
# prints the result (or the error JSON); status 0 ok, 1 plugin error,
# 2 SCRIPT_* failure (bad output, signal), 3 IDL violation.
fcall() { python3 "$LQ_TESTS/mock/xss.py" call "$LQ_FILEQCOW" "$@"; }

# json_get JSON EXPR: evaluate a python expression on the parsed JSON `j`.
json_get() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); r=eval(sys.argv[2]); print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"; }

# new_sr DIR [NAME]: a fresh, attached fileqcow SR in DIR; prints its uuid.
new_sr() {
	mkdir -p "$1"
	xe sr-create type=fileqcow name-label="${2:-test sr}" device-config:path="$(realpath "$1")"
}

# sr_dump DIR: everything a call may change in a fileqcow SR (the
# document, and names, sizes and checksums of the images), for before /
# after comparisons.
sr_dump() {
	local d=$1
	md5sum "$d/lvqcow-sr.meta" 2>/dev/null || echo "(no metadata area)"
	(cd "$d" && find . -path ./lvqcow-sr.lock -prune -o -print0 | sort -z |
		xargs -0 -r stat -c '%n %s %F' && find images -type f -print0 2>/dev/null |
		sort -z | xargs -0 -r md5sum)
}

# ---- qcow2 byte-level helpers (corruption and leak tests) ----

# be_field IMAGE OFFSET SIZE: big-endian unsigned field as a decimal.
be_field() { python3 "$LQ_TESTS/lq_qcow2.py" be-field "$@"; }

# poke_be IMAGE OFFSET SIZE VALUE: write a big-endian field in place.
poke_be() { python3 "$LQ_TESTS/lq_qcow2.py" poke-be "$@"; }

# flip_bit IMAGE OFFSET BIT: invert one bit of one byte.
flip_bit() { python3 "$LQ_TESTS/lq_qcow2.py" flip-bit "$@"; }

# leak_cluster IMAGE: append one cluster and give it refcount 1 in its
# refcount block (which must exist), making a leak qemu-img also reports.
leak_cluster() { python3 "$LQ_TESTS/lq_qcow2.py" leak-cluster "$1"; }

# rc_of CMD...: the exit status of CMD (never fails the test itself).
rc_of() {
	local rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	echo $rc
}

# check_json IMAGE: qemu-img check's JSON for IMAGE, keys sorted, without
# the filename; `lq img check --json` output normalised the same way with
# check_json_lq.  Equal strings mean every counter agrees.
check_json() {
	qemu-img check --output=json "$1" 2>/dev/null | python3 "$LQ_TESTS/lq_qcow2.py" check-json
}
check_json_lq() {
	lq img check --json "$1" 2>/dev/null | python3 "$LQ_TESTS/lq_qcow2.py" check-json
}

# ---- qcow2 engine helpers ----

# vsize_of IMAGE: virtual size in bytes, as qemu-img reports it.
vsize_of() { qemu-img info --output=json "$1" | jq -r '.["virtual-size"]'; }

# lq_raw_of IMAGE OUT: the guest view through the engine (lvqcow img read).
lq_raw_of() { lq img read "$1" 0 "$(vsize_of "$1")" >"$2"; }

# same_view IMAGE: the engine and qemu-img read IMAGE byte for byte alike.
same_view() {
	raw_of "$1" "$1.qemu.raw"
	lq_raw_of "$1" "$1.lq.raw" || die "lvqcow img read $1 failed"
	cmp_files "$1.qemu.raw" "$1.lq.raw"
	rm -f "$1.qemu.raw" "$1.lq.raw"
}

# kill_quiet PID...: signal processes that may already be gone.
kill_quiet() { kill "$@" 2>/dev/null || true; }

# kill_servers: stop every NBD server the test's datapath started (an
# at_exit handler; SIGCONT first, since a test may have stopped one).
kill_servers() {
	local p
	for p in "$LVQCOW_RUNDIR"/nbd/*/pid; do
		[ -e "$p" ] || continue
		kill_quiet -CONT "$(head -1 "$p")"
		kill_quiet "$(head -1 "$p")"
	done
	true
}

# alive PID: running or stopped, not a zombie (nothing may reap here).
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# attached_dir VDI-UUID: attach the volume to domain 0 and print the run
# directory of its server (sock, ctl, pid).
attached_dir() {
	local be nbd
	be=$(xe vdi-attach uuid="$1" domain=0)
	nbd=$(json_get "$be" '[i[1]["uri"] for i in j["implementations"] if i[0] == "Nbd"][0]')
	[[ $nbd =~ ^nbd:unix:(.*)/sock:exportname=(.*)$ ]] || die "bad NBD URI $nbd"
	echo "${BASH_REMATCH[1]}"
}

. "$LQ_TOP/tests/lvm-confine.sh"

# ---- SR types -------------------------------------------------------------
# A test written for any SR type asks for its plugin and a new SR's
# device-config here; LQ_SR_TYPE picks the type (tests/vm/run.sh sets
# lvqcow in the guest).
# lq_sr_type: the SR type under test.
lq_sr_type() {
	local t=${LQ_SR_TYPE:-fileqcow}
	case $t in
	fileqcow|lvqcow) echo "$t" ;;
	*) die "LQ_SR_TYPE=$t: not an SR type (fileqcow, lvqcow)" ;;
	esac
}
# lq_plugin: the volume plugin directory of that type.
lq_plugin() { echo "$LQ_XSS_ROOT/volume/org.xen.xapi.storage.$(lq_sr_type)"; }

# lq_need_dm: skip (77) unless a real device-mapper and loop devices
# are usable (root, a kernel driver that answers with a linear target,
# losetup).
lq_need_dm() {
	[ "$(id -u)" = 0 ] || skip "lvqcow SR: needs root (device-mapper)"
	command -v losetup >/dev/null && command -v lvm >/dev/null && command -v dmsetup >/dev/null ||
		skip "lvqcow SR: losetup, lvm or dmsetup missing"
	dmsetup targets 2>/dev/null | grep -q '^linear' || skip "lvqcow SR: no device-mapper in this kernel"
	losetup -f >/dev/null 2>&1 || skip "lvqcow SR: no free loop device"
}

# lq_drop_pv DEV FILE: remove whatever VG is on loop device DEV, detach
# it and remove its backing FILE.
lq_drop_pv() {
	local vg
	vg=$(lvm pvs --noheadings -o vg_name "$1" 2>/dev/null | tr -d ' ' || true)
	[ -z "$vg" ] || lvm vgremove -f "$vg" >/dev/null 2>&1 || true
	losetup -d "$1" 2>/dev/null || true
	rm -f "$2"
}

# lq_new_device_config [SIZE]: the device-config of a new SR of the type
# under test, in LQ_DEVICE_CONFIG (and printed): fileqcow: a new empty
# directory here; lvqcow: a loop device over a new sparse file of SIZE
# (default 4G), undone when the test exits.  Call it directly, not in
# $(...): the cleanup is registered in the calling shell.
LQ_NEW_SR_SEQ=0
lq_new_device_config() {
	local size=${1:-4G} type file dev
	[ "$BASH_SUBSHELL" = 0 ] || die "lq_new_device_config: call it directly, not in \$(...) (read LQ_DEVICE_CONFIG)"
	type=$(lq_sr_type)
	LQ_NEW_SR_SEQ=$((LQ_NEW_SR_SEQ + 1))
	case $type in
	fileqcow)
		mkdir "$PWD/sr-$LQ_NEW_SR_SEQ"
		LQ_DEVICE_CONFIG=$(printf '{"path": "%s"}' "$PWD/sr-$LQ_NEW_SR_SEQ") ;;
	lvqcow)
		lq_need_dm
		file=$PWD/pv-$LQ_NEW_SR_SEQ.img
		truncate -s "$size" "$file"
		dev=$(losetup -f --show "$file") || { rm -f "$file"; die "losetup $file failed"; }
		at_exit lq_drop_pv "$dev" "$file"
		LQ_DEVICE_CONFIG=$(printf '{"device": "%s"}' "$dev") ;;
	esac
	echo "$LQ_DEVICE_CONFIG"
}
