/* The datapath entry points of the multi-call binary. */
#include "lq/entry.h"

const struct entry datapath_entries[] = {
	{ 0 },
};
