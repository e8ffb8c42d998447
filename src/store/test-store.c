/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the directory store through the store_* wrappers: its
 * own name forms, refusal of anything else, quarantine round trips and
 * the bounded lock wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/store.h"

#define IMG "0b5c1e2d-1111-4222-8333-444455556666.qcow2"

struct fixture {
	char dir[64];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/lq-test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open("fileqcow", f->dir, &f->st), 0);
	assert_int_equal(store_sr_prepare(f->st, NULL), 0);
	assert_int_equal(store_lock(f->st, STORE_EXCLUSIVE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void touch(const struct fixture *f, const char *rel)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/%s", f->dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static bool exists(const struct fixture *f, const char *rel)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof p, "%s/%s", f->dir, rel);
	return lstat(p, &sb) == 0;
}

static void test_names(void **state)
{
	struct fixture *f = *state;

	assert_true(store_image_name_ok(f->st, IMG));
	assert_false(store_image_name_ok(f->st, "0B5C1E2D-1111-4222-8333-444455556666.qcow2"));
	assert_false(store_image_name_ok(f->st, "../../etc/passwd"));
	assert_false(store_image_name_ok(f->st, "0b5c1e2d-1111-4222-8333-444455556666"));
	assert_false(store_image_name_ok(f->st, IMG ".tmp"));
	assert_false(store_image_name_ok(f->st, ""));
}

static void test_paths_refused(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], image[64], link[PATH_MAX];
	uint64_t bytes;

	assert_int_equal(store_image_path(f->st, "../../etc/passwd", path, sizeof path), -1);
	assert_int_equal(store_node_alloc(f->st, "0B5C1E2D-1111-4222-8333-444455556666", 0, image,
					  sizeof image), -1);
	assert_int_equal(store_image_path(f->st, IMG, path, sizeof path), 0); /* absent: fine */
	snprintf(link, sizeof link, "%s/images/" IMG, f->dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(store_image_path(f->st, IMG, path, sizeof path), -1);
	assert_int_equal(store_image_size(f->st, IMG, &bytes), -1);
	assert_int_equal(store_node_remove(f->st, IMG), -1);
	assert_true(exists(f, "images/" IMG));
	assert_int_equal(store_quarantine(f->st, IMG, 5), -1);
	assert_true(exists(f, "images/" IMG));
}

struct seen {
	int n;
	char entry[128], image[64];
	time_t since;
};

static int note(const struct store_quarantined *q, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->entry, sizeof s->entry, "%s", q->entry);
	snprintf(s->image, sizeof s->image, "%s", q->image);
	s->since = q->since;
	return 0;
}

static void test_quarantine(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };

	touch(f, "images/" IMG);
	assert_int_equal(store_quarantine(f->st, IMG, 1234), 0);
	assert_false(exists(f, "images/" IMG));
	touch(f, "quarantine/notes.txt");
	touch(f, "quarantine/" IMG ".12x");
	assert_int_equal(store_quarantine_list(f->st, note, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry, IMG ".1234");
	assert_string_equal(s.image, IMG);
	assert_int_equal(s.since, 1234);
	assert_int_equal(store_quarantine_remove(f->st, "notes.txt"), -1);
	assert_int_equal(store_quarantine_restore(f->st, s.entry), 0);
	assert_true(exists(f, "images/" IMG));
	assert_int_equal(store_quarantine(f->st, IMG, 99), 0);
	assert_int_equal(store_quarantine_remove(f->st, IMG ".99"), 0);
	assert_false(exists(f, "quarantine/" IMG ".99"));
	assert_true(exists(f, "quarantine/notes.txt"));
}

static void test_destroy_refuses(void **state)
{
	struct fixture *f = *state;
	char sub[PATH_MAX];

	touch(f, "lvqcow-sr.meta");
	touch(f, "images/" IMG);
	snprintf(sub, sizeof sub, "%s/images/sub", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(store_sr_remove(f->st), -1);
	assert_true(exists(f, "lvqcow-sr.meta"));
	assert_true(exists(f, "images/" IMG));
	assert_int_equal(rmdir(sub), 0);
	touch(f, "lvqcow-sr.meta.tmp");
	touch(f, "lvqcow-sr.meta.tmp.42x");
	touch(f, "notes.txt");
	assert_int_equal(store_sr_remove(f->st), 0);
	assert_false(exists(f, "lvqcow-sr.meta.tmp"));
	assert_true(exists(f, "lvqcow-sr.meta.tmp.42x"));
	assert_true(exists(f, "notes.txt"));
	assert_false(exists(f, "lvqcow-sr.meta"));
	assert_false(exists(f, "images"));
	assert_false(exists(f, "lvqcow-sr.lock"));
}

static void test_document_not_followed(void **state)
{
	struct fixture *f = *state;
	char doc[PATH_MAX];
	int fd = -1;

	touch(f, "elsewhere.meta");
	snprintf(doc, sizeof doc, "%s/lvqcow-sr.meta", f->dir);
	assert_int_equal(symlink("elsewhere.meta", doc), 0);
	assert_false(store_sr_exists(f->st));
	assert_int_equal(store_meta_open(f->st, false, &fd), -1);
	assert_int_equal(store_meta_open(f->st, true, &fd), -1);
	assert_int_equal(fd, -1);
}

static void test_lock_bounded(void **state)
{
	struct fixture *f = *state;
	struct store *other, *third;
	struct timespec a, b;

	setenv("LVQCOW_LOCK_TIMEOUT_MS", "200", 1);
	assert_int_equal(store_open("fileqcow", f->dir, &other), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(store_lock(other, STORE_SHARED), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(err_errnum(), ETIMEDOUT);
	assert_non_null(strstr(err_last()->msg, f->dir));
	assert_true(b.tv_sec - a.tv_sec < 3);
	store_unlock(f->st);
	assert_int_equal(store_lock(other, STORE_SHARED), 0);
	assert_int_equal(store_open("fileqcow", f->dir, &third), 0);
	assert_int_equal(store_lock(third, STORE_SHARED), 0);     /* readers share */
	store_unlock(third);
	assert_int_equal(store_lock(third, STORE_EXCLUSIVE), -1); /* a writer waits */
	store_close(third);
	store_close(other);
	unsetenv("LVQCOW_LOCK_TIMEOUT_MS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_document_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
