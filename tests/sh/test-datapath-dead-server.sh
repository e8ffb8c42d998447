#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A server killed under an attached volume: the next activate says so
# (attached, server not running), not that the volume is not attached;
# deactivate succeeds and logs what may be lost; a volume never
# attached is still refused as not attached; the next attach starts a
# new server and activate works again.
. "$LQ_TOP/tests/lib.sh"
at_exit kill_servers

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((16 << 20)))
VU2=$(xe vdi-create sr-uuid="$SRU" name-label=other virtual-size=$((16 << 20)))
dir=$(attached_dir "$VU")
at_exit xe vdi-detach uuid="$VU" domain=0
key=$(basename "$dir")
vuri=$(json_get "$(fcall Volume.stat "{\"dbg\":\"t\",\"sr\":\"$(realpath sr)\",\"key\":\"$key\"}")" 'j["uri"][0]')
activate() { call "$LQ_DATAPATH" Datapath.activate "{\"dbg\":\"t\",\"uri\":\"$1\",\"domain\":\"0\"}"; }
activate "$vuri" >/dev/null || die "activate with a running server"

note "the server dies: the next activate reports it"
kill -9 "$(cat "$dir/pid")"
for ((i = 0; i < 100; i++)); do [ -z "$(pgrep -f -- "--control $dir/ctl( |\$)")" ] && break; sleep 0.1; done
rc=0
out=$(activate "$vuri") || rc=$?
[ "$rc" != 0 ] || die "activate succeeded on a dead server: $out"
grep -q "is attached but its NBD server is not running" <<<"$out" || die "activate: $out"

note "deactivate still succeeds (the domain is going away) and says what may be lost"
out=$(call "$LQ_DATAPATH" Datapath.deactivate "{\"dbg\":\"t\",\"uri\":\"$vuri\",\"domain\":\"0\"}" 2>deact.err) ||
	die "deactivate on a dead server failed: $out"
grep -q "is not running; writes the domain did not flush" deact.err || die "deactivate logged: $(cat deact.err)"

note "a volume never attached is not attached"
vuri2=${vuri%/*}/$(json_get "$(fcall SR.ls "{\"dbg\":\"t\",\"sr\":\"$(realpath sr)\"}")" \
	"[v['key'] for v in j if v['key'] != '$key'][0]")
rc=0
out=$(activate "$vuri2") || rc=$?
[ "$rc" != 0 ] || die "activate of a volume never attached succeeded"
grep -q 'is not attached"' <<<"$out" || die "activate: $out"

note "the next attach starts a new server; activate works"
attached_dir "$VU" >/dev/null
activate "$vuri" >/dev/null || die "activate after a new attach"
echo ok
