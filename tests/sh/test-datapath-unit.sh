#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Servers as systemd transient units: with systemd reported running
# (LVQCOW_SYSTEMD_PROBE), attach starts the server through systemd-run
# (a stand-in on PATH records its arguments and runs the command after
# "--"), the unit is named after the volume, forking with the pid file,
# its command line names the control socket and the FIFO its other
# arguments come through, and LVQCOW_* settings are passed on; the server runs, is proven by its
# pid file and is stopped by detach.  Without a kernel NBD client the
# backend has no BlockDevice and XenDisk falls back to qdisk.
. "$LQ_TOP/tests/lib.sh"
at_exit kill_servers
wait_dead() { local i; for ((i = 0; i < 100; i++)); do alive "$1" || return 0; sleep 0.1; done; die "process $1 still alive"; }

mkdir bin probe
cat >bin/systemd-run <<'STUB'
#!/bin/bash
printf '%s\n' "$@" >>"$LQ_UNIT_LOG"
printf '%s\n' -- >>"$LQ_UNIT_LOG"
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	case $1 in --setenv=*) export "${1#--setenv=}" ;; esac
	shift
done
shift
exec "$@"
STUB
chmod +x bin/systemd-run
export PATH=$PWD/bin:$PATH LQ_UNIT_LOG=$PWD/unit.log LVQCOW_SYSTEMD_PROBE=$PWD/probe
export LVQCOW_NBD_PAUSE_LIMIT=25
# Without nbd.ko the device path runs and falls back (lib.sh turns it off).
[ -e /sys/module/nbd ] || unset LVQCOW_NBD_DEVICE

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((16 << 20)))
key=$(xe vdi-list uuid="$VU" | sed -n 's/^ *location[^:]*: //p')
dir=$LVQCOW_RUNDIR/nbd/$key

note "attach starts the server through systemd-run"
be=$(xe vdi-attach uuid="$VU" domain=0)
[ -s unit.log ] || die "systemd-run was not used"
args=$(cat unit.log)
for want in "--unit=lvqcow-nbd-$key" --collect --service-type=forking \
	"--property=PIDFile=$dir/pid" --quiet --setenv=LVQCOW_NBD_PAUSE_LIMIT=25 \
	"--setenv=LVQCOW_RUNDIR=$LVQCOW_RUNDIR" "--property=KillMode=mixed" serve "$dir/ctl" \
	--property=TimeoutStartSec=192 \
	--args-from --caller; do
	grep -qxF -- "$want" unit.log || die "systemd-run lacks $want: $args"
done
exe=$(sed -n '/^--$/{n;p;q}' unit.log)
[[ $exe == /* && -x $exe ]] || die "the command after -- is not an absolute path: $exe"
assert_eq "then serve" serve "$(sed -n '/^--$/{n;n;p;q}' unit.log)"
# The unit starts while the chain is made ready; its arguments come
# through a FIFO, gone once the server took them.
ls "$dir" | grep -q '^args\.' && die "argument FIFO left: $(ls "$dir")"
pid=$(cat "$dir/pid")
alive "$pid" || die "the server is not running"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q " serve " || die "pid $pid is not the server"

note "without a kernel NBD client: Nbd and a qdisk XenDisk, no BlockDevice"
if [ -e /sys/module/nbd ]; then
	echo "nbd module loaded: fallback not checked here"
else
	kinds=$(json_get "$be" '" ".join(i[0] for i in j["implementations"])')
	assert_eq implementations "XenDisk Nbd" "$kinds"
	assert_eq backend qdisk "$(json_get "$be" '[i[1] for i in j["implementations"]][0]["backend_type"]')"
	[ ! -e "$dir/device" ] || die "a device record without a device"
fi

note "a second attach reuses the server: systemd-run runs once"
xe vdi-attach uuid="$VU" domain=5 >/dev/null
assert_eq "systemd-run calls" 1 "$(grep -c -- '^--unit=' unit.log)"

note "detach stops the server"
xe vdi-detach uuid="$VU" domain=5
alive "$pid" || die "the server stopped while still attached"
xe vdi-detach uuid="$VU" domain=0
wait_dead "$pid"
[ ! -e "$dir/pid" ] || die "pid file left"

note "without systemd: a detached process, systemd-run not used"
rm -rf probe unit.log   # LVQCOW_SYSTEMD_PROBE now names no directory
xe vdi-attach uuid="$VU" domain=0 >/dev/null
[ ! -e unit.log ] || die "systemd-run used without systemd"
pid=$(cat "$dir/pid")
alive "$pid" || die "the server is not running"
xe vdi-detach uuid="$VU" domain=0
wait_dead "$pid"
