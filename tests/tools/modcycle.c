// SPDX-License-Identifier: GPL-2.0
/*
 * modcycle - load, configure and unload svrcert.ko many times, from one
 * program (tests/guest/45-stress.sh: under the debug kernel a program
 * start costs 1.5-3 s, four per cycle made 50 cycles unaffordable).
 *
 *   modcycle -k MODULE.ko -c TEMPLATE.der -n PEERS -b BASE_ADDR
 *            [-s STATE] [-i CYCLES] [-w PACKETS] [-t SECONDS]
 *
 * Each of CYCLES cycles (default 50):
 *   load       finit_module(2) of MODULE.ko, no parameters (insmod);
 *   configure  PEERS peers as peerload -c TEMPLATE.der -n PEERS -b BASE_ADDR
 *              -s STATE adds them (shared/peerset.h; STATE default unknown),
 *              then the policy of `svrcertctl set peer-validation on
 *              failure-mode fail-hard self-state valid`, in one message;
 *   traffic    until the module has dropped PACKETS packets (default 10) as
 *              from an unauthenticated peer: the peers and the policy are
 *              in force and packets are passing through the hooks -- at
 *              most SECONDS (default 10) -- so the unload meets traffic;
 *   unload     delete_module(2), O_NONBLOCK (rmmod).
 * Every step is checked; the first failure ends the run with
 * "modcycle: cycle I of N: STEP: why" on stderr and exit 1 (the module
 * stays as the failed step left it). On success prints
 *   N cycles in S s (mean per cycle: load L s, configure C s, traffic T s,
 *   unload U s; slowest cycle X s), P packets judged
 * Needs CAP_SYS_MODULE and CAP_NET_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "netlink/nl.h"
#include "netlink/nl_util.h"
#include "shared/peerset.h"

#define MODULE_NAME "svrcert"

struct opts {
	const char *ko;
	unsigned int cycles, packets;
	double timeout;
};

enum step { LOAD, CONFIGURE, TRAFFIC, UNLOAD, N_STEPS };
static const char *const step_name[N_STEPS] = {
	"load", "configure", "traffic", "unload",
};

struct totals {
	double secs[N_STEPS];
	double slowest;
	uint64_t judged;	/* packets the hooks judged, all cycles */
};

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load(const char *ko, char *err, size_t len)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		snprintf(err, len, "%s: %s", ko, strerror(errno));
		return -1;
	}
	ret = syscall(SYS_finit_module, fd, "", 0);
	if (ret < 0)
		snprintf(err, len, "finit_module %s: %s", ko, strerror(errno));
	close(fd);
	return ret < 0 ? -1 : 0;
}

/* The peers, then the policy; *NL: the handle, open after the load. */
static int configure(struct svrcert_nl **nl, struct peerset *ps, char *err,
		     size_t len)
{
	struct svrcert_policy p;
	int ret;

	if (svrcert_nl_open(nl) < 0) {
		snprintf(err, len, "%s", svrcert_nl_open_errmsg());
		return -1;
	}
	if (peerset_add(ps, *nl, err, len) < 0)
		return -1;
	svrcert_policy_init_keep(&p);
	p.peer_validation = 1;
	p.failure_mode = SVRCERT_FAIL_HARD;
	p.self_state = SVRCERT_STATE_VALID;
	ret = svrcert_nl_set_policy(*nl, &p);
	if (ret < 0) {
		snprintf(err, len, "set policy: %s%s%s", strerror(-ret),
			 *svrcert_nl_errmsg(*nl) ? ": kernel says: " : "",
			 svrcert_nl_errmsg(*nl));
		return -1;
	}
	return 0;
}

/* The module is fresh each cycle, so its counters are this cycle's. */
static int await_judged(struct svrcert_nl *nl, const struct opts *o,
			uint64_t *judged, char *err, size_t len)
{
	const struct timespec poll = { .tv_nsec = 1000 * 1000 };
	double end = now_sec() + o->timeout;
	struct svrcert_kstats st;
	uint64_t dropped = 0;
	int ret;

	for (;;) {
		ret = svrcert_nl_stats_get(nl, &st);
		if (ret < 0) {
			snprintf(err, len, "show stats: %s", strerror(-ret));
			return -1;
		}
		dropped = st.dropped[SVRCERT_REASON_UNAUTHENTICATED];
		if (dropped >= o->packets)
			break;
		if (now_sec() > end) {
			snprintf(err, len, "%llu of %u packets dropped as from an "
				 "unauthenticated peer in %.0f s (is traffic flowing?)",
				 (unsigned long long)dropped, o->packets, o->timeout);
			return -1;
		}
		nanosleep(&poll, NULL);
	}
	*judged += dropped + st.not_peer;
	return 0;
}

