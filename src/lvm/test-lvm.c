/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of src/lvm: name checks, command lines, report parsing
 * (well-formed, hostile and cut reports), failure classification and its
 * xapi errors, and what one real liblvm2cmd call leaves of the process
 * (umask, stdout, stdin, locale). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <locale.h>
#include <lvm2cmd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/xerr.h"
#include "../src/lvm/lvm-int.h"

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* ---- names ---------------------------------------------------------- */

static void test_vg_names(void **state __attribute__((unused)))
{
	char *max = repeat('v', LVM_NAME_MAX), *over = repeat('v', LVM_NAME_MAX + 1);

	assert_true(lvm_vg_name_ok("lvqcow-5f0c2b8e-0000-4000-8000-000000000001"));
	assert_true(lvm_vg_name_ok("a+b_c.d-e"));
	assert_true(lvm_vg_name_ok(max));
	assert_false(lvm_vg_name_ok(over));
	assert_false(lvm_vg_name_ok(NULL));
	assert_false(lvm_vg_name_ok(""));
	assert_false(lvm_vg_name_ok("."));
	assert_false(lvm_vg_name_ok(".."));
	assert_false(lvm_vg_name_ok("-vg"));
	assert_false(lvm_vg_name_ok("vg/x"));
	assert_false(lvm_vg_name_ok("vg x"));
	assert_false(lvm_vg_name_ok("vg'x"));
	assert_false(lvm_vg_name_ok("#vg"));
	assert_false(lvm_vg_name_ok("vg\n"));
	assert_false(lvm_vg_name_ok("v\xc3\xa9"));
	free(max);
	free(over);
}

static void test_lv_names(void **state __attribute__((unused)))
{
	char *lv120 = repeat('l', 120), *lv121 = repeat('l', 121);

	assert_true(lvm_lv_name_ok("vg", "n-5f0c2b8e-0000-4000-8000-000000000001"));
	assert_true(lvm_lv_name_ok("vgx", lv121));       /* 3 + 121 = 124 */
	assert_false(lvm_lv_name_ok("vgxy", lv121));     /* 125: LVM's vg/lv limit */
	assert_true(lvm_lv_name_ok("vgxy", lv120));
	assert_false(lvm_lv_name_ok("bad vg", "lv"));
	assert_false(lvm_lv_name_ok("vg", "snapshot1"));
	assert_false(lvm_lv_name_ok("vg", "pvmove0"));
	assert_false(lvm_lv_name_ok("vg", "x_tmeta"));
	assert_false(lvm_lv_name_ok("vg", "a_rimage_0"));
	assert_false(lvm_lv_name_ok("vg", "a/b"));
	assert_false(lvm_lv_name_ok("vg", "-an"));
	assert_false(lvm_lv_name_ok("vg", NULL));
	free(lv120);
	free(lv121);
}

static void test_tags_and_devices(void **state __attribute__((unused)))
{
	char *long_tag = repeat('t', LVM_TAG_MAX + 1);

	assert_true(lvm_tag_ok("lvqcow"));
	assert_true(lvm_tag_ok("sr=5f0c2b8e-0000-4000-8000-000000000001"));
	assert_true(lvm_tag_ok("a/b:c+d.e_f"));
	assert_false(lvm_tag_ok("#hash"));
	assert_false(lvm_tag_ok("a&b"));
	assert_false(lvm_tag_ok("a!b"));
	assert_false(lvm_tag_ok("a,b"));
	assert_false(lvm_tag_ok("has space"));
	assert_false(lvm_tag_ok("-opt"));
	assert_false(lvm_tag_ok(""));
	assert_false(lvm_tag_ok(long_tag));
	free(long_tag);

	assert_true(lvm_dev_path_ok("/dev/loop0"));
	assert_true(lvm_dev_path_ok("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"));
	assert_true(lvm_dev_path_ok("/dev/disk/by-path/pci-0000:00:1f.2-ata-1"));
	assert_false(lvm_dev_path_ok("/dev/"));
	assert_false(lvm_dev_path_ok("/dev"));
	assert_false(lvm_dev_path_ok("/etc/passwd"));
	assert_false(lvm_dev_path_ok("/dev/../etc/passwd"));
	assert_false(lvm_dev_path_ok("/dev/./sda"));
	assert_false(lvm_dev_path_ok("/dev//sda"));
	assert_false(lvm_dev_path_ok("/dev/sda/"));
	assert_false(lvm_dev_path_ok("/dev/sda a"));
	assert_false(lvm_dev_path_ok("/dev/sda'"));
	assert_false(lvm_dev_path_ok("/dev/#x"));
	assert_false(lvm_dev_path_ok("dev/sda"));
	assert_false(lvm_dev_path_ok(NULL));
}

