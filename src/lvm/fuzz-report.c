/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the lvs/vgs report reader and the failure
 * classifier, fed anything (as if LVM, or a VG's foreign contents, had
 * printed it).  Whatever the reader accepts holds only names and tags
 * that may reach a command line. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lvm/lvm-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct lvm_lv_list l;
	struct lvm_vg vg;
	struct lvm_pv pv;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lvm_report_lvs(text, false, "vg", &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			assert(lvm_lv_name_ok("vg", l.lv[i].name));
			assert(l.lv[i].extent_size > 0);
			assert(l.lv[i].active == (l.lv[i].attr[4] == 'a'));
		}
		lvm_lv_list_free(&l);
	}
	if (lvm_report_vg(text, false, &vg) == 0)
		assert(lvm_vg_name_ok(vg.name) && vg.free <= vg.size);
	if (lvm_report_pv(text, false, &pv) == 0)
		assert(lvm_dev_path_ok(pv.name) && (!pv.vg[0] || lvm_vg_name_ok(pv.vg)));
	(void)lvm_classify(5, text);
	free(text);
	return 0;
}
