#include "lq/entry.h"
const struct entry plugin_entries[] = { { 0 } };
const struct entry volume_entries[] = { { 0 } };
const struct entry datapath_entries[] = { { 0 } };
