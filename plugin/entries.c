/* The plugin entry points of the multi-call binary. */
#include "lq/entry.h"

const struct entry plugin_entries[] = {
	{ 0 },
};