/* ---- command lines -------------------------------------------------- */

static void test_cmd_line(void **state __attribute__((unused)))
{
	struct lvm_cmd c;
	char line[256];

	lvm_cmd_init(&c, "lvcreate");
	lvm_cmd_addf(&c, "-n");
	lvm_cmd_addf(&c, "%s", "lv1");
	lvm_cmd_addf(&c, "%llub", 512ULL);
	lvm_cmd_add_quoted(&c, "global{use_aio=0} activation{read_only_volume_list=[\"v/l\"]}");
	lvm_cmd_addf(&c, "%s/%s", "vg", "lv1");
	assert_int_equal(lvm_cmd_line(&c, line, sizeof line), 0);
	assert_string_equal(line, "lvcreate -n lv1 512b 'global{use_aio=0} "
				  "activation{read_only_volume_list=[\"v/l\"]}' vg/lv1");
	assert_int_equal(lvm_cmd_line(&c, line, 10), -1);

	assert_true(lvm_token_ok("global{use_aio=0}"));
	assert_false(lvm_token_ok("#comment"));
	assert_false(lvm_token_ok("a b"));
	assert_false(lvm_token_ok("a\tb"));
	assert_false(lvm_token_ok("'q'"));
	assert_false(lvm_token_ok("\"q\""));
	assert_false(lvm_token_ok(""));
}

/* ---- reports -------------------------------------------------------- */

