# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the guest's lvqcow tests (sourced, never run by itself): the
# installed plugin directories, calls through the real executables, and
# a cleanup that leaves the disk empty for the next test whatever
# happens.
dev=/dev/vda
xss=/tmp/xss
for p in $(lvqcow list-calls); do
	mkdir -p "$xss/$(dirname "$p")"
	ln -sf "$(command -v lvqcow)" "$xss/$p"
done
vol=$xss/volume/org.xen.xapi.storage.lvqcow
dp=$xss/datapath/lvqcow
lq_cleanup() {
	pkill -f "lvqcow serve" 2>/dev/null || true
	for v in $(vgs --noheadings -o vg_name 2>/dev/null); do vgremove -ff "$v" >/dev/null 2>&1 || true; done
	pvremove -ff -y "$dev" >/dev/null 2>&1 || true
	rm -rf /run/lvqcow
}
trap lq_cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# call DIR METHOD JSON: the result on stdout; fails the test on an error.
call() {
	out=$(printf '%s' "$3" | "$1/$2" --json) || fail "$2 $3: $out"
	printf '%s' "$out"
}
# field NAME: the first string member NAME of the JSON on stdin.
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
