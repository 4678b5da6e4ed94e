/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_gen -- the conductor's revocation generations (issue 15, items 1-3:
 * the state a conductor serves and a router holds; no transport here).
 *
 * The authority's revocation state is the CRL manager's master list (every
 * source's CRLs merged, plus learned keys: crl_master.h). Each change of it
 * is one *generation*: a 64-bit number that only goes up within an *epoch*
 * (16 random bytes made when the journal file is created, again when it is
 * found unreadable). (epoch, generation) is never reused: the generation is
 * on disk before anyone can be told about it, and a conductor that lost its
 * file starts a new epoch, for which every router resyncs in full.
 *
 * The journal keeps the deltas (keys added, keys removed) of the last
 * generations, bounded by max_gens deltas and max_keys keys in all (default
 * 1024 and 131072 = 4 MiB of keys, in memory and on disk): enough for a
 * router that missed days of ordinary revocations (a handful a day per CA)
 * to catch up with a delta, while the file rewritten at each generation
 * stays a few MiB; a router further behind gets the full set, which is at
 * most one download. A delta larger than the bound is not kept at all.
 *
 * STATE_DIR/generations.bin (integers big-endian), written atomically
 * (atomic_write_file: temp, fsync, rename, fsync dir); a temp file left by
 * a crash is never read and is removed by svrcert_gen_open:
 *	  0  8 magic "SVRCGEN\0"
 *	  8  4 version (1)
 *	 12  4 header length (128)
 *	 16 16 epoch
 *	 32  8 generation (current)
 *	 40  8 time the current generation was made (seconds since 1970)
 *	 48  8 keys in the current set
 *	 56  4 number of deltas R
 *	 60  4 0
 *	 64 32 SHA-256 of the current set's keys (= master.bin's payload digest)
 *	 96 32 SHA-256 of bytes 0..95 and of every byte after the header
 *	128    R deltas, oldest first: generation (8), time (8), added count A
 *	       (4), removed count D (4), then A keys and D keys, each ascending
 */
#ifndef SVRCERT_CRL_GEN_H
#define SVRCERT_CRL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crl_walk.h"

#define SVRCERT_GEN_FILE		"generations.bin"
#define SVRCERT_GEN_MAGIC		"SVRCGEN"	/* + NUL: 8 bytes */
#define SVRCERT_GEN_VERSION		1
#define SVRCERT_GEN_HDR_LEN		128
#define SVRCERT_GEN_EPOCH_LEN		16
#define SVRCERT_GEN_MAX_GENS_DEFAULT	1024
#define SVRCERT_GEN_MAX_KEYS_DEFAULT	131072

/* The change that made generation GEN out of GEN - 1. */
struct svrcert_gen_delta {
	uint64_t gen;
	time_t time;
	svrcert_revkey_t *keys;		/* nadded ascending, then nremoved */
	size_t nadded, nremoved;
};

struct svrcert_gen_journal {
	char path[4096];
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN];
	uint64_t gen;			/* current generation */
	time_t time;			/* when it was made */
	size_t nkeys;			/* keys in the current set */
	uint8_t digest[32];		/* SHA-256 of the current set's keys */
	struct svrcert_gen_delta *d;	/* oldest first; the last is gen's */
	size_t n;
	size_t held_keys;		/* sum of every delta's keys */
	size_t max_gens, max_keys;
};

/* How svrcert_gen_open found the file. */
enum svrcert_gen_opened {
	SVRCERT_GEN_LOADED,	/* read: same epoch, generation continues */
	SVRCERT_GEN_CREATED,	/* none there: a new epoch */
	SVRCERT_GEN_RESET,	/* unreadable (ERR says why): a new epoch */
};

