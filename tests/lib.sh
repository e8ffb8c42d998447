# lib.sh: helpers shared by every shell test (source it first).
# Tests run in a scratch directory (the current one) against the installed
# binaries: $LQ_BIN (the admin CLI) and the call trees under $LQ_XSS_ROOT.
set -euo pipefail

: "${LQ_BIN:?run the tests through tests/run.sh}"
LQ_TESTS=$LQ_TOP/tests
LQ_FILEQCOW=$LQ_XSS_ROOT/volume/org.xen.xapi.storage.fileqcow
LQ_DATAPATH=$LQ_XSS_ROOT/datapath/lvqcow
export LVQCOW_RUNDIR=${LVQCOW_RUNDIR:-$PWD/run}
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
