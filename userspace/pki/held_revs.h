/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The revocations a judge checks against: every held CRL
 * (STATE_DIR/crl/) and the master list (STATE_DIR/master.bin and the
 * master.delta beside it: crl_master.h), as
 * every judge read them once, without parsing them again at every change
 * (issue 15: ~1 s per judge at 1 M entries, in svrcertd's loop).
 *
 * Two sources, always both:
 *  - lent: the master list a running CRL manager holds in memory (every
 *    source's keys, the conductor's, the learned ones), by pointer, with a
 *    generation; and the files it wrote itself whose keys are all in that
 *    list (vouched: identified by dev, inode, size and mtime in ns);
 *  - read: every other file (placed by hand, damaged, left by an earlier
 *    run, not yet re-published), parsed once per identity and kept.
 * A file that does not load fails the refresh: a damaged CRL or master
 * list never un-revokes anything.
 *
 * One owner thread: svrcertd shares one struct between its CRL manager
 * (lends, vouches) and its judges (own certificate, peer authentication,
 * conductor); svrcertctl and tests use one with nothing lent, which reads
 * every file.
 */
#ifndef SVRCERT_HELD_REVS_H
#define SVRCERT_HELD_REVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl/crl_walk.h"
#include "lib/store.h"
#include "pki.h"

/* Which version of a file: a rename, a rewrite or a touch changes it. The
 * master list is master.bin and master.delta together: side_* are the
 * delta's (0 when there is none). */
struct svrcert_file_id {
	uint64_t dev, ino, size, mtime_ns;
	uint64_t side_ino, side_size, side_mtime_ns;
};

struct svrcert_held_file;	/* a file read, and its keys */

/* "crl/" and any file name (NAME_MAX), relative to the state directory:
 * a held CRL under a longer name than the buffer would go unread. */
#define SVRCERT_HELD_NAME_MAX	(sizeof("crl/") + 255)

struct svrcert_held_vouched {
	char name[SVRCERT_HELD_NAME_MAX];
	struct svrcert_file_id id;
};

struct svrcert_held {
	/* Lent by the CRL manager; valid until it lends again or unlends. */
	const svrcert_revkey_t *lent;	/* ascending, unique */
	size_t nlent;
	bool lending;
	struct svrcert_held_vouched *vouched;
	size_t nvouched, capvouched;
	/* Read here: the files not vouched for, and their union. */
	struct svrcert_held_file *files;
	size_t nfiles;
	struct svrcert_keyset read;
	/* +1 whenever what a judge sees may have changed. */
	uint64_t gen;
	unsigned long parsed;	/* files parsed since init (tests) */
};

void svrcert_held_init(struct svrcert_held *h);
void svrcert_held_free(struct svrcert_held *h);

/*
 * Judges: make H current with ST's files (a readdir and a stat per file;
 * only a file not vouched for and not read before in this version is
 * parsed). 0, or -errno with ERR naming the file: a held CRL or master
 * list that does not load (no judgement may then be made).
 */
int svrcert_held_refresh(struct svrcert_held *h, const struct svrcert_store *st,
			 char *err, size_t errlen);

/* Revoked by what H holds (svrcert_revoked_fn; CTX is H): the lent list
 * or a file read. Call after a successful refresh. */
bool svrcert_held_revoked(const uint8_t revkey[SVRCERT_DIGEST_LEN],
			  const uint8_t fp[SVRCERT_DIGEST_LEN], void *ctx);
bool svrcert_held_contains(struct svrcert_held *h,
			   const uint8_t key[SVRCERT_DIGEST_LEN]);

/*
 * The CRL manager: KEYS (N, ascending, unique) is the master list in force
 * now, lent until the next lend or unlend; what was vouched for is
 * forgotten (its files are read until vouched for again).
 */
void svrcert_held_lend(struct svrcert_held *h,
		       const svrcert_revkey_t *keys, size_t n);
void svrcert_held_unlend(struct svrcert_held *h);

/*
 * The CRL manager, right after writing NAME (relative to ST's directory)
 * with the keys FKEYS (NF, ascending): the file needs no reading while
 * it stays this version, if every one of its keys is in the lent list
 * (checked here). True when vouched for (false also without memory:
 * the file is then read).
 */
bool svrcert_held_vouch(struct svrcert_held *h, const struct svrcert_store *st,
			const char *name, const svrcert_revkey_t *fkeys,
			size_t nf);

#endif
