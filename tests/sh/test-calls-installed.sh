#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The installed plugin trees follow the call tables (lq/entry.h): every
# row is installed in its plugin directory and nothing else is, every
# installed name dispatches to its call, and each Plugin.query declares
# exactly the features of the rows.
source "$LQ_TOP/tests/lib.sh"

note "the installed names are the tables' (lvqcow list-calls)"
want=$(lq list-calls | sort)
have=$(cd "$LQ_XSS_ROOT" && find . -mindepth 1 ! -type d | sed 's|^\./||' | sort)
assert_eq "installed calls" "$want" "$have"
for p in volume/org.xen.xapi.storage.fileqcow/Plugin.Query \
	volume/org.xen.xapi.storage.fileqcow/Volume.create datapath/lvqcow/Datapath.attach; do
	grep -qx "$p" <<<"$have" || die "$p is not installed"
done
for p in $have; do
	[ -L "$LQ_XSS_ROOT/$p" ] || die "$p is not a symlink"
	assert_eq "$p target" "$(realpath "$LQ_BIN")" "$(realpath "$LQ_XSS_ROOT/$p")"
done
for dir in volume/org.xen.xapi.storage.fileqcow volume/org.xen.xapi.storage.lvqcow; do
	assert_eq "volume names in $dir" "$(lq list-calls volume | sort)" \
		"$(grep "^$dir/" <<<"$have" | xargs -n1 basename | sort)"
done
assert_eq "datapath names" "$(lq list-calls datapath | sort)" \
	"$(grep '^datapath/' <<<"$have" | xargs -n1 basename | sort)"
not lq list-calls plugin 2>/dev/null
not lq list-calls --features 2>/dev/null

note "every installed name dispatches to its call"
for dir in $(xargs -n1 dirname <<<"$have" | sort -u); do
	# shellcheck disable=SC2046
	python3 "$LQ_TESTS/lq_installed.py" dispatch "$LQ_XSS_ROOT/$dir" \
		$(grep "^$dir/" <<<"$have" | xargs -n1 basename)
done
note "a name outside the tables does not (the check can fail)"
fake=$PWD/fake/volume/org.xen.xapi.storage.fileqcow
mkdir -p "$fake"
ln -s "$LQ_BIN" "$fake/Volume.no_such_call"
not python3 "$LQ_TESTS/lq_installed.py" dispatch "$fake" Volume.no_such_call

note "each Plugin.query declares the tables' features"
vq=$(fcall Plugin.query '{"dbg":"t"}')
dq=$(xss call "$LQ_DATAPATH" Plugin.query '{"dbg":"t"}')
sorted='"\n".join(sorted(j["features"]))'
assert_eq "volume features" "$(lq list-calls --features volume | sort)" "$(json_get "$vq" "$sorted")"
assert_eq "datapath features" "$(lq list-calls --features datapath | sort)" \
	"$(json_get "$dq" "$sorted")"
dups='len(j["features"]) - len(set(j["features"]))'
assert_eq "volume duplicates" 0 "$(json_get "$vq" "$dups")"
assert_eq "datapath duplicates" 0 "$(json_get "$dq" "$dups")"

note "the capabilities xapi derives from scripts agree with the declared features"
python3 "$LQ_TESTS/lq_installed.py" capabilities "$LQ_FILEQCOW" "$vq"
echo "all installed calls match the tables"