/*
 * Open the journal at PATH: read it, or start a new epoch at generation 0
 * (an empty set) and write it before returning. MAX_GENS / MAX_KEYS of 0
 * take the defaults; a file holding more is trimmed to them. Temp files a
 * killed write left beside PATH are removed. *HOW (may be NULL) says which
 * case it was; for SVRCERT_GEN_RESET, ERR names what was wrong with the
 * file (an operator should hear of it). 0 or -errno (ERR set).
 */
int svrcert_gen_open(struct svrcert_gen_journal *j, const char *path,
		     size_t max_gens, size_t max_keys, time_t now,
		     enum svrcert_gen_opened *how, char *err, size_t errlen);
void svrcert_gen_close(struct svrcert_gen_journal *j);

/*
 * The master list moved from OLD to NEW (both sorted, unique). OLD must be
 * the set of the current generation: that is checked against its digest,
 * and when it differs (svrcertd restarted with other CRLs held, or a write
 * failed earlier) the change from the current generation is unknown, so a
 * new generation is made with no delta kept: every router behind it gets
 * the full set. At start, pass the held set as both OLD and NEW.
 * Returns 0 when nothing changed (no new generation), 1 when a generation
 * was made and written, -errno (ERR set; the journal is as before) when it
 * could not be written.
 */
int svrcert_gen_advance(struct svrcert_gen_journal *j,
			const svrcert_revkey_t *old, size_t nold,
			const svrcert_revkey_t *nw, size_t nnew, time_t now,
			char *err, size_t errlen);

/* The oldest generation a delta can start from (the current one when no
 * delta is kept). */
uint64_t svrcert_gen_oldest_base(const struct svrcert_gen_journal *j);

/* What a conductor tells a router, and what a router decodes. */
enum svrcert_gen_kind {
	SVRCERT_GEN_FULL = 1,	/* added = the whole set */
	SVRCERT_GEN_DELTA = 2,	/* from base to gen: added, removed */
};

struct svrcert_gen_update {
	enum svrcert_gen_kind kind;
	char why[96];			/* FULL from svrcert_gen_since: why */
	char conductor[65];		/* its identity (certificate name) */
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN];
	uint64_t gen;
	uint64_t base;			/* DELTA only */
	time_t time;			/* when GEN was made */
	svrcert_revkey_t *added, *removed;	/* ascending, unique */
	size_t nadded, nremoved;
	bool own_added;			/* ADDED is malloc'd (not borrowed) */
};

/*
 * The answer to "since=SINCE" of a router holding EPOCH (NULL: none):
 * a DELTA from SINCE to the current generation (the net change: a key
 * added and removed again is in neither list), or a FULL answer with WHY
 * (no epoch, another epoch, SINCE older than the journal or newer than the
 * current generation, or the delta is not smaller than the full set).
 * CUR / NCUR is the current generation's set (the NEW of the last
 * advance); a FULL answer's ADDED borrows it. SINCE equal to the current
 * generation gives an empty DELTA. 0, -EINVAL (NCUR is not the current
 * set's size) or -ENOMEM. Release with svrcert_gen_update_release.
 */
int svrcert_gen_since(const struct svrcert_gen_journal *j,
		      const uint8_t *epoch, uint64_t since,
		      const svrcert_revkey_t *cur, size_t ncur,
		      struct svrcert_gen_update *u);
void svrcert_gen_update_release(struct svrcert_gen_update *u);

/*
 * OUT = (A - MINUS) + PLUS, all sorted and unique, OUT malloc'd (NULL when
 * empty). *MISSING (may be NULL): keys of MINUS not in A; *PRESENT: keys of
 * PLUS already in A - MINUS. A delta applied to the set it was made for
 * has neither. 0 or -ENOMEM.
 */
int svrcert_revkeys_patch(const svrcert_revkey_t *a, size_t na,
			  const svrcert_revkey_t *minus, size_t nminus,
			  const svrcert_revkey_t *plus, size_t nplus,
			  svrcert_revkey_t **out, size_t *nout,
			  size_t *missing, size_t *present);

#endif