/* As LVM 2.03.16 prints it through the callback, one message per line. */
static const char lvs_ok[] =
	"{\n"
	"    \"report\": [\n"
	"        {\n"
	"            \"lv\": [\n"
	"                {\"lv_name\":\"lv1\", \"lv_size\":\"8388608\", \"vg_extent_size\":\"4194304\", "
	"\"lv_attr\":\"-wi-ao----\", \"lv_tags\":\"lq,sr=1\"},\n"
	"                {\"lv_name\":\"lv2\", \"lv_size\":\"18446744073709551615\", "
	"\"vg_extent_size\":\"4194304\", \"lv_attr\":\"-wi-------\", \"lv_tags\":\"\"}\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static void test_report_lvs(void **state __attribute__((unused)))
{
	struct lvm_lv_list l;

	assert_int_equal(lvm_report_lvs(lvs_ok, false, "vg", &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.lv[0].name, "lv1");
	assert_true(l.lv[0].size == 8388608);
	assert_true(l.lv[0].extent_size == 4194304);
	assert_true(l.lv[0].active && l.lv[0].open);
	assert_string_equal(l.lv[0].tags, "lq,sr=1");
	assert_true(l.lv[1].size == UINT64_MAX);
	assert_false(l.lv[1].active || l.lv[1].open);
	lvm_lv_list_free(&l);

	assert_int_equal(lvm_report_lvs("{\"report\":[{\"lv\":[]}]}", false, "vg", &l), 0);
	assert_int_equal(l.n, 0);
	/* LVM >= 2.03.26 adds a "log" member to JSON reports. */
	assert_int_equal(lvm_report_lvs("{\"report\":[{\"lv\":[]}],\"log\":[{\"log_seq_num\":\"1\"}]}",
					false, "vg", &l), 0);
}

static const char vgs_ok[] =
	"{\"report\":[{\"vg\":[{\"vg_name\":\"vgq\", \"vg_size\":\"2134900736\", "
	"\"vg_free\":\"2126512128\", \"vg_extent_size\":\"4194304\", \"lv_count\":\"1\", "
	"\"vg_mda_size\":\"9433088\", \"vg_mda_free\":\"4715008\", \"vg_tags\":\"lq\"}]}]}";

static void test_report_vg(void **state __attribute__((unused)))
{
	struct lvm_vg vg;

	assert_int_equal(lvm_report_vg(vgs_ok, false, &vg), 0);
	assert_string_equal(vg.name, "vgq");
	assert_true(vg.size == 2134900736 && vg.free == 2126512128);
	assert_true(vg.extent_size == 4194304 && vg.lv_count == 1);
	assert_true(vg.mda_size == 9433088 && vg.mda_free == 4715008);
	assert_string_equal(vg.tags, "lq");
	/* two VGs where one was asked for */
	assert_int_equal(lvm_report_vg("{\"report\":[{\"vg\":[]}]}", false, &vg), -1);
	/* free above size */
	char bad[sizeof vgs_ok + 8];
	snprintf(bad, sizeof bad, "%s", vgs_ok);
	memcpy(strstr(bad, "2126512128"), "3126512128", 10);
	assert_int_equal(lvm_report_vg(bad, false, &vg), -1);
	assert_non_null(strstr(err_last()->msg, "out of range"));
}

static const char *const lv_row_fmt =
	"{\"report\":[{\"lv\":[{\"lv_name\":%s, \"lv_size\":%s, \"vg_extent_size\":\"4194304\", "
	"\"lv_attr\":%s, \"lv_tags\":%s}]}]}";

static int parse_row(const char *name, const char *size, const char *attr, const char *tags)
{
	char buf[2048];
	struct lvm_lv_list l;

	snprintf(buf, sizeof buf, lv_row_fmt, name, size, attr, tags);
	int rc = lvm_report_lvs(buf, false, "vg", &l);
	lvm_lv_list_free(&l);
	return rc;
}

static void test_report_pv(void **state __attribute__((unused)))
{
	struct lvm_pv pv;

	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/loop3\","
				       "\"vg_name\":\"lvqcow-x\",\"pv_size\":\"1048576\"}]}]}",
				       false, &pv), 0);
	assert_string_equal(pv.name, "/dev/loop3");
	assert_string_equal(pv.vg, "lvqcow-x");
	assert_int_equal(pv.size, 1048576);
	/* A PV in no VG. */
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/sdb\","
				       "\"vg_name\":\"\",\"pv_size\":\"0\"}]}]}", false, &pv), 0);
	assert_string_equal(pv.vg, "");
	/* Refused: two rows, none, a device name of odd form, a bad VG
	 * name, a size with a unit, a cut line. */
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[]}]}", false, &pv), -1);
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/a\",\"vg_name\":"
				       "\"\",\"pv_size\":\"1\"},{\"pv_name\":\"/dev/b\",\"vg_name\":"
				       "\"\",\"pv_size\":\"1\"}]}]}", false, &pv), -1);
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/../x\","
				       "\"vg_name\":\"\",\"pv_size\":\"1\"}]}]}", false, &pv), -1);
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/a\","
				       "\"vg_name\":\"-vg\",\"pv_size\":\"1\"}]}]}", false, &pv), -1);
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/a\","
				       "\"vg_name\":\"vg\",\"pv_size\":\"1B\"}]}]}", false, &pv), -1);
	assert_int_equal(lvm_report_pv("{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/a\","
				       "\"vg_name\":\"vg\",\"pv_size\":\"1\"}]}]}", true, &pv), -1);
}

static void test_report_hostile(void **state __attribute__((unused)))
{
	struct lvm_lv_list l;
	static const char *const docs[] = {
		"",
		"not json",
		"{\"report\":[{\"lv\":[]}]} trailing",
		"{\"report\":[{\"lv\":[]}]}{}",
		"WARNING: locking_type (0) is deprecated\n{\"report\":[{\"lv\":[]}]}",
		"{\"report\":[{\"lv\":[]}]",
		"{\"report\":{}}",
		"{\"report\":[]}",
		"{\"report\":[{\"lv\":[]},{\"lv\":[]}]}",
		"{\"report\":[{\"vg\":[]}]}",
		"{\"report\":[{\"lv\":{}}]}",
		"{\"report\":[{\"lv\":[1]}]}",
		"{\"report\":[{\"lv\":[{}]}]}",
		"[]",
		"{\"report\":[{\"lv\":[]}],}",
	};

	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		err_clear();
		assert_int_equal(lvm_report_lvs(docs[i], false, "vg", &l), -1);
		assert_int_equal(l.n, 0);
		assert_null(l.lv);
		assert_non_null(strstr(err_last()->msg, "lvm report"));
	}
	assert_int_equal(lvm_report_lvs(NULL, false, "vg", &l), -1);
	/* a line that reached 4095 bytes may have been cut: refused even
	 * when what is left happens to parse */
	assert_int_equal(lvm_report_lvs(lvs_ok, true, "vg", &l), -1);
	assert_non_null(strstr(err_last()->msg, "4095"));

	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "\"\""), 0);
	assert_int_equal(parse_row("\"lv1\"", "512", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"-512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"12a\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\" 12\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"8.00m\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"18446744073709551616\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"000000000000000000000512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv/1\"", "\"512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv\\u00001\"", "\"512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"snapshot0\"", "\"512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("null", "\"512\"", "\"-wi-------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------------------\"", "\"\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "\"a,,b\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "\",a\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "\"a,\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "\"#x\""), -1);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", "[\"a\"]"), -1);

	/* tags longer than the whole-object cap */
	char *tags = repeat('t', LVM_TAGS_MAX + 10);
	char quoted[LVM_TAGS_MAX + 16];
	snprintf(quoted, sizeof quoted, "\"%s\"", tags);
	assert_int_equal(parse_row("\"lv1\"", "\"512\"", "\"-wi-------\"", quoted), -1);
	free(tags);
}

