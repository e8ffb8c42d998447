/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gc: "lvqcow gc", the garbage collector of one attached SR (see
 * docs/gc.md).  Calls that make work for it start it detached; an
 * operator or a test runs it in the foreground, where it first waits for
 * a running collector to finish, or asks what it is doing. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/ops.h"
#include "lq/store.h"

struct gc_args {
	const char *type, *sr;
	bool once, status, json, detached;
};

static int gc_usage(FILE *f)
{
	fprintf(f, "usage: lvqcow gc [--type TYPE] [--once] SR\n"
		   "       lvqcow gc [--type TYPE] --status [--json] SR\n"
		   "Removes the nodes of the SR's snapshot trees that nothing uses and\n"
		   "coalesces chains, until nothing is left to do (--once: one step).\n"
		   "SR is the SR string SR.attach returned (the directory of a fileqcow SR,\n"
		   "/dev/lvqcow-UUID for an lvqcow SR); TYPE, fileqcow or lvqcow, is found\n"
		   "from that string when not given.\n");
	return f == stdout ? 0 : 1;
}

static int gc_parse(int argc, char **argv, struct gc_args *a)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, 'o' },
		{ "status", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "detached", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->type = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->type = optarg; break;
		case 'o': a->once = true; break;
		case 's': a->status = true; break;
		case 'j': a->json = true; break;
		case 'd': a->detached = true; break;
		case 'h': return gc_usage(stdout) == 0 ? 2 : 1;
		default: return 1;
		}
	}
	if (optind != argc - 1)
		return 1;
	a->sr = argv[optind];
	if (!a->type)
		a->type = store_type_of_root(a->sr);
	return 0;
}

static int gc_print_status(const struct gc_args *a)
{
	struct json_object *o, *last;

	if (ops_gc_status(a->type, a->sr, &o) < 0) {
		cli_report_error("gc");
		return 1;
	}
	if (a->json) {
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	} else {
		printf("SR %s: collector %s, %lld journal records\n", a->sr,
		       json_object_get_boolean(json_object_object_get(o, "running")) ? "running" : "idle",
		       (long long)json_object_get_int64(json_object_object_get(o, "journal")));
		if (json_object_object_get_ex(o, "last", &last))
			printf("last: %s\n", json_object_to_json_string_ext(last, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(o);
	return 0;
}

int cli_gc(int argc, char **argv)
{
	struct gc_args a = { 0 };
	int rc = gc_parse(argc, argv, &a);

	if (rc)
		return rc == 2 ? 0 : gc_usage(stderr);
	if (a.status)
		return gc_print_status(&a);
	rc = ops_gc_run(a.type, a.sr, (a.once ? OPS_GC_ONCE : 0) |
					 (a.detached ? OPS_GC_IF_IDLE : 0));
	if (rc < 0) {
		cli_report_error("gc");
		return 1;
	}
	if (a.json)
		printf("{\"steps\":%d}\n", rc);
	else if (!a.detached)
		printf("%d steps\n", rc);
	return 0;
}
