// SPDX-License-Identifier: GPL-2.0
/*
 * The learned revocation source (crl_learned.h). A handful of keys at most
 * in practice (one per peer certificate ever seen revoked or expired), so a
 * flat array and a linear search; JSON on disk so an operator can read it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crl_learned.h"
#include "lib/store.h"
#include "lib/util.h"

/* learned.json of a full SVRCERT_LEARNED_MAX set stays below this. */
#define LEARNED_FILE_MAX	(256u << 20)

void svrcert_learned_init(struct svrcert_learned *l)
{
	memset(l, 0, sizeof(*l));
}

void svrcert_learned_release(struct svrcert_learned *l)
{
	free(l->v);
	svrcert_learned_init(l);
}

const char *svrcert_learned_reason_name(enum svrcert_learned_reason r)
{
	return r == SVRCERT_LEARNED_REVOKED ? "revoked" :
	       r == SVRCERT_LEARNED_EXPIRED ? "expired" : "unknown";
}

static int reason_parse(const char *s, enum svrcert_learned_reason *r)
{
	if (s && !strcmp(s, "revoked"))
		*r = SVRCERT_LEARNED_REVOKED;
	else if (s && !strcmp(s, "expired"))
		*r = SVRCERT_LEARNED_EXPIRED;
	else
		return -EINVAL;
	return 0;
}

static struct svrcert_learned_key *find(const struct svrcert_learned *l,
					const uint8_t key[32])
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->v[i].key, key, SVRCERT_REVKEY_LEN))
			return &l->v[i];
	return NULL;
}

static int grow(struct svrcert_learned *l)
{
	size_t cap = l->cap ? l->cap * 2 : 16;
	struct svrcert_learned_key *v;

	if (l->n < l->cap)
		return 0;
	if (l->n >= SVRCERT_LEARNED_MAX)
		return -ENOSPC;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

int svrcert_learned_add(struct svrcert_learned *l, const uint8_t key[32],
			enum svrcert_learned_reason reason, const char *peer,
			const char *via, time_t now)
{
	struct svrcert_learned_key *k = find(l, key);
	int ret;

	if (reason != SVRCERT_LEARNED_REVOKED && reason != SVRCERT_LEARNED_EXPIRED)
		return -EINVAL;
	if (k && k->reason >= reason)
		return 0;
	if (!k) {
		ret = grow(l);
		if (ret)
			return ret;
		k = &l->v[l->n++];
		memset(k, 0, sizeof(*k));
		memcpy(k->key, key, SVRCERT_REVKEY_LEN);
	}
	k->reason = reason;
	k->learned = now;
	snprintf(k->peer, sizeof(k->peer), "%s", peer ? peer : "");
	snprintf(k->via, sizeof(k->via), "%s", via ? via : "");
	return 1;
}

size_t svrcert_learned_count(const struct svrcert_learned *l,
			     enum svrcert_learned_reason reason)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (!reason || l->v[i].reason == reason)
			n++;
	return n;
}

int svrcert_learned_master_keys(const struct svrcert_learned *l,
				svrcert_revkey_t **keys, size_t *n)
{
	size_t want = svrcert_learned_count(l, SVRCERT_LEARNED_REVOKED), at = 0;

	*keys = NULL;
	*n = 0;
	if (!want)
		return 0;
	*keys = malloc(want * sizeof(**keys));
	if (!*keys)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].reason == SVRCERT_LEARNED_REVOKED)
			memcpy((*keys)[at++], l->v[i].key, SVRCERT_REVKEY_LEN);
	*n = at;
	return 0;
}

static json_t *key_json(const struct svrcert_learned_key *k)
{
	char hex[2 * SVRCERT_REVKEY_LEN + 1], when[40];

	svrcert_hex(k->key, SVRCERT_REVKEY_LEN, hex);
	svrcert_time_iso8601(k->learned, when, sizeof(when));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "key", hex,
			 "reason", svrcert_learned_reason_name(k->reason),
			 "peer", k->peer, "via", k->via, "learned", when,
			 "learned_epoch", (json_int_t)k->learned);
}