static int unload(char *err, size_t len)
{
	if (syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK) < 0) {
		snprintf(err, len, "delete_module %s: %s", MODULE_NAME, strerror(errno));
		return -1;
	}
	return 0;
}

/* One cycle: -1, or the step that failed (ERR says why). */
static int cycle(const struct opts *o, struct peerset *ps, struct totals *tot,
		 char *err, size_t len)
{
	struct svrcert_nl *nl = NULL;
	double t0 = now_sec(), t = t0, t1;
	int step, ret = 0;

	for (step = LOAD; step < N_STEPS; step++) {
		switch (step) {
		case LOAD: ret = load(o->ko, err, len); break;
		case CONFIGURE: ret = configure(&nl, ps, err, len); break;
		case TRAFFIC: ret = await_judged(nl, o, &tot->judged, err, len); break;
		case UNLOAD:
			/* no handle of ours outlives the module */
			svrcert_nl_close(nl);
			nl = NULL;
			ret = unload(err, len);
			break;
		}
		if (ret)
			break;
		t1 = now_sec();
		tot->secs[step] += t1 - t;
		t = t1;
	}
	if (nl)
		svrcert_nl_close(nl);
	if (ret)
		return step;
	if (t - t0 > tot->slowest)
		tot->slowest = t - t0;
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: modcycle -k MODULE.ko -c TEMPLATE.der -n PEERS "
		"-b BASE_ADDR [-s STATE] [-i CYCLES] [-w PACKETS] [-t SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o = { .cycles = 50, .packets = 10, .timeout = 10 };
	struct peerset ps = { .prefix = "b", .state = SVRCERT_STATE_UNKNOWN,
			      .esp_port = -1 };
	const char *tmpl = NULL, *base_s = NULL;
	struct totals tot;
	unsigned int count = 0, i;
	int c, failed = -1;
	char err[512];
	double t0;

	while ((c = getopt(argc, argv, "k:c:n:b:s:i:w:t:h")) != -1) {
		switch (c) {
		case 'k': o.ko = optarg; break;
		case 'c': tmpl = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'b': base_s = optarg; break;
		case 'i': o.cycles = strtoul(optarg, NULL, 0); break;
		case 'w': o.packets = strtoul(optarg, NULL, 0); break;
		case 't': o.timeout = atof(optarg); break;
		case 's':
			if (svrcert_nl_state_parse(optarg, &ps.state) < 0)
				return usage();
			break;
		default: return usage();
		}
	}
	memset(&tot, 0, sizeof(tot));
	if (!o.ko || !tmpl || !count || !o.cycles || !base_s ||
	    svrcert_nl_addr_parse(base_s, &ps.base) < 0)
		return usage();
	if (peerset_load(&ps, tmpl, count, err, sizeof(err)) < 0) {
		fprintf(stderr, "modcycle: %s\n", err);
		peerset_free(&ps);
		return 1;
	}
	t0 = now_sec();
	for (i = 1; i <= o.cycles && failed < 0; i++)
		failed = cycle(&o, &ps, &tot, err, sizeof(err));
	peerset_free(&ps);
	if (failed >= 0) {
		fprintf(stderr, "modcycle: cycle %u of %u: %s: %s\n", i - 1,
			o.cycles, step_name[failed], err);
		return 1;
	}
	printf("%u cycles in %.1f s (mean per cycle: load %.3f s, configure "
	       "%.3f s, traffic %.3f s, unload %.3f s; slowest cycle %.3f s), "
	       "%llu packets judged\n", o.cycles, now_sec() - t0,
	       tot.secs[LOAD] / o.cycles, tot.secs[CONFIGURE] / o.cycles,
	       tot.secs[TRAFFIC] / o.cycles, tot.secs[UNLOAD] / o.cycles,
	       tot.slowest, (unsigned long long)tot.judged);
	return 0;
}
