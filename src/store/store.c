/* store: the table of store implementations by SR type (see lq/store.h). */
#include <string.h>

#include "lq/store.h"

static const struct store_ops *const store_impls[] = {
	&store_file_ops,
};

const struct store_ops *store_find(const char *type)
{
	for (size_t i = 0; i < sizeof store_impls / sizeof store_impls[0]; i++)
		if (!strcmp(store_impls[i]->type, type))
			return store_impls[i];
	return NULL;
}