int svrcert_learned_save(const char *path, const struct svrcert_learned *l,
			 char *err, size_t errlen)
{
	json_t *keys = json_array(), *root;
	char *text = NULL;
	int ret;

	for (size_t i = 0; keys && i < l->n; i++)
		if (json_array_append_new(keys, key_json(&l->v[i]))) {
			json_decref(keys);
			keys = NULL;
		}
	root = keys ? json_pack("{s:i, s:o}", "version", SVRCERT_LEARNED_VERSION,
				"keys", keys) : NULL;
	if (root)
		text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return svrcert_fail(err, errlen, -ENOMEM, "cannot build %s", path);
	ret = atomic_write_file(path, text, strlen(text), STORE_MODE_PUBLIC);
	free(text);
	if (ret)
		return svrcert_fail(err, errlen, ret, "cannot write %s: %s", path,
			    strerror(-ret));
	return 0;
}

/* One entry of "keys"; I is its index, for the message. */
static int entry_parse(json_t *e, size_t i, struct svrcert_learned *l,
		       char *err, size_t errlen)
{
	const char *hex = NULL, *reason = NULL, *peer = "", *via = "";
	enum svrcert_learned_reason r;
	json_int_t when = 0;
	uint8_t key[SVRCERT_REVKEY_LEN];
	int ret;

	if (json_unpack(e, "{s:s, s:s, s?:s, s?:s, s?:I}", "key", &hex,
			"reason", &reason, "peer", &peer, "via", &via,
			"learned_epoch", &when))
		return svrcert_fail(err, errlen, -EBADMSG, "entry %zu: key and reason "
			    "required", i);
	if (strlen(hex) != 2 * SVRCERT_REVKEY_LEN ||
	    svrcert_unhex(hex, key, sizeof(key)))
		return svrcert_fail(err, errlen, -EBADMSG, "entry %zu: key is not 64 hex "
			    "digits", i);
	if (reason_parse(reason, &r))
		return svrcert_fail(err, errlen, -EBADMSG, "entry %zu: unknown reason "
			    "\"%.40s\"", i, reason);
	ret = svrcert_learned_add(l, key, r, peer, via, (time_t)when);
	if (ret < 0)
		return svrcert_fail(err, errlen, ret, "entry %zu: %s", i, strerror(-ret));
	return 0;
}

static int parse(const char *text, size_t len, struct svrcert_learned *l,
		 char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je), *keys, *e;
	json_int_t version = 0;
	size_t i;
	int ret = 0;

	if (!root)
		return svrcert_fail(err, errlen, -EBADMSG, "not JSON: %s (line %d)",
			    je.text, je.line);
	if (json_unpack(root, "{s:I, s:o}", "version", &version, "keys", &keys) ||
	    !json_is_array(keys))
		ret = svrcert_fail(err, errlen, -EBADMSG, "version and keys required");
	else if (version != SVRCERT_LEARNED_VERSION)
		ret = svrcert_fail(err, errlen, -EBADMSG, "unsupported version %lld",
			   (long long)version);
	json_array_foreach(ret ? NULL : keys, i, e) {
		ret = entry_parse(e, i, l, err, errlen);
		if (ret)
			break;
	}
	json_decref(root);
	return ret;
}

int svrcert_learned_load(const char *path, struct svrcert_learned *l,
			 char *err, size_t errlen)
{
	char why[300];
	uint8_t *buf;
	size_t len;
	int ret;

	svrcert_learned_release(l);
	ret = svrcert_read_file(path, LEARNED_FILE_MAX, &buf, &len);
	if (ret)
		return svrcert_fail(err, errlen, ret, "cannot read %s: %s", path,
			    strerror(-ret));
	ret = parse((const char *)buf, len, l, why, sizeof(why));
	free(buf);
	if (ret) {
		svrcert_learned_release(l);
		return svrcert_fail(err, errlen, ret, "%s: %s", path, why);
	}
	return 0;
}
