#!/bin/bash
# Every SR, Volume and Plugin call of the fileqcow plugin through the
# xapi-storage-script mock, which checks each result against the IDL.
source "$LQ_TOP/tests/lib.sh"

note "Plugin.Query / Plugin.query / diagnostics / ls"
q=$(fcall Plugin.Query '{"dbg":"t"}')
assert_eq plugin fileqcow "$(json_get "$q" 'j["plugin"]')"
assert_eq api 5.0 "$(json_get "$q" 'j["required_api_version"]')"
fcall plugin.query '{"dbg":"t"}' >/dev/null
caps=$(xe plugin-query type=fileqcow)
for c in SR_ATTACH SR_CREATE SR_DELETE SR_DETACH SR_PROBE SR_SCAN SR_UPDATE VDI_CREATE VDI_DELETE VDI_UPDATE; do
	json_get "$caps" 'j["capabilities"]' | grep -q "\"$c\"" || die "capability $c missing"
done
json_get "$caps" 'j["capabilities"]' | grep -q VDI_SNAPSHOT && die "VDI_SNAPSHOT advertised"
assert_eq "ls empty" "[]" "$(fcall Plugin.ls '{"dbg":"t"}')"

note "SR.probe on an empty directory: a configuration to create from"
mkdir sr
p=$(fcall SR.probe "{\"dbg\":\"t\",\"configuration\":{\"path\":\"$PWD/sr\"}}")
assert_eq "probe empty" "[{\"complete\": true, \"configuration\": {\"path\": \"$PWD/sr\"}, \"extra_info\": {}}]" "$p"

note "SR.create returns the device-config SR.attach needs"
U=$(python3 -c 'import uuid; print(uuid.uuid4())')
cfg=$(fcall SR.create "{\"dbg\":\"t\",\"uuid\":\"$U\",\"configuration\":{\"path\":\"$PWD/sr/../sr\"},\"name\":\"n\",\"description\":\"d\"}")
assert_eq "config path" "$PWD/sr" "$(json_get "$cfg" 'j["path"]')"
assert_eq "config uuid" "$U" "$(json_get "$cfg" 'j["sr_uuid"]')"
test -f sr/lvqcow-sr.xml || die "no metadata document"
not fcall SR.create "{\"dbg\":\"t\",\"uuid\":\"$U\",\"configuration\":{\"path\":\"$PWD/sr\"},\"name\":\"n\",\"description\":\"d\"}" >/dev/null

note "calls on an SR that is not attached"
e=$(fcall SR.stat "{\"dbg\":\"t\",\"sr\":\"$PWD/sr\"}" || true)
assert_eq "not attached" '["Sr_not_attached", "'"$PWD"'/sr"]' "$(json_get "$e" 'j["params"]')"
assert_eq "code" SR_BACKEND_FAILURE "$(json_get "$e" 'j["code"]')"

note "SR.attach, SR.stat, Plugin.ls"
sr=$(fcall SR.attach "{\"dbg\":\"t\",\"configuration\":$cfg}")
assert_eq "sr string" "\"$PWD/sr\"" "$sr"
st=$(fcall SR.stat "{\"dbg\":\"t\",\"sr\":$sr}")
assert_eq "stat uuid" "$U" "$(json_get "$st" 'j["uuid"]')"
assert_eq "stat health" '["Healthy", ""]' "$(json_get "$st" 'j["health"]')"
[ "$(json_get "$st" 'j["total_space"] > 0 and 0 <= j["free_space"] <= j["total_space"]')" = true ] || die "space: $st"
assert_eq "Plugin.ls" "[$sr]" "$(fcall Plugin.ls '{"dbg":"t"}' | tr -d ' ')"
fcall Plugin.diagnostics '{"dbg":"t"}' | grep -q "$U" || die "diagnostics lacks the SR"
p=$(fcall SR.probe "{\"dbg\":\"t\",\"configuration\":{\"path\":\"$PWD/sr\"}}")
assert_eq "probe uuid" "$U" "$(json_get "$p" 'j[0]["configuration"]["sr_uuid"]')"
assert_eq "probe stat" "$U" "$(json_get "$p" 'j[0]["sr"]["uuid"]')"
not fcall SR.attach "{\"dbg\":\"t\",\"configuration\":{\"path\":\"$PWD/sr\",\"sr_uuid\":\"$(python3 -c 'import uuid; print(uuid.uuid4())')\"}}" >/dev/null

note "SR.set_name / SR.set_description"
fcall SR.set_name "{\"dbg\":\"t\",\"sr\":$sr,\"new_name\":\"renamed\"}" >/dev/null
fcall SR.set_description "{\"dbg\":\"t\",\"sr\":$sr,\"new_description\":\"described\"}" >/dev/null
st=$(fcall SR.stat "{\"dbg\":\"t\",\"sr\":$sr}")
assert_eq name renamed "$(json_get "$st" 'j["name"]')"
assert_eq description described "$(json_get "$st" 'j["description"]')"

