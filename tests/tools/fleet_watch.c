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
 * DIR/master.bin (svrcertd writes it atomically after every change).
 * Only the 64-byte header is read (key count and SHA-256 of the keys):
 * reading and hashing 100 copies of a 32 MB list at every change would
 * load the host the measurement runs on.
 *
 *   -c FILE   the conductor's master.bin. With -x: its header is read, the
 *             TRIGGER run (sh -c), then the watch waits until the conductor
 *             publishes another list (its ingest of the new CRL); t0 is that
 *             file's mtime, the target its digest. Without -x: the target
 *             is the conductor's current list, t0 now (a sync).
 *   -n COUNT  the target is a list of COUNT keys (the baseline, routers
 *             fetching the CA's CRL themselves); t0 is when TRIGGER ended.
 *   -t SECS   give up after SECS (default 120) past t0.
 *
 * A router reaches the target when its master.bin has the target's digest
 * (-c) or count (-n); its latency is that file's mtime - t0 (the moment
 * the router published the list, not when this tool saw it: the 5 ms poll
 * adds nothing). Output, one line each:
 *   ingest trigger_s=S keys=N          (-c -x: trigger start to ingest)
 *   router DIR latency_s=L
 *   missing DIR                        (not reached within -t)
 *   summary routers=N reached=R max_s=M
 * Exit 0 when every router reached it, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crl/crl_master.h"

struct head {
	uint64_t count;
	uint8_t sha[32];
	struct timespec mtime;
};

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

/* DIR's (or FILE's) master.bin header; -errno, -EBADMSG for a bad one. */
static int read_head(const char *path, struct head *h)
{
	uint8_t b[SVRCERT_MASTER_HDR_LEN];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), i;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, b, sizeof(b));
	if (fstat(fd, &st))
		n = -1;
	close(fd);
	if (n != (ssize_t)sizeof(b) || memcmp(b, SVRCERT_MASTER_MAGIC, 8))
		return -EBADMSG;
	h->count = 0;
	for (i = 0; i < 8; i++)
		h->count = h->count << 8 | b[16 + i];
	memcpy(h->sha, b + SVRCERT_MASTER_OFF_SHA256, 32);
	h->mtime = st.st_mtim;
	return 0;
}

struct target {
	bool by_count;
	uint64_t count;
	uint8_t sha[32];
};

static bool reached(const struct head *h, const struct target *t)
{
	return t->by_count ? h->count == t->count :
			     !memcmp(h->sha, t->sha, 32);
}

/* Wait for the conductor's list to change from OLD; its header in NEW. */
static int await_ingest(const char *cond, const struct head *old,
			struct head *nw, double until)
{
	while (now_s() < until) {
		if (!read_head(cond, nw) && memcmp(nw->sha, old->sha, 32))
			return 0;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

static int watch(char **dirs, int n, const struct target *t, double t0,
		 double until)
{
	double *lat = calloc(n, sizeof(*lat)), max = 0;
	char path[4200];
	struct head h;
	int left = n, i;

	for (i = 0; i < n; i++)
		lat[i] = -1;
	while (left && now_s() < until) {
		for (i = 0; i < n; i++) {
			if (lat[i] >= 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
				 SVRCERT_MASTER_FILE);
			if (read_head(path, &h) || !reached(&h, t))
				continue;
			lat[i] = ts_s(h.mtime) - t0;
			if (lat[i] < 0)		/* held it before t0 */
				lat[i] = 0;
			left--;
		}
		if (left)
			usleep(5000);
	}
	for (i = 0; i < n; i++) {
		if (lat[i] < 0) {
			printf("missing %s\n", dirs[i]);
			continue;
		}
		printf("router %s latency_s=%.4f\n", dirs[i], lat[i]);
		if (lat[i] > max)
			max = lat[i];
	}
	printf("summary routers=%d reached=%d max_s=%.4f\n", n, n - left, max);
	free(lat);
	return left ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cond = NULL, *trigger = NULL;
	struct target t = { 0 };
	struct head old, nw;
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
	if (cond && read_head(cond, &old)) {
		fprintf(stderr, "fleet_watch: cannot read %s\n", cond);
		return 2;
	}
	ts = now_s();
	if (trigger && system(trigger)) {
		fprintf(stderr, "fleet_watch: trigger failed: %s\n", trigger);
		return 2;
	}
	t0 = now_s();
	if (cond && trigger) {
		if (await_ingest(cond, &old, &nw, t0 + timeout)) {
			fprintf(stderr, "fleet_watch: the conductor published nothing new within %.0f s\n",
				timeout);
			return 1;
		}
		t0 = ts_s(nw.mtime);
		printf("ingest trigger_s=%.4f keys=%llu\n", t0 - ts,
		       (unsigned long long)nw.count);
	} else if (cond) {
		nw = old;
	}
	if (cond)
		memcpy(t.sha, nw.sha, 32);
	fflush(stdout);
	return watch(argv + optind, argc - optind, &t, t0, now_s() + timeout);
}
