#!/bin/bash
# Crash leftovers and damaged metadata: orphan images (a create that died
# before its commit, a destroy that died after it) are swept on
# SR.attach; a torn or corrupt document is reported on every call and
# never used or rewritten; a leftover temporary document is ignored.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)
V=$(xe vdi-create sr-uuid="$SRU" name-label=keep virtual-size=4194304)
keep_img=$(ls sr/images)

note "orphans are removed by SR.attach, referenced images are kept"
orphan=$(python3 -c 'import uuid; print(uuid.uuid4())').qcow2
cp "sr/images/$keep_img" "sr/images/$orphan"
xe pbd-unplug uuid="$SRU"
xe pbd-plug uuid="$SRU"
assert_eq "after sweep" "$keep_img" "$(ls sr/images)"
assert_eq "volume kept" keep "$(xe vdi-param-get uuid="$V" param-name=name-label)"

note "a leftover temporary document is ignored"
echo "half written" > "sr/lvqcow-sr.xml.tmp.12345"
xe vdi-param-set uuid="$V" name-label=still-fine
assert_eq "name" still-fine "$(xe vdi-param-get uuid="$V" param-name=name-label)"
rm sr/lvqcow-sr.xml.tmp.12345

note "a torn document is detected, reported and left alone"
cp sr/lvqcow-sr.xml good.xml
size=$(stat -c %s good.xml)
for cut in 0 $((size / 2)) $((size - 1)); do
	head -c "$cut" good.xml > sr/lvqcow-sr.xml
	before=$(sr_dump sr)
	for call in "SR.stat {\"dbg\":\"t\",\"sr\":\"$sr\"}" \
		"Volume.set {\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$V\",\"k\":\"a\",\"v\":\"b\"}" \
		"Volume.create {\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"n\",\"description\":\"\",\"size\":1,\"sharable\":false}" \
		"SR.destroy {\"dbg\":\"t\",\"sr\":\"$sr\"}"; do
		e=$(fcall ${call%% *} "${call#* }" || true)
		assert_eq "corrupt ($cut bytes) ${call%% *}" Metadata_corrupt "$(json_get "$e" 'j["params"][0]')"
	done
	e=$(fcall SR.attach "{\"dbg\":\"t\",\"configuration\":{\"path\":\"$sr\"}}" || true)
	assert_eq "attach corrupt" Metadata_corrupt "$(json_get "$e" 'j["params"][0]')"
	assert_eq "unchanged after $cut" "$before" "$(sr_dump sr)"
done

note "a flipped byte is detected"
python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[len(d)//3]^=1; open(sys.argv[2],"wb").write(d)' good.xml sr/lvqcow-sr.xml
e=$(fcall SR.stat "{\"dbg\":\"t\",\"sr\":\"$sr\"}" || true)
assert_eq "bitflip" Metadata_corrupt "$(json_get "$e" 'j["params"][0]')"

note "restored, the SR works again"
cp good.xml sr/lvqcow-sr.xml
assert_eq "restored" still-fine "$(xe vdi-param-get uuid="$V" param-name=name-label)"
qcheck "sr/images/$keep_img"
echo OK
