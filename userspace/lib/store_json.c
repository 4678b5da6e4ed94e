// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "store_json.h"

int store_read_json(const struct svrcert_store *st, const char *name,
		    json_t **out)
{
	char *text = NULL;
	int ret;

	*out = NULL;
	ret = store_read(st, name, &text, NULL);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	*out = json_loads(text, 0, NULL);
	free(text);
	return *out ? 0 : -EBADMSG;
}
