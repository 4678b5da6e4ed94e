/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_master -- the master revocation list (the union of the keys of every
 * source's last good CRL, plus keys learned at runtime), its diff against
 * the previous master, the system.crl_update audit detail, and publishing
 * to a directory any web server can serve:
 *
 *	<dir>/index.json		what is there (written last)
 *	<dir>/master.bin		the master list, format below
 *	<dir>/master.delta		the change of the list since master.bin
 *					was written (crl_keydelta.h), when small
 *	<dir>/crl/<name>.crl		each source's verified CRL, as fetched
 *	<dir>/crl/<name>-<id>.crl	the CRL of an issuer the source's URL
 *					served before its current one, still in
 *					force (svrcert_crl_source_prev_file)
 *
 * master.bin (all integers big-endian):
 *	 0  8  magic "SVRCRLM\0"
 *	 8  4  version (1)
 *	12  4  header length (64)
 *	16  8  key count N
 *	24 32  SHA-256 of the payload
 *	56  8  generated, seconds since the epoch
 *	64 32N payload: N revocation keys, ascending, unique
 *
 * The list is master.bin with master.delta applied: a change of a few keys
 * rewrites master.delta, not 32 MB (issue 15); master.bin is rewritten
 * when the delta outgrows its bound (crl_keydelta.h) or the writer does
 * not know what is on disk. The delta's state holds the time the list was
 * generated (8 bytes, big-endian).
 *
 * Another router can use <base>/crl/<name>.crl as a CRL source (it is the
 * CA-signed CRL, verified again there); master.bin is for fast loading.
 */
#ifndef SVRCERT_CRL_MASTER_H
#define SVRCERT_CRL_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "crl_keydelta.h"
#include "crl_learned.h"
#include "crl_source.h"
#include "crl_walk.h"

#define SVRCERT_MASTER_MAGIC	"SVRCRLM"	/* + NUL: 8 bytes */
#define SVRCERT_MASTER_VERSION	1
#define SVRCERT_MASTER_HDR_LEN	64
#define SVRCERT_MASTER_OFF_SHA256 24
#define SVRCERT_MASTER_FILE	"master.bin"
#define SVRCERT_MASTER_DELTA	"master.delta"
#define SVRCERT_MASTER_INDEX	"index.json"
#define SVRCERT_MASTER_CRL_DIR	"crl"

struct svrcert_master {
	uint8_t *buf;		/* the master.bin image: header, then keys */
	svrcert_revkey_t *keys;	/* = buf + SVRCERT_MASTER_HDR_LEN; ascending,
				 * unique */
	size_t n;
	time_t generated;
};

/* Union of the keys of every CRL the sources hold (each one's current CRL
 * and its previous issuers', prev[]) and EXTRA (any order). 0 or -ENOMEM. */
int svrcert_master_build(struct svrcert_crl_source *const *srcs, size_t nsrc,
			 const svrcert_revkey_t *extra, size_t nextra,
			 time_t now, struct svrcert_master *out);
void svrcert_master_release(struct svrcert_master *m);

/*
 * Keys in NEW but not OLD (added) and in OLD but not NEW (removed), both
 * sorted. The arrays are optional (NULL: count only); when given they are
 * malloc'd (NULL when empty). 0 or -ENOMEM.
 */
int svrcert_revkeys_diff(const svrcert_revkey_t *old, size_t nold,
			 const svrcert_revkey_t *nw, size_t nnew,
			 svrcert_revkey_t **added, size_t *nadded,
			 svrcert_revkey_t **removed, size_t *nremoved);

/* Binary search in a sorted key array. */
bool svrcert_revkeys_contains(const svrcert_revkey_t *keys, size_t n,
			      const uint8_t key[SVRCERT_REVKEY_LEN]);

/* master.bin to/from bytes and files. Writes are atomic (temp, fsync,
 * rename, fsync dir); svrcert_master_write writes PATH only. The loader
 * checks magic, version, header length, the size against the count, the
 * payload SHA-256 and the key order, then applies the delta beside PATH
 * (master.delta) when there is one naming this base, and says which check
 * failed: -EBADMSG (or -errno of the read). M's header then describes the
 * base. svrcert_master_load_log also hands what is on disk to LOG, for a
 * writer that goes on (svrcert_master_publish_log). */
int svrcert_master_write(const char *path, const struct svrcert_master *m);
int svrcert_master_load(const char *path, struct svrcert_master *m,
			char *err, size_t errlen);
int svrcert_master_load_log(const char *path, struct svrcert_master *m,
			    struct svrcert_keylog *log, char *err,
			    size_t errlen);

/* Remove from the sorted list M the keys of MINUS, add those of PLUS (each
 * ascending; keys already gone or there are skipped), in place. 0 or
 * -ENOMEM (M as it was). */
int svrcert_master_patch(struct svrcert_master *m,
			 const svrcert_revkey_t *minus, size_t nminus,
			 const svrcert_revkey_t *plus, size_t nplus);

/* What one update did, for the audit event. */
struct svrcert_crl_update {
	const struct svrcert_crl_source *src;
	bool forced;		/* operator asked (svrcertctl crl fetch --force) */
	bool success;
	size_t size;		/* bytes received (0 for 304 / no body) */
	size_t added, removed;	/* change of the master list */
};

/* The seed's "Json Event Detail" of system.crl_update: forced,
 * last_updated, next_update, crl_url, size, total_entries, added_entries,
 * removed_entries, success, certificate_authority. NULL on ENOMEM. */
json_t *svrcert_crl_update_detail(const struct svrcert_crl_update *u);
#define SVRCERT_AUDIT_CRL_UPDATE "system.crl_update"

/* "Oct 17 16:33:11 2024 GMT" (the form OpenSSL prints CRL dates in). */
void svrcert_crl_time_text(time_t t, char *buf, size_t len);

/*
 * Publish: every good source's CRL to <dir>/crl/<name>.crl, the master to
 * <dir>/master.bin, then <dir>/index.json; each file atomically, index
 * last so a reader following it finds complete files. CRL files of URLs no
 * longer configured, and temp files a killed publish left behind
 * (svrcert_master_cleanup), are removed afterwards: DIR has one publisher.
 * 0 or -errno (err says which file).
 */
int svrcert_master_publish(const char *dir, struct svrcert_crl_source *const *srcs,
			   size_t nsrc, const struct svrcert_master *m,
			   time_t now, char *err, size_t errlen);

/*
 * The same, and index.json also describes the learned source (LEARNED may
 * be NULL: no such section), which its owner saves as <dir>/learned.json:
 *	"learned": {"file": "learned.json", "revoked": R, "expired": E,
 *		    "in_master": R}
 */
int svrcert_master_publish_learned(const char *dir,
				   struct svrcert_crl_source *const *srcs,
				   size_t nsrc,
				   const struct svrcert_learned *learned,
				   const struct svrcert_master *m, time_t now,
				   char *err, size_t errlen);

/*
 * The same, and the list is written as master.delta when LOG (what is on
 * disk and the change since: svrcert_keylog_note after each change of M)
 * says a delta will do; else master.bin, and LOG rebased on it.
 */
int svrcert_master_publish_log(const char *dir,
			       struct svrcert_crl_source *const *srcs,
			       size_t nsrc,
			       const struct svrcert_learned *learned,
			       const struct svrcert_master *m,
			       struct svrcert_keylog *log, time_t now,
			       char *err, size_t errlen);

/*
 * Whether NAME (a file name in <dir>/crl) is a held CRL a reader may take:
 * it ends in .crl (what publish writes), .pem or .der (placed by hand) and
 * is neither a dot file nor the temp file of a write ("<name>.tmp.XXXXXX",
 * complete or not: a crash leaves it behind). Readers of crl/ read only
 * such names, so nothing half-written is ever read.
 */
bool svrcert_master_crl_name_ok(const char *name);

/*
 * Removes the temp files an interrupted publish left in <dir>/crl and
 * those of master.bin, index.json and learned.json in <dir>. Every publish
 * ends with it; svrcertd's start should call it too, once it owns DIR
 * (nobody else publishes there), so that nothing stale stays until the
 * first publish. The number of files removed, or -errno.
 */
int svrcert_master_cleanup(const char *dir);

/* The "crls" array of <dir>/index.json as last published; an empty array
 * when nothing was published (or it cannot be read). */
json_t *svrcert_master_published_crls(const char *dir);

#endif
