/* The volume entry points of the multi-call binary. */
#include "lq/entry.h"

const struct entry volume_entries[] = {
	{ 0 },
};