note "Volume.create: a valid empty qcow2 v3 with the size rounded up to 512"
v=$(fcall Volume.create "{\"dbg\":\"t\",\"sr\":$sr,\"name\":\"v1\",\"description\":\"d1\",\"size\":1000000,\"sharable\":false}")
key=$(json_get "$v" 'j["key"]')
assert_eq vsize 1000448 "$(json_get "$v" 'j["virtual_size"]')"
assert_eq uri "[\"lvqcow://fileqcow$PWD/sr/$key\"]" "$(json_get "$v" 'j["uri"]')"
assert_eq rw true "$(json_get "$v" 'j["read_write"]')"
[ "$(json_get "$v" 'j["physical_utilisation"] > 0')" = true ] || die "physical_utilisation: $v"
img=$(ls sr/images/*.qcow2)
qcheck "$img"
info=$(qemu-img info --output=json "$img")
assert_eq "qemu vsize" 1000448 "$(json_get "$info" 'j["virtual-size"]')"
assert_eq "qemu compat" 1.1 "$(json_get "$info" 'j["format-specific"]["data"]["compat"]')"
v0=$(fcall Volume.create "{\"dbg\":\"t\",\"sr\":$sr,\"name\":\"zero\",\"description\":\"\",\"size\":0,\"sharable\":true}")
assert_eq "size 0" 0 "$(json_get "$v0" 'j["virtual_size"]')"
assert_eq sharable true "$(json_get "$v0" 'j["sharable"]')"
big=$(fcall Volume.create "{\"dbg\":\"t\",\"sr\":$sr,\"name\":\"max\",\"description\":\"\",\"size\":$((16 << 40)),\"sharable\":false}")
assert_eq "max size" $((16 << 40)) "$(json_get "$big" 'j["virtual_size"]')"

note "Volume.stat / set / unset / set_name / set_description"
k="{\"dbg\":\"t\",\"sr\":$sr,\"key\":\"$key\""
fcall Volume.set "$k,\"k\":\"vdi-type\",\"v\":\"user\"}" >/dev/null
fcall Volume.set "$k,\"k\":\"other\",\"v\":\"x\"}" >/dev/null
fcall Volume.set "$k,\"k\":\"other\",\"v\":\"y\"}" >/dev/null
fcall Volume.unset "$k,\"k\":\"vdi-type\"}" >/dev/null
fcall Volume.unset "$k,\"k\":\"never-set\"}" >/dev/null
fcall Volume.set_name "$k,\"new_name\":\"v1b\"}" >/dev/null
fcall Volume.set_description "$k,\"new_description\":\"d1b\"}" >/dev/null
s=$(fcall Volume.stat "$k}")
assert_eq keys '{"other": "y"}' "$(json_get "$s" 'j["keys"]')"
assert_eq vname v1b "$(json_get "$s" 'j["name"]')"
assert_eq vdesc d1b "$(json_get "$s" 'j["description"]')"
assert_eq "ls count" 3 "$(json_get "$(fcall SR.ls "{\"dbg\":\"t\",\"sr\":$sr}")" 'len(j)')"

note "SR.destroy refuses while volumes exist"
e=$(fcall SR.destroy "{\"dbg\":\"t\",\"sr\":$sr}" || true)
assert_eq "not empty" SR_NOT_EMPTY "$(json_get "$e" 'j["code"]')"

note "Volume.destroy removes the volume and its image"
for kk in $key $(json_get "$v0" 'j["key"]') $(json_get "$big" 'j["key"]'); do
	fcall Volume.destroy "{\"dbg\":\"t\",\"sr\":$sr,\"key\":\"$kk\"}" >/dev/null
done
assert_eq "images gone" "" "$(ls sr/images)"
e=$(fcall Volume.stat "$k}" || true)
assert_eq "gone" "[\"Volume_does_not_exist\", \"$key\"]" "$(json_get "$e" 'j["params"]')"

note "SR.detach, then calls fail; attach again; SR.destroy"
fcall SR.detach "{\"dbg\":\"t\",\"sr\":$sr}" >/dev/null
e=$(fcall SR.ls "{\"dbg\":\"t\",\"sr\":$sr}" || true)
assert_eq "detached" Sr_not_attached "$(json_get "$e" 'j["params"][0]')"
fcall SR.attach "{\"dbg\":\"t\",\"configuration\":$cfg}" >/dev/null
fcall SR.destroy "{\"dbg\":\"t\",\"sr\":$sr}" >/dev/null
assert_eq "SR dir empty" "" "$(ls -A sr)"
e=$(fcall SR.stat "{\"dbg\":\"t\",\"sr\":$sr}" || true)
assert_eq "destroyed" Sr_not_attached "$(json_get "$e" 'j["params"][0]')"
e=$(fcall SR.attach "{\"dbg\":\"t\",\"configuration\":$cfg}" || true)
assert_eq "no SR" SR_does_not_exist "$(json_get "$e" 'j["params"][0]')"
assert_eq "ls empty again" "[]" "$(fcall Plugin.ls '{"dbg":"t"}')"
echo OK
