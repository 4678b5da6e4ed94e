/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON state files in the store (alarms, counters, policy override): read
 * whole, parsed, "absent" told apart from "unreadable" and "damaged".
 */
#ifndef SVRCERT_STORE_JSON_H
#define SVRCERT_STORE_JSON_H

#include <jansson.h>

#include "store.h"

/*
 * Read store file @name as JSON. 0 with *@out the parsed value (the caller
 * decrefs it), or 0 with *@out NULL when the file does not exist: a state
 * never written is empty, not an error. -EBADMSG when the text is not
 * JSON; other -errno from reading.
 */
int store_read_json(const struct svrcert_store *st, const char *name,
		    json_t **out);

#endif
