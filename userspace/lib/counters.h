/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seed's event counters ("show stats security ..."), persisted in the
 * state directory (STORE_COUNTERS, JSON) so they survive restarts.
 *
 * Each counter has a dotted name; a failure may also be counted under a
 * reason ("certificate-import.failure.private-key"), so every import
 * rejection has its own counter next to the seed's total.
 */
#ifndef SVRCERT_COUNTERS_H
#define SVRCERT_COUNTERS_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

enum svrcert_counter {
	CNT_CSR_SUCCESS,
	CNT_CSR_FAILURE,
	CNT_IMPORT_SUCCESS,
	CNT_IMPORT_FAILURE,
	CNT_CRL_FETCH_SUCCESS,
	CNT_CRL_FETCH_FAILURE,
	CNT_CRL_INGEST_SUCCESS,
	CNT_CRL_INGEST_FAILURE,
	CNT_CERT_EXPIRED,
	CNT_CERT_INVALID,
	CNT_CERT_REVOKED,
	CNT_PEER_CERT_EXPIRED,	/* peer authentication results (svrcertd) */
	CNT_PEER_CERT_INVALID,
	CNT_PEER_CERT_REVOKED,
	CNT_PEER_REKEY_SUCCESS,	/* peer keys (svrcertd, [daemon] peer-keys) */
	CNT_PEER_REKEY_FAILURE,
	CNT_PEER_SA_DELETED,	/* a peer's SAs cut: its certificate went bad */
	CNT__MAX
};

struct counter_desc {
	const char *key;	/* stored name, e.g. "csr.success" */
	const char *group;	/* seed's words: "CSR", "certificate import" */
	const char *item;	/* "success", "failure", "expired", ... */
};

extern const struct counter_desc counter_descs[CNT__MAX];

/* Add 1 to counter C (and, when REASON is not NULL, to C's REASON
 * breakdown). Read-modify-write under the store lock; atomic write. */
int counters_inc(struct svrcert_store *st, enum svrcert_counter c,
		 const char *reason);

/* The whole state: {"csr.success": n, ..., "certificate-import.failure.X": n}.
 * Missing file = all zero. Caller owns the reference. */
int counters_load(const struct svrcert_store *st, json_t **out);

/* Value of a dotted key in a loaded state (0 when absent). */
uint64_t counters_get(json_t *state, const char *key);

#endif
