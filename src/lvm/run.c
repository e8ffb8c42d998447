/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/run: the process's one liblvm2cmd handle, and one command through it.
 *
 * liblvm2cmd is opened with dlopen on first use, so that a process that
 * never runs an LVM command (the NBD server) never maps it, and the
 * binary does not need it to start.  Only one handle may live in a
 * process (a second one corrupts the first when either is closed), so it
 * is created once and kept until the process exits.
 *
 * What lvm2_init and lvm2_run do to the process, and how it is undone
 * (docs/lvm.md): init closes and reopens stdin and stdout on their file
 * descriptors with LVM's own buffers, and any command may prompt on
 * stdin or print to stdout.  Around init and every command, fds 0 and 1
 * point at /dev/null (a prompt reads end-of-file and answers no; a stray
 * print is lost), then get their old files back, so the FILE that
 * stdout now is writes where stdout always wrote.  The umask (LVM sets
 * 0077) and the locale (LVM sets the environment's) are put back too.
 *
 * Output arrives through one process-wide log callback, one message per
 * call, formatted into a 4096-byte buffer; debug levels are dropped;
 * level 4 carries both report lines (from the report code, told apart by
 * the source file) and warnings; errors are level 3 and below. */
#include <assert.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <locale.h>
#include <lvm2cmd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lvm-int.h"

#ifndef LVM2CMD_SONAME
#define LVM2CMD_SONAME "liblvm2cmd.so.2.03"
#endif

#define LINE_MAX_CMD 4096
#define TEXT_CAP (64 * 1024)   /* error and info text kept per command */

struct lib {
	void *dl;
	void *handle;
	void *(*init)(void);
	int (*run)(void *, const char *);
	void (*log_fn)(lvm2_log_fn_t);
};

static pthread_mutex_t lvm_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct lib lib;
static struct lvm_output *capture;   /* the running command's, under lvm_mutex */
static _Thread_local enum lvm_class last_class;   /* like the err record */

/* ---- capture ------------------------------------------------------ */

static void text_add(char **buf, size_t *len, const char *msg, size_t cap)
{
	size_t n = strlen(msg);

	if (cap && *len + n + 1 > cap)
		return;
	char *p = realloc(*buf, *len + n + 2);
	if (!p)
		return;   /* the command's result tells; the text is best effort */
	memcpy(p + *len, msg, n);
	p[*len + n] = '\n';
	p[*len + n + 1] = '\0';
	*buf = p;
	*len += n + 1;
}

static bool from_report(const char *file)
{
	size_t n = file ? strlen(file) : 0;
	static const char suffix[] = "libdm-report.c";

	return n >= sizeof suffix - 1 && !strcmp(file + n - (sizeof suffix - 1), suffix);
}

static void on_message(int level, const char *file, int line, int dm_errno, const char *msg)
{
	struct lvm_output *o = capture;

	if (!o || !msg || level > LVM2_LOG_PRINT)
		return;
	if (level == LVM2_LOG_PRINT && from_report(file)) {
		if (strlen(msg) >= LVM_LINE_CUT)
			o->cut = true;
		text_add(&o->report, &o->report_len, msg, 0);
	} else if (level == LVM2_LOG_PRINT) {
		text_add(&o->info, &o->info_len, msg, TEXT_CAP);
	} else {
		text_add(&o->err, &o->err_len, msg, TEXT_CAP);
	}
}

void lvm_output_free(struct lvm_output *o)
{
	free(o->report);
	free(o->info);
	free(o->err);
	memset(o, 0, sizeof *o);
}

/* ---- what LVM may change in the process ----------------------------- */

struct guard {
	mode_t umask;
	int fd[2];          /* saved fds 0 and 1; -1 if they were closed */
	char locale[256];
};

static int guard_enter(struct guard *g)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return err_sys("lvm: opening /dev/null: %m");
	fflush(stdout);
	g->umask = umask(077);
	umask(g->umask);
	snprintf(g->locale, sizeof g->locale, "%s", setlocale(LC_ALL, NULL));
	for (int fd = 0; fd < 2; fd++) {
		g->fd[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		dup2(null, fd);
	}
	close(null);
	return 0;
}

static void guard_leave(struct guard *g)
{
	fflush(stdout);   /* anything LVM left in the buffer goes to /dev/null */
	for (int fd = 0; fd < 2; fd++) {
		if (g->fd[fd] >= 0) {
			dup2(g->fd[fd], fd);
			close(g->fd[fd]);
		} else {
			close(fd);
		}
	}
	umask(g->umask);
	setlocale(LC_ALL, g->locale);
}

/* ---- the handle ----------------------------------------------------- */

static int lib_load(void)
{
	lib.dl = dlopen(LVM2CMD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib.dl)
		return err_set(ENOTSUP, "lvm: cannot load %s: %s", LVM2CMD_SONAME, dlerror());
	*(void **)&lib.init = dlsym(lib.dl, "lvm2_init");
	*(void **)&lib.run = dlsym(lib.dl, "lvm2_run");
	*(void **)&lib.log_fn = dlsym(lib.dl, "lvm2_log_fn");
	if (!lib.init || !lib.run || !lib.log_fn)
		return err_set(ENOTSUP, "lvm: %s lacks lvm2_init, lvm2_run or lvm2_log_fn",
			       LVM2CMD_SONAME);
	return 0;
}

/* Under lvm_mutex and the guard. */
static int lib_ready(void)
{
	if (lib.handle)
		return 0;
	if (!lib.dl && lib_load() < 0)
		return -1;
	lib.log_fn(on_message);
	lib.handle = lib.init();
	if (!lib.handle)
		return err_set(EIO, "lvm: lvm2_init failed");
	return 0;
}

/* ---- one command ---------------------------------------------------- */

enum lvm_class lvm_last_class(void)
{
	return last_class;
}

void lvm_set_last_class(enum lvm_class c)
{
	last_class = c;
}

static int run_locked(const char *line, struct lvm_output *out, int *rc)
{
	struct guard g;

	if (guard_enter(&g) < 0)
		return -1;
	int ready = lib_ready();
	if (ready == 0) {
		capture = out;
		*rc = lib.run(lib.handle, line);
		capture = NULL;
	}
	guard_leave(&g);
	return ready;
}

int lvm_run(const struct lvm_cmd *c, struct lvm_output *out)
{
	char line[LINE_MAX_CMD];
	int rc = 0, ready;

	memset(out, 0, sizeof *out);
	if (lvm_cmd_line(c, line, sizeof line) < 0)
		return err_set(E2BIG, "lvm %s: command line too long", c->argv[0]);
	log_debug("lvm: %s", line);
	pthread_mutex_lock(&lvm_mutex);
	ready = run_locked(line, out, &rc);
	pthread_mutex_unlock(&lvm_mutex);
	if (ready < 0)
		return -1;
	if (rc == LVM2_COMMAND_SUCCEEDED) {
		last_class = LVM_OK;
		return 0;
	}
	enum lvm_class cls = lvm_classify(rc, out->err);
	last_class = cls;
	log_debug("lvm: %s: rc %d, class %s", c->argv[0], rc, lvm_class_name(cls));
	/* The object a command acts on is its last word. */
	snprintf(line, sizeof line, "%s %s", c->argv[0], c->argv[c->argc - 1]);
	lvm_fail(cls, line, out->err);
	lvm_output_free(out);
	return -1;
}
