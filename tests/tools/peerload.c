// SPDX-License-Identifier: GPL-2.0
/*
 * peerload - bind many peers at once, for the data-path benchmark.
 *
 *   peerload -c TEMPLATE.der -n COUNT -b BASE_ADDR [-p PREFIX] [-s STATE]
 *            [-e AUTH_PORT]
 *
 * Adds COUNT peers named PREFIX0 .. PREFIX<COUNT-1> (default prefix "b"),
 * peer i on address BASE_ADDR + i, each with TEMPLATE patched to its own
 * serial (shared/peerset.h), over one netlink socket with libsvrcert's
 * svrcert_nl_peer_add(). -e: every peer has ESP required (all protocols,
 * from its address), TCP to AUTH_PORT exempt, as svrcertd binds a peer
 * whose keys are installed (scripts/bench-esp).
 *
 * Prints "added N peers in S s (R peers/s)"; exit 0, or 1 on the first
 * error (reported with the kernel's message). The time is the kernel's
 * and the netlink exchange only: the peers' revocation keys are computed
 * before the clock starts; stderr says how long that took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "netlink/nl.h"
#include "netlink/nl_util.h"
#include "shared/peerset.h"

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: peerload -c TEMPLATE.der -n COUNT -b BASE_ADDR "
		"[-p PREFIX] [-s STATE] [-e AUTH_PORT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct peerset ps = { .prefix = "b", .state = SVRCERT_STATE_VALID,
			      .esp_port = -1 };
	const char *tmpl = NULL, *base_s = NULL;
	unsigned int count = 0;
	struct svrcert_nl *nl;
	char err[512];
	int c, ret;
	double t0, t;

	while ((c = getopt(argc, argv, "c:n:b:p:s:e:h")) != -1) {
		switch (c) {
		case 'c': tmpl = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'b': base_s = optarg; break;
		case 'p': ps.prefix = optarg; break;
		case 'e': ps.esp_port = atoi(optarg); break;
		case 's':
			if (svrcert_nl_state_parse(optarg, &ps.state) < 0)
				return usage();
			break;
		default: return usage();
		}
	}
	if (!tmpl || !count || !base_s || svrcert_nl_addr_parse(base_s, &ps.base) < 0)
		return usage();
	t0 = now_sec();
	if (peerset_load(&ps, tmpl, count, err, sizeof(err)) < 0) {
		fprintf(stderr, "peerload: %s\n", err);
		peerset_free(&ps);
		return 1;
	}
	fprintf(stderr, "peerload: %u revocation keys computed in %.3f s\n", count,
		now_sec() - t0);
	if (svrcert_nl_open(&nl) < 0) {
		fprintf(stderr, "peerload: %s\n", svrcert_nl_open_errmsg());
		peerset_free(&ps);
		return 1;
	}
	t0 = now_sec();
	ret = peerset_add(&ps, nl, err, sizeof(err));
	t = now_sec() - t0;
	if (ret < 0)
		fprintf(stderr, "peerload: %s\n", err);
	else
		printf("added %u peers in %.3f s (%.0f peers/s)\n", count, t,
		       t > 0 ? count / t : 0);
	svrcert_nl_close(nl);
	peerset_free(&ps);
	return ret < 0 ? 1 : 0;
}
