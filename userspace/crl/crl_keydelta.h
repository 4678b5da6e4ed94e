/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_keydelta -- a large sorted key set kept on disk as a base file and
 * one small delta file beside it, so that a change of a few keys costs a
 * write of a few keys (issue 15: a router holding 1 M keys rewrote and
 * fsynced 2 x 32 MB and hashed them at every one-key update).
 *
 * The base is the owner's own file (master.bin, conductor-held.bin), with
 * its own header and checksum; the delta is "<base without .bin>.delta"
 * (master.delta, conductor-held.delta) and holds the *cumulative* change
 * from that base to the current set: the keys added since, the keys removed
 * since. Each write replaces the delta atomically (temp, fsync, rename,
 * fsync dir); once the delta holds more than svrcert_keylog_due's bound,
 * the owner writes a new base (the whole set) and removes the delta, so a
 * delta stays a small fraction of its base and a reader's work bounded.
 *
 * A delta names its base by the checksum field of the base's header. A
 * reader takes the delta only with the base it names: a delta naming
 * another base is one a compaction left behind (a new base written, the
 * process stopped before it removed the delta); that base holds
 * everything, so the delta is ignored. A delta that does not parse, or
 * that does not fit its base (a removed key the base lacks, an added key
 * it has, a count that does not add up), is an error: the set is unknown.
 *
 * <name>.delta (integers big-endian):
 *	  0  8 magic "SVRCDLT\0"
 *	  8  4 version (1)
 *	 12  4 header length (136)
 *	 16 32 the base's checksum field
 *	 48  8 keys in the current set
 *	 56  8 added count A
 *	 64  8 removed count D
 *	 72 32 the owner's state, opaque here (master: the time the list was
 *	       generated; held: epoch, generation, time)
 *	104 32 SHA-256 of bytes 0..103 and of the payload
 *	136    A added keys, ascending; then D removed keys, ascending
 */
#ifndef SVRCERT_CRL_KEYDELTA_H
#define SVRCERT_CRL_KEYDELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl_walk.h"

#define SVRCERT_KEYDELTA_MAGIC		"SVRCDLT"	/* + NUL: 8 bytes */
#define SVRCERT_KEYDELTA_VERSION	1
#define SVRCERT_KEYDELTA_HDR_LEN	136
#define SVRCERT_KEYDELTA_SUFFIX		".delta"
#define SVRCERT_KEYDELTA_STATE_LEN	32
/* A delta is compacted into a new base past max(MIN, base keys / DIV)
 * keys: at 1 M keys, 31 250 keys (1 MB) written at most per change, and a
 * new 32 MB base at most once per 31 250 keys changed. */
#define SVRCERT_KEYDELTA_MIN_KEYS	4096
#define SVRCERT_KEYDELTA_DIV		32

/* The change from a base to the current set. */
struct svrcert_keydelta {
	uint8_t base_check[32];
	uint64_t count;			/* keys in the current set */
	uint8_t state[SVRCERT_KEYDELTA_STATE_LEN];
	svrcert_revkey_t *added;	/* ascending */
	size_t nadded;
	svrcert_revkey_t *removed;	/* ascending */
	size_t nremoved;
};

void svrcert_keydelta_release(struct svrcert_keydelta *d);

/* "<dir>/x.bin" -> "<dir>/x.delta" (any other name: NAME ".delta").
 * -ENAMETOOLONG when OUT is too small. */
int svrcert_keydelta_path(const char *base, char *out, size_t len);

/* Write D to PATH atomically, mode 0644. 0 or -errno, ERR naming PATH. */
int svrcert_keydelta_write(const char *path, const struct svrcert_keydelta *d,
			   char *err, size_t errlen);

/* Read PATH. -ENOENT when there is none (ERR untouched); -EBADMSG naming
 * the problem (bad magic, version, size, checksum, key order, a key both
 * added and removed), or -errno of the read. */
int svrcert_keydelta_read(const char *path, struct svrcert_keydelta *d,
			  char *err, size_t errlen);

/*
 * The set *KEYS / *N (ascending, unique; *KEYS at *BUF + HDR, in one
 * malloc'd buffer *BUF with HDR bytes before the keys) becomes
 * (set - MINUS) + PLUS in place: *BUF may move (realloc). The work is a
 * binary search per key and one memmove of the keys behind each change,
 * never a second copy of the set. *MISSING / *PRESENT (may be NULL): keys
 * of MINUS not in the set, of PLUS already in it; with STRICT either one
 * leaves the set as it was and returns -EXDEV; without, such keys are
 * skipped. 0, -EXDEV or -ENOMEM (the set as it was).
 */
