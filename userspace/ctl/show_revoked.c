// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show revoked [-j]: the kernel's live revocation set, sorted,
 * one key per line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"

/* A dump that keeps meeting a concurrent change is retried this often. */
#define DUMP_TRIES 5

struct key_list {
	svrcert_key_t *keys;
	size_t n, cap;
};

static int collect(const svrcert_key_t *keys, size_t n, void *arg)
{
	struct key_list *l = arg;

	if (l->n + n > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		svrcert_key_t *nk;

		while (cap < l->n + n)
			cap *= 2;
		nk = realloc(l->keys, cap * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		l->keys = nk;
		l->cap = cap;
	}
	memcpy(l->keys[l->n], keys, n * sizeof(*keys));
	l->n += n;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SVRCERT_KEY_LEN);
}

/* The whole set, consistent: a dump interrupted by a change starts over. */
static int dump_all(struct svrcert_nl *nl, struct key_list *l)
{
	int err = -EAGAIN, tries;

	for (tries = 0; err == -EAGAIN && tries < DUMP_TRIES; tries++) {
		l->n = 0;
		err = svrcert_nl_keys_dump(nl, collect, l);
	}
	if (!err)
		qsort(l->keys, l->n, sizeof(*l->keys), key_cmp);
	return err;
}

static int print_json(const struct key_list *l)
{
	char hex[SVRCERT_KEY_HEX_LEN + 1];
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return ctl_json_print(NULL);
	}
	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(svrcert_nl_key_format(l->keys[i], hex)));
	json_object_set_new(o, "count", ctl_json_u64(l->n));
	json_object_set_new(o, "keys", a);
	return ctl_json_print(o);
}

static int print_text(const struct key_list *l)
{
	char hex[SVRCERT_KEY_HEX_LEN + 1];
	size_t i;

	for (i = 0; i < l->n; i++)
		puts(svrcert_nl_key_format(l->keys[i], hex));
	return fflush(stdout) ? CTL_FAIL : CTL_OK;
}

int show_revoked(int argc, char **argv)
{
	bool json = ctl_take_json_flag(&argc, argv);
	struct key_list l = { NULL, 0, 0 };
	struct svrcert_nl *nl;
	int err, ret;

	if (argc != 1) {
		fprintf(stderr, "usage: svrcertctl show revoked [-j]\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open("show revoked");
	if (!nl)
		return CTL_FAIL;
	err = dump_all(nl, &l);
	if (err)
		ret = ctl_nl_fail(nl, "show revoked", err);
	else
		ret = json ? print_json(&l) : print_text(&l);
	ctl_nl_close(nl);
	free(l.keys);
	return ret;
}
