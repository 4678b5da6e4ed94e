// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's generations and their signed documents.
 *
 * A new generation is signed at once: its full set, and the delta from
 * the previous generation (where nearly every router waits). A delta from
 * an older base is signed when first asked for and kept until the next
 * generation (CD_DELTA_CACHE bases). Each document is one MHD response
 * queued to every router that asks: one signature per document, never per
 * router (a TPM signature takes tens of milliseconds, one at a time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "conductor_int.h"
#include "pki/conductor_doc.h"

#define SIGN_RETRY_MS	5000

static void doc_drop(struct cd_doc *d)
{
	if (d->resp)
		MHD_destroy_response(d->resp);	/* in-flight answers keep it */
	memset(d, 0, sizeof(*d));
}

static void docs_drop(struct conductor *c)
{
	doc_drop(&c->full);
	for (size_t i = 0; i < c->n_delta; i++)
		doc_drop(&c->delta[i]);
	c->n_delta = 0;
}

static void etag_of(struct conductor *c)
{
	size_t n = 1;

	c->etag[0] = '"';
	for (size_t i = 0; i < sizeof(c->j.epoch); i++, n += 2)
		snprintf(c->etag + n, sizeof(c->etag) - n, "%02x", c->j.epoch[i]);
	snprintf(c->etag + n, sizeof(c->etag) - n, "-%llu\"",
		 (unsigned long long)c->j.gen);
}

/* U signed, as a response ready to queue (NULL: logged). */
static struct MHD_Response *sign(struct conductor *c,
				 const struct svrcert_gen_update *u, size_t *len)
{
	struct svrcert_conductor_signer s = {
		.st = c->p.st, .storage = c->p.storage,
		.handle = c->p.tpm_handle, .tcti = c->p.tcti, .name = c->name,
	};
	struct MHD_Response *r;
	uint8_t *doc = NULL;
	char err[400];

	if (svrcert_conductor_sign(&s, u, &doc, len, err, sizeof(err))) {
		syslog(LOG_ERR, "conductor: cannot sign generation %llu: %s",
		       (unsigned long long)u->gen, err);
		return NULL;
	}
	c->stats.signatures++;
	r = MHD_create_response_from_buffer_with_free_callback(*len, doc, free);
	if (!r) {
		free(doc);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, c->etag);
	return r;
}

static int sign_full(struct conductor *c)
{
	struct svrcert_gen_update u = {
		.kind = SVRCERT_GEN_FULL, .gen = c->j.gen, .time = c->j.time,
		.added = c->cur, .nadded = c->ncur,
	};

	memcpy(u.epoch, c->j.epoch, sizeof(u.epoch));
	c->full.resp = sign(c, &u, &c->full.len);
	c->full.base = c->j.gen;
	return c->full.resp ? 0 : -EIO;
}

/* The delta document from BASE (signed now if not yet), or NULL when the
 * journal answers BASE with a full set or signing failed. */
static struct MHD_Response *delta_doc(struct conductor *c,
				      const struct svrcert_gen_update *u)
{
	struct cd_doc *d;

	for (size_t i = 0; i < c->n_delta; i++)
		if (c->delta[i].base == u->base)
			return c->delta[i].resp;
	if (c->n_delta == CD_DELTA_CACHE) {	/* the oldest base goes */
		doc_drop(&c->delta[0]);
		memmove(c->delta, c->delta + 1,
			(CD_DELTA_CACHE - 1) * sizeof(c->delta[0]));
		memset(&c->delta[--c->n_delta], 0, sizeof(c->delta[0]));
	}
	d = &c->delta[c->n_delta];
	d->resp = sign(c, u, &d->len);
	if (!d->resp)
		return NULL;
	d->base = u->base;
	c->n_delta++;
	return d->resp;
}

/* The documents of the current generation: the full set, and the delta
 * from the one before. */
static void sign_generation(struct conductor *c)
{
	struct svrcert_gen_update u = { 0 };

	docs_drop(c);
	etag_of(c);
	c->sign_retry_ms = 0;
	if (sign_full(c)) {
		c->sign_retry_ms = cd_now_ms() + SIGN_RETRY_MS;
		return;
	}
	if (c->j.gen > 0 &&
	    !svrcert_gen_since(&c->j, c->j.epoch, c->j.gen - 1, c->cur,
			       c->ncur, &u) && u.kind == SVRCERT_GEN_DELTA)
		delta_doc(c, &u);
	svrcert_gen_update_release(&u);
}

void cd_gen_retry(struct conductor *c)
{
	if (c->have_cur && !c->full.resp)
		sign_generation(c);
	else
		c->sign_retry_ms = 0;
}

int cd_gen_open(struct conductor *c, char *err, size_t errlen)
{
	enum svrcert_gen_opened how;
	char path[4200];
	int ret;

	store_path(c->p.st, SVRCERT_GEN_FILE, path, sizeof(path));
	ret = svrcert_gen_open(&c->j, path, 0, 0, time(NULL), &how, err,
			       errlen);
	if (ret)
		return ret;
	c->have_j = true;
	if (how == SVRCERT_GEN_RESET)
		syslog(LOG_WARNING, "conductor: %s unreadable, new epoch (every "
		       "router resyncs in full): %s", path, err);
	else
		syslog(LOG_INFO, "conductor: %s generation %llu",
		       how == SVRCERT_GEN_CREATED ? "new epoch at" :
		       "continuing at", (unsigned long long)c->j.gen);
	return 0;
}

void cd_gen_close(struct conductor *c)
{
	docs_drop(c);
	if (c->have_j)
		svrcert_gen_close(&c->j);
	c->have_j = false;
	free(c->cur);
	c->cur = NULL;
}

int conductor_master(struct conductor *c, const svrcert_revkey_t *keys,
		     size_t n, char *err, size_t errlen)
{
	svrcert_revkey_t *copy = NULL;
	int ret;

	/* At start the held set is both: a generation only if the journal's
	 * last set was another. */
	ret = svrcert_gen_advance(&c->j, c->have_cur ? c->cur : keys,
				  c->have_cur ? c->ncur : n, keys, n,
				  time(NULL), err, errlen);
	if (ret < 0)
		return ret;
	if (ret == 0 && c->have_cur)
		return 0;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	if (n)
		memcpy(copy, keys, n * sizeof(*copy));
	free(c->cur);
	c->cur = copy;
	c->ncur = n;
	c->have_cur = true;
	if (ret == 1)
		syslog(LOG_INFO, "conductor: generation %llu, %zu keys",
		       (unsigned long long)c->j.gen, n);
	sign_generation(c);
	/* Before the waiting are answered: a router this generation
	 * revokes does not receive it. */
	cd_rejudge_all(c);
	cd_http_wake(c, true);
	return ret;
}

struct MHD_Response *cd_gen_answer(struct conductor *c, const struct cd_req *r,
				   bool *nothing_new, unsigned int *status)
{
	struct svrcert_gen_update u = { 0 };
	struct MHD_Response *resp = NULL;

	*nothing_new = false;
	*status = MHD_HTTP_SERVICE_UNAVAILABLE;
	if (!c->have_cur || !c->full.resp)
		return NULL;	/* no generation signed yet */
	if (!r->has_since)
		return c->full.resp;
	*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	if (svrcert_gen_since(&c->j, r->has_epoch ? r->epoch : NULL, r->since,
			      c->cur, c->ncur, &u))
		return NULL;
	if (u.kind == SVRCERT_GEN_DELTA && u.base == u.gen)
		*nothing_new = true;
	else if (u.kind == SVRCERT_GEN_DELTA)
		resp = delta_doc(c, &u);
	/* A full answer, or a delta that could not be signed: the full set
	 * is always a correct answer. */
	if (!*nothing_new && !resp)
		resp = c->full.resp;
	svrcert_gen_update_release(&u);
	return resp;
}

const char *cd_gen_etag(const struct conductor *c)
{
	return c->etag;
}
