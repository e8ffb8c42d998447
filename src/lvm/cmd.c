/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/cmd: command lines for lvm2_run, built word by word.
 *
 * lvm2_run splits its line on blanks, takes a word wholly wrapped in
 * '...' or "..." as one word (no escapes), and ends the line at an
 * unquoted word starting with '#'.  So every word added here is checked
 * to be a plain token (asserted: the names inside were checked at the
 * module's edge), and the one kind of word that needs blanks (a --config
 * value) is quoted whole. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lvm-int.h"

bool lvm_token_ok(const char *w)
{
	if (!w || !*w || w[0] == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)w; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\')
			return false;
	return true;
}

static char *arena_take(struct lvm_cmd *c, size_t n)
{
	assert(c->used + n <= sizeof c->arena);
	char *p = c->arena + c->used;
	c->used += n;
	return p;
}

static void push(struct lvm_cmd *c, const char *w)
{
	assert(c->argc < LVM_ARGS_MAX);
	c->argv[c->argc++] = w;
}

void lvm_cmd_init(struct lvm_cmd *c, const char *verb)
{
	c->argc = 0;
	c->used = 0;
	lvm_cmd_addf(c, "%s", verb);
}

void lvm_cmd_addf(struct lvm_cmd *c, const char *fmt, ...)
{
	size_t room = sizeof c->arena - c->used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->arena + c->used, room, fmt, ap);
	va_end(ap);
	assert(n >= 0 && (size_t)n < room);
	char *w = arena_take(c, (size_t)n + 1);
	assert(lvm_token_ok(w));
	push(c, w);
}

void lvm_cmd_add_quoted(struct lvm_cmd *c, const char *word)
{
	size_t n = strlen(word);

	assert(n > 0 && !strchr(word, '\'') && !strpbrk(word, "\n\r\t"));
	char *w = arena_take(c, n + 3);
	w[0] = '\'';
	memcpy(w + 1, word, n);
	w[n + 1] = '\'';
	w[n + 2] = '\0';
	push(c, w);
}

int lvm_cmd_line(const struct lvm_cmd *c, char *buf, size_t n)
{
	size_t at = 0;

	for (int i = 0; i < c->argc; i++) {
		int k = snprintf(buf + at, n - at, "%s%s", i ? " " : "", c->argv[i]);
		if (k < 0 || (size_t)k >= n - at)
			return -1;
		at += (size_t)k;
	}
	return 0;
}
