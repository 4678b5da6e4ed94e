// SPDX-License-Identifier: GPL-2.0
/*
 * fleet_watch - when did each router's published list reach a state, for
 * scripts/bench-fleet.
 *
 *   fleet_watch [-t SECS] (-c COND_MASTER | -n COUNT) [-x TRIGGER] DIR...
 *
 * (No DIR with -c -x: only the conductor's ingest is timed.)
 *
 * Each DIR is a router's state directory; its published list is
 * DIR/master.bin and, after a small change, DIR/master.delta beside it,
 * read and judged by shared/publist.h: known by its key count and
 * XOR-fold, each base read whole once (its fold cached by checksum, shared
 * by every DIR and the conductor), then a stat of both files per poll and
 * a read of what changed -- not a read and hash of 100 copies of a 32 MB
 * list at every change, which would load the host the measurement runs on.
 *
 *   -c FILE   the conductor's master.bin (its delta: FILE with .bin ->
 *             .delta). With -x: its list is read, the TRIGGER run (sh -c),
 *             then the watch waits until the conductor publishes another
 *             list (its ingest of the new CRL); t0 is that list's publish
 *             time (below), the target its count and fold. Without -x: the
 *             target is the conductor's current list, t0 now (a sync).
 *   -n COUNT  the target is a list of COUNT keys (the baseline, routers
 *             fetching the CA's CRL themselves); t0 is when TRIGGER ended.
 *             Only the headers are read.
 *   -t SECS   give up after SECS (default 120) past t0.
 *
 * A router reaches the target when its list has the target's count and
 * fold (-c) or count (-n); its latency is the list's publish time - t0:
 * the mtime of the newer of the two files that make it (master.bin alone
 * when there is no delta or it is stale), the moment the router published
 * it, not when this tool saw it (the 5 ms poll adds nothing).
 * Output, one line each:
 *   ingest trigger_s=S keys=N          (-c -x: trigger start to ingest)
 *   router DIR latency_s=L
 *   missing DIR                        (not reached within -t)
 *   summary routers=N reached=R max_s=M
 * Exit 0 when every router reached it, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crl/crl_master.h"
#include "shared/publist.h"

#define KEY PUBLIST_KEY

static double ts_s(struct timespec t)
{
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return ts_s(t);
}

struct target {
	bool by_count;
	uint64_t count;
	uint8_t fold[KEY];
};

static bool reached(const struct publist *l, const struct target *t)
{
	return l->known && l->count == t->count &&
	       (t->by_count || !memcmp(l->fold, t->fold, KEY));
}

/* Wait for the conductor's list to change from OLD (count and fold). */
static int await_ingest(struct publist *cond, struct publist_cache *c,
			const struct target *old, double until)
{
	while (now_s() < until) {
		publist_poll(cond, c, true);
		if (cond->known && (cond->count != old->count ||
				    memcmp(cond->fold, old->fold, KEY)))
			return 0;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

static int watch(struct publist *ls, int n, struct publist_cache *c,
		 const struct target *t, double t0, double until)
{
	double *lat = calloc(n, sizeof(*lat)), max = 0;
	int left = n, i;

	for (i = 0; i < n; i++)
		lat[i] = -1;
	while (left && now_s() < until) {
		for (i = 0; i < n; i++) {
			if (lat[i] >= 0)
				continue;
			publist_poll(&ls[i], c, !t->by_count);
			if (!reached(&ls[i], t))
				continue;
			lat[i] = ls[i].published - t0;
			if (lat[i] < 0)		/* held it before t0 */
				lat[i] = 0;
			left--;
		}
		if (left)
			usleep(5000);
	}
	for (i = 0; i < n; i++) {
		if (lat[i] < 0) {
			printf("missing %s\n", ls[i].name);
			continue;
		}
		printf("router %s latency_s=%.4f\n", ls[i].name, lat[i]);
		if (lat[i] > max)
			max = lat[i];
	}
	printf("summary routers=%d reached=%d max_s=%.4f\n", n, n - left, max);
	free(lat);
	return left ? 1 : 0;
}

/* The routers' lists: DIR/master.bin (+ DIR/master.delta) for each DIR. */
static struct publist *router_lists(char **dirs, int n)
{
	struct publist *ls = calloc(n ? n : 1, sizeof(*ls));
	char path[4200];
	int i;

	for (i = 0; ls && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i],
			 SVRCERT_MASTER_FILE);
		if (publist_init(&ls[i], dirs[i], path)) {
			fprintf(stderr, "fleet_watch: %s: name too long\n",
				dirs[i]);
			free(ls);
			return NULL;
		}
	}
	return ls;
}

/* The conductor's list now (L->known false: cannot be read in TIMEOUT). */
static void first_look(struct publist *l, struct publist_cache *c, double timeout)
{
	double until = now_s() + timeout;

	for (publist_poll(l, c, true); !l->known && now_s() < until;
	     publist_poll(l, c, true))
		usleep(5000);
}

int main(int argc, char **argv)
{
	const char *cond = NULL, *trigger = NULL;
	struct publist_cache *cache = calloc(1, sizeof(*cache));
	struct target t = { 0 };
	struct publist cl, *ls;
	double timeout = 120, t0, ts;
	int c;

	while ((c = getopt(argc, argv, "t:c:n:x:")) != -1) {
		switch (c) {
		case 't': timeout = atof(optarg); break;
		case 'c': cond = optarg; break;
		case 'n': t.by_count = true; t.count = strtoull(optarg, NULL, 10); break;
		case 'x': trigger = optarg; break;
		default: return 2;
		}
	}
	if ((optind >= argc && !(cond && trigger)) || !!cond == t.by_count) {
		fprintf(stderr, "usage: fleet_watch [-t SECS] (-c COND_MASTER | -n COUNT) [-x TRIGGER] DIR...\n");
		return 2;
	}
	if (!cache || !(ls = router_lists(argv + optind, argc - optind)))
		return 2;
	if (cond && (publist_init(&cl, cond, cond) ||
		     (first_look(&cl, cache, 1), !cl.known))) {
		fprintf(stderr, "fleet_watch: cannot read %s\n", cond);
		return 2;
	}
	if (cond) {
		t.count = cl.count;
		memcpy(t.fold, cl.fold, KEY);
	}
	/* the routers' bases folded now, not in the window measured */
	for (c = 0; trigger && cond && c < argc - optind; c++)
		publist_poll(&ls[c], cache, true);
	ts = now_s();
	if (trigger && system(trigger)) {
		fprintf(stderr, "fleet_watch: trigger failed: %s\n", trigger);
		return 2;
	}
	t0 = now_s();
	if (cond && trigger) {
		if (await_ingest(&cl, cache, &t, t0 + timeout)) {
			fprintf(stderr, "fleet_watch: the conductor published nothing new within %.0f s\n",
				timeout);
			return 1;
		}
		t0 = cl.published;
		printf("ingest trigger_s=%.4f keys=%llu\n", t0 - ts,
		       (unsigned long long)cl.count);
		t.count = cl.count;
		memcpy(t.fold, cl.fold, KEY);
	}
	fflush(stdout);
	return watch(ls, argc - optind, cache, &t, t0, now_s() + timeout);
}
