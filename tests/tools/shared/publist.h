/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A published revocation list as the bench tools see it (fleet_watch,
 * fleet_load; issue 15): master.bin (the base, crl/crl_master.h) and,
 * when there is one, master.delta beside it (the keys added to and
 * removed from that base since, crl/crl_keydelta.h): the list is base +
 * added - removed. A delta naming another base than master.bin's header
 * checksum is one a compaction left behind: ignored, master.bin alone is
 * the list.
 *
 * A list is known by its key count and XOR-fold (the XOR of its 32-byte
 * keys): fold(base + added - removed) = fold(base) ^ fold(added) ^
 * fold(removed), since added keys are not in the base and removed ones
 * are. A base's fold is computed once per base (keyed by its header
 * checksum, in a cache shared by every list: the routers and the
 * conductor mostly hold the same bases) by reading it once, its payload
 * SHA-256 checked; after that a change costs a stat of both files per
 * poll and a read of the small delta, not a read and hash of 100 copies
 * of a 32 MB list, which would load the host being measured. (The fold
 * identifies a set of hash-derived keys for this purpose; it is no
 * defence against keys chosen to collide.)
 *
 * A list's publish time is the mtime of the newer of the files that make
 * it (master.bin alone when there is no delta or it is stale). Files are
 * read again only when their inode, size or mtime changed; a file
 * replaced while it was read, or a delta that does not add up, leaves the
 * list unknown until the next change.
 */
#ifndef SVRCERT_TOOLS_PUBLIST_H
#define SVRCERT_TOOLS_PUBLIST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>

#define PUBLIST_KEY 32
#define PUBLIST_CACHE 16	/* bases remembered; a run sees a few */

/* What a file was when read: a change of any of these is a new file. */
struct publist_fid {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The fold of each base seen, by its header checksum (zeroed: empty). */
struct publist_cache {
	struct {
		uint8_t check[32];
		uint8_t fold[PUBLIST_KEY];
		unsigned long used;
	} e[PUBLIST_CACHE];
	int n;
	unsigned long tick;
};

/* One published list and what it was when last read in one piece. */
struct publist {
	const char *name;		/* for messages */
	char base[4200], delta[4200];
	struct publist_fid bf, df;
	bool known;			/* count, fold and published are valid */
	uint64_t count;
	uint8_t fold[PUBLIST_KEY];
	double published;		/* seconds since the epoch */
};

/* L for the master.bin at BASE; its delta is BASE with .bin -> .delta.
 * NAME (kept, not copied) prefixes messages. 0 or -ENAMETOOLONG. */
int publist_init(struct publist *l, const char *name, const char *base);

/*
 * Look at L again: nothing is read while neither file changed. WITH_FOLD
 * false: the count only, no base is ever read whole (L->fold stays zero).
 * A bad file is said once on stderr, when it is read.
 */
void publist_poll(struct publist *l, struct publist_cache *c, bool with_fold);

#endif