/* ---- classification ------------------------------------------------- */

struct case_ {
	int rc;
	const char *text;
	enum lvm_class cls;
};

static void test_classify(void **state __attribute__((unused)))
{
	/* Messages as LVM 2.03.16 prints them. */
	static const struct case_ cases[] = {
		{ 5, "Logical Volume \"dup\" already exists in volume group \"vg\"\n", LVM_EXISTS },
		{ 5, "Failed to find logical volume \"vg/nonexist\"\n", LVM_NOT_FOUND },
		{ 5, "Volume group \"vgx\" not found\nCannot process volume group vgx\n", LVM_NOT_FOUND },
		{ 5, "Volume group \"vg\" has insufficient free space (5100 extents): 268435456 required.\n",
		  LVM_NO_SPACE },
		{ 5, "Insufficient suitable allocatable extents for logical volume lv1: 10 more required\n",
		  LVM_NO_SPACE },
		{ 5, "VG vgs 1503 metadata on /dev/loop1 (521679 bytes) exceeds maximum metadata size "
		     "(521472 bytes)\nFailed to write VG vgs.\n", LVM_META_FULL },
		{ 5, "LV locked by other host: vgsh/img1\n", LVM_LOCKED },
		{ 5, "VG vgsh lock failed: held by other host.\n", LVM_LOCKED },
		{ 5, "Giving up waiting for lock.\nCan't get lock for vg\n", LVM_LOCKED },
		{ 5, "Can't open /dev/sdb exclusively.  Mounted filesystem?\n", LVM_DEVICE },
		{ 5, "Device /dev/sdb excluded by a filter.\n", LVM_DEVICE },
		{ 5, "WARNING: ext4 signature detected on /dev/loop0 at offset 1080. Wipe it? [y/n]: [n]\n"
		     "  Aborted wiping of ext4.\n", LVM_DEVICE },
		{ 5, "Physical volume '/dev/loop0' is already in volume group 'other'\n", LVM_DEVICE },
		{ 5, "Can't initialize physical volume \"/dev/loop0\" of volume group \"vg\" without -ff\n",
		  LVM_DEVICE },
		{ 5, "Cannot use /dev/loop9: device not found\n", LVM_DEVICE },
		{ 5, "New size given (1 extents) not larger than existing size (2 extents)\n",
		  LVM_NOT_LARGER },
		{ 5, "New size (2 extents) matches existing size (2 extents).\n", LVM_NOT_LARGER },
		{ 5, "Volume group \"vgq\" not removed\n", LVM_OTHER },
		{ 5, "", LVM_OTHER },
		{ 5, NULL, LVM_OTHER },
		{ 3, "Logical volume name \"my lv\" is invalid.\n", LVM_INVALID },
		{ 3, "Invalid argument for --addtag: has space\n", LVM_INVALID },
		{ 2, NULL, LVM_INVALID },
		{ 4, "Failed to initialize\n", LVM_OTHER },
		{ 1, "Failed to find logical volume", LVM_OK },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(lvm_classify(cases[i].rc, cases[i].text), cases[i].cls);
}

static void check_fail(enum lvm_class c, int errnum, const char *code)
{
	err_clear();
	assert_int_equal(lvm_fail(c, "lvcreate vg", "first\nsecond\n"), -1);
	assert_int_equal(err_last()->errnum, errnum);
	assert_string_equal(err_last()->code, code);
	assert_non_null(strstr(err_last()->msg, "lvm lvcreate vg: "));
	assert_non_null(strstr(err_last()->msg, "first; second"));
	assert_null(strchr(err_last()->msg, '\n'));
}

static void test_fail_codes(void **state __attribute__((unused)))
{
	check_fail(LVM_EXISTS, EEXIST, XERR_LVM_EXISTS);
	check_fail(LVM_NOT_FOUND, ENOENT, XERR_LVM_NOT_FOUND);
	check_fail(LVM_NO_SPACE, ENOSPC, XERR_SR_NO_SPACE);
	check_fail(LVM_META_FULL, ENOSPC, XERR_LVM_META_FULL);
	check_fail(LVM_LOCKED, EBUSY, XERR_LVM_LOCKED);
	check_fail(LVM_DEVICE, EINVAL, XERR_LVM_DEVICE);
	check_fail(LVM_INVALID, EINVAL, "");
	check_fail(LVM_OTHER, EIO, "");
	err_clear();
	lvm_fail(LVM_OTHER, "lvs vg", NULL);
	assert_non_null(strstr(err_last()->msg, "no message"));
}

/* Knowing the LV's size, a resize runs no report, and no command where
 * the size rounded up to the extent is the LV's (the calls below name a
 * VG that does not exist: 0 proves no command ran).  A grow always runs
 * one, decided from the size alone. */
static void test_resize_known(void **state __attribute__((unused)))
{
	const uint64_t mib = 1 << 20;

	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "n-x", 5 * mib, 8 * mib, 4 * mib), 0);
	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "n-x", 8 * mib, 8 * mib, 4 * mib), 0);
	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "n-x", 1, 4 * mib, 4 * mib), 0);
	err_clear();
	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "n-x", 8 * mib + 1, 8 * mib, 4 * mib),
			 -1);
	assert_int_equal(lvm_last_class(), LVM_NOT_FOUND);
	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "n-x", mib, 8 * mib, 0), -1);
	assert_int_equal(lvm_lv_resize_known("lvqcow-none", "bad name", mib, 8 * mib, 4 * mib), -1);
}

