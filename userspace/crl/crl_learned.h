/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_learned -- the "learned" revocation source: revocation keys of peer
 * certificates that this router found revoked or expired at runtime (peer
 * authentication, or the kernel's first-seen events), kept across restarts
 * in STATE_DIR/learned.json:
 *
 *	{"version": 1, "keys": [{"key": "<64 hex>", "reason": "revoked",
 *	  "peer": "r2", "via": "peer-authentication",
 *	  "learned": "2026-11-27T13:00:00Z", "learned_epoch": 1795784400}]}
 *
 * Keys learned *revoked* join the master list (svrcert_learned_master_keys):
 * a certificate once seen revoked stays revoked even when a CRL drops the
 * entry again (CAs remove entries after the certificate expired) or a key
 * only added by hand (svrcertctl revoked add) would vanish at the next swap.
 * Keys learned *expired* are recorded, persisted and shown, but not put into
 * the master list: the kernel checks its revocation set before the validity
 * dates, so the key would make it report (and count) an expired certificate
 * as revoked, while it already refuses the certificate by its own clock on
 * every packet. Nothing ages out: revocation is final and an expired
 * certificate stays expired; a key learned expired that is later found
 * revoked is upgraded to revoked.
 */
#ifndef SVRCERT_CRL_LEARNED_H
#define SVRCERT_CRL_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crl_walk.h"

#define SVRCERT_LEARNED_FILE	"learned.json"
#define SVRCERT_LEARNED_VERSION	1
#define SVRCERT_LEARNED_MAX	(1u << 20)	/* refuse to grow past this */

enum svrcert_learned_reason {
	SVRCERT_LEARNED_EXPIRED = 1,
	SVRCERT_LEARNED_REVOKED = 2,	/* stronger: replaces EXPIRED */
};

struct svrcert_learned_key {
	svrcert_revkey_t key;
	enum svrcert_learned_reason reason;
	time_t learned;			/* when first learned (with this reason) */
	char peer[64];			/* peering name, "" if unknown */
	char via[24];			/* "peer-authentication", "kernel" */
};

struct svrcert_learned {
	struct svrcert_learned_key *v;
	size_t n, cap;
};

void svrcert_learned_init(struct svrcert_learned *l);
void svrcert_learned_release(struct svrcert_learned *l);

const char *svrcert_learned_reason_name(enum svrcert_learned_reason r);

/* Learn KEY. Returns 1 when new or upgraded from expired to revoked, 0 when
 * already known as strong, -EINVAL for a bad reason, -ENOSPC past
 * SVRCERT_LEARNED_MAX, -ENOMEM. PEER and VIA may be NULL. */
int svrcert_learned_add(struct svrcert_learned *l, const uint8_t key[32],
			enum svrcert_learned_reason reason, const char *peer,
			const char *via, time_t now);

/* Keys with REASON (0: all). */
size_t svrcert_learned_count(const struct svrcert_learned *l,
			     enum svrcert_learned_reason reason);

/* The keys that join the master list (those learned revoked), malloc'd
 * (NULL when none). 0 or -ENOMEM. */
int svrcert_learned_master_keys(const struct svrcert_learned *l,
				svrcert_revkey_t **keys, size_t *n);

/* Write PATH atomically (temp file, fsync, rename, fsync dir), mode 0644.
 * 0 or -errno with ERR set. */
int svrcert_learned_save(const char *path, const struct svrcert_learned *l,
			 char *err, size_t errlen);

/* Read PATH into L (emptied first). -ENOENT when absent; -EBADMSG naming
 * the problem for anything malformed (nothing is taken then). */
int svrcert_learned_load(const char *path, struct svrcert_learned *l,
			 char *err, size_t errlen);

#endif