int svrcert_revkeys_patch_in_place(uint8_t **buf, size_t hdr,
				   svrcert_revkey_t **keys, size_t *n,
				   const svrcert_revkey_t *minus, size_t nminus,
				   const svrcert_revkey_t *plus, size_t nplus,
				   bool strict, size_t *missing,
				   size_t *present);

/* The base set BUF/KEYS/N (as above) with D applied: D must name
 * BASE_CHECK (else -ESTALE, nothing changed: the caller ignores D) and fit
 * (else -EBADMSG naming the problem, nothing changed). */
int svrcert_keydelta_apply(const struct svrcert_keydelta *d,
			   const uint8_t base_check[32], uint8_t **buf,
			   size_t hdr, svrcert_revkey_t **keys, size_t *n,
			   char *err, size_t errlen);

struct svrcert_keylog;

/* A reader's last step, for every base + delta pair: D (NULL: none was
 * found) applied to the base set just read (as above, its checksum field
 * BASE_CHECK) when it names that base (one naming another is ignored: a
 * crash left it behind a newer base), and LOG (may be NULL) resumed from
 * what is on disk. *TAKEN: D was applied (its state is the set's). 0,
 * -EBADMSG (D does not fit) or -ENOMEM, ERR set. */
int svrcert_keydelta_take(const struct svrcert_keydelta *d,
			  const uint8_t base_check[32], uint8_t **buf,
			  size_t hdr, svrcert_revkey_t **keys, size_t *n,
			  struct svrcert_keylog *log, bool *taken, char *err,
			  size_t errlen);

/*
 * The writer's side: what is on disk as base, and the cumulative change
 * since, kept in memory so that a change costs a merge of small arrays.
 */
struct svrcert_keylog {
	bool based;			/* a base with base_check is on disk */
	bool base_due;			/* the next write is a base all the same */
	uint8_t base_check[32];
	size_t base_n;
	svrcert_revkey_t *added, *removed;	/* ascending */
	size_t nadded, nremoved;
};

void svrcert_keylog_release(struct svrcert_keylog *l);

/* A new base (the whole set, N keys, checksum CHECK) is on disk and no
 * delta beside it: the change since is empty. */
void svrcert_keylog_rebase(struct svrcert_keylog *l, const uint8_t check[32],
			   size_t n);

/* Nothing known on disk: the next write must be a base, and the delta
 * beside it goes first (it might name a base of the same checksum). */
void svrcert_keylog_unbase(struct svrcert_keylog *l);

/* The next write must be a base (the set changed too much for a delta, or
 * the running delta was lost), while what is on disk stays known: the
 * base is written first, then the delta goes (it names the old base, so a
 * crash in between leaves one that is ignored). */
void svrcert_keylog_force_base(struct svrcert_keylog *l);

/* Continue from what a reader found: BASE_CHECK / BASE_N and D (NULL: no
 * delta). 0 or -ENOMEM (then unbased). */
int svrcert_keylog_resume(struct svrcert_keylog *l,
			  const uint8_t base_check[32], size_t base_n,
			  const struct svrcert_keydelta *d);

/* The set changed by ADDED (keys that were not in it) and REMOVED (keys
 * that were), each ascending. A change past the bound alone forces a base
 * (svrcert_keylog_force_base). 0 or -ENOMEM (then a base is forced too:
 * always right). */
int svrcert_keylog_note(struct svrcert_keylog *l,
			const svrcert_revkey_t *added, size_t nadded,
			const svrcert_revkey_t *removed, size_t nremoved);

/* Whether the next write must be a base: unbased, forced, or the delta
 * is past its bound. */
bool svrcert_keylog_due(const struct svrcert_keylog *l);

/*
 * Write the set L follows (COUNT keys, the owner's STATE): the delta to
 * DPATH when a delta will do (svrcert_keylog_due false; *WROTE_DELTA
 * true); else the base, by WRITE_BASE(CTX, its checksum field out), and
 * the delta removed: after the base when L knew the base on disk (the
 * old delta names that base, so one a crash leaves behind is ignored),
 * before it when not (an earlier run's delta might name a base of the
 * same checksum); L then rebased on the new base. The one place this
 * order is decided, for every base + delta pair. 0 or -errno, ERR set.
 */
int svrcert_keylog_write(struct svrcert_keylog *l, const char *dpath,
			 uint64_t count,
			 const uint8_t state[SVRCERT_KEYDELTA_STATE_LEN],
			 int (*write_base)(void *ctx, uint8_t check[32],
					   char *err, size_t errlen),
			 void *ctx, bool *wrote_delta, char *err,
			 size_t errlen);

/* The delta to write for the current set of COUNT keys and STATE (its
 * arrays borrowed from L: do not release). */
void svrcert_keylog_delta(const struct svrcert_keylog *l, uint64_t count,
			  const uint8_t state[SVRCERT_KEYDELTA_STATE_LEN],
			  struct svrcert_keydelta *d);

#endif