/* ---- the process after a real call ---------------------------------- */

static void same_file(int fd, const struct stat *before)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_dev == before->st_dev && st.st_ino == before->st_ino);
}

/* lvm2_init reopens stdin and stdout and sets umask 0077 and the
 * environment's locale: after a call, what the process prints to stdout
 * must still reach the file that was stdout, intact and in order, and
 * the rest must be as it was. */
static void test_process_kept(void **state __attribute__((unused)))
{
	char path[] = "/tmp/lq-test-lvm.XXXXXX", buf[256] = "", version[128];
	struct stat out_st, in_st;
	int tmp = mkstemp(path), saved = dup(1);

	assert_true(tmp >= 0 && saved >= 0);
	fflush(stdout);
	dup2(tmp, 1);
	assert_int_equal(fstat(1, &out_st), 0);
	assert_int_equal(fstat(0, &in_st), 0);
	umask(022);
	setlocale(LC_ALL, "C");
	fputs("{\"before\":", stdout);          /* left in stdout's buffer */
	int rc = lvm_version(version, sizeof version);
	fputs("1}\n", stdout);
	fflush(stdout);
	mode_t um = umask(022);
	char locale[64];
	snprintf(locale, sizeof locale, "%s", setlocale(LC_ALL, NULL));
	same_file(1, &out_st);
	same_file(0, &in_st);
	dup2(saved, 1);
	close(saved);

	assert_int_equal(rc, 0);
	assert_non_null(strstr(version, "LVM version:"));
	assert_int_equal(um, 022);
	assert_string_equal(locale, "C");
	assert_int_equal(fileno(stdout), 1);
	assert_true(pread(tmp, buf, sizeof buf - 1, 0) > 0);
	assert_string_equal(buf, "{\"before\":1}\n");
	close(tmp);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vg_names),
		cmocka_unit_test(test_lv_names),
		cmocka_unit_test(test_tags_and_devices),
		cmocka_unit_test(test_resize_known),
		cmocka_unit_test(test_cmd_line),
		cmocka_unit_test(test_report_lvs),
		cmocka_unit_test(test_report_vg),
		cmocka_unit_test(test_report_pv),
		cmocka_unit_test(test_report_hostile),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_fail_codes),
		cmocka_unit_test(test_process_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
