// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show stats [-j]: the kernel's data-path counters.
 * "show stats security ..." is the daemon's counters (show_security.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"

/* Every reason a packet can be counted under (UNSPEC never is). */
#define FIRST_REASON SVRCERT_REASON_OK

struct counter {
	const char *name;	/* text; JSON uses '_' for '-' */
	const char *json;
	size_t offset;
	int u32;
};

#define C64(n, j, f) { n, j, offsetof(struct svrcert_kstats, f), 0 }
#define C32(n, j, f) { n, j, offsetof(struct svrcert_kstats, f), 1 }
static const struct counter counters[] = {
	C64("not-peer", "not_peer", not_peer),
	C64("tx-not-peer", "tx_not_peer", tx_not_peer),
	C64("peer-cert-expired", "peer_cert_expired", peer_cert_expired),
	C64("peer-cert-invalid", "peer_cert_invalid", peer_cert_invalid),
	C64("peer-cert-revoked", "peer_cert_revoked", peer_cert_revoked),
	C32("keys", "keys", keys),
	C32("keys-max", "keys_max", keys_max),
	C64("keys-mem", "keys_mem", keys_mem),
	C32("peers", "peers", peers),
	C32("peers-max", "peers_max", peers_max),
	C64("events-sent", "events_sent", events_sent),
	C64("events-suppressed", "events_suppressed", events_suppressed),
	C64("keys-deltas", "keys_deltas", keys_deltas),
	C64("keys-loads", "keys_loads", keys_loads),
};
#undef C64
#undef C32

static uint64_t counter_value(const struct svrcert_kstats *s, const struct counter *c)
{
	const char *base = (const char *)s + c->offset;
	uint32_t v32;
	uint64_t v64;

	if (c->u32) {
		memcpy(&v32, base, sizeof(v32));
		return v32;
	}
	memcpy(&v64, base, sizeof(v64));
	return v64;
}

static double bytes_per_key(const struct svrcert_kstats *s)
{
	/* One decimal, as the text output prints it. */
	return s->keys ? (double)(s->keys_mem * 10 / s->keys) / 10 : 0.0;
}

static json_t *by_reason_json(const uint64_t *v)
{
	json_t *o = json_object();
	int r;

	for (r = FIRST_REASON; o && r <= SVRCERT_REASON_MAX; r++)
		json_object_set_new(o, svrcert_nl_reason_name(r), ctl_json_u64(v[r]));
	return o;
}

static int print_json(const struct svrcert_kstats *s)
{
	json_t *o = json_object();
	size_t i;

	if (!o)
		return ctl_json_print(NULL);
	json_object_set_new(o, "accepted", by_reason_json(s->accepted));
	json_object_set_new(o, "dropped", by_reason_json(s->dropped));
	json_object_set_new(o, "tx_accepted", by_reason_json(s->tx_accepted));
	json_object_set_new(o, "tx_dropped", by_reason_json(s->tx_dropped));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		json_object_set_new(o, counters[i].json,
				    ctl_json_u64(counter_value(s, &counters[i])));
		if (!strcmp(counters[i].name, "keys-mem"))
			json_object_set_new(o, "bytes_per_key", json_real(bytes_per_key(s)));
	}
	return ctl_json_print(o);
}

/* "accepted.ok 5", one line per reason. */
static void print_by_reason(const char *prefix, const uint64_t *v)
{
	char name[64];
	int r;

	for (r = FIRST_REASON; r <= SVRCERT_REASON_MAX; r++) {
		snprintf(name, sizeof(name), "%s.%s", prefix, svrcert_nl_reason_name(r));
		printf("%-28s %llu\n", name, (unsigned long long)v[r]);
	}
}

static int print_text(const struct svrcert_kstats *s)
{
	size_t i;

	/* Packets received from peers, then sent to them. */
	print_by_reason("accepted", s->accepted);
	print_by_reason("dropped", s->dropped);
	print_by_reason("tx-accepted", s->tx_accepted);
	print_by_reason("tx-dropped", s->tx_dropped);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		printf("%-28s %llu\n", counters[i].name,
		       (unsigned long long)counter_value(s, &counters[i]));
		if (!strcmp(counters[i].name, "keys-mem"))
			printf("%-28s %.1f\n", "bytes-per-key", bytes_per_key(s));
	}
	return CTL_OK;
}

static bool wants_security(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "security"))
			return true;
	return false;
}

int show_stats(int argc, char **argv)
{
	struct svrcert_kstats s;
	struct svrcert_nl *nl;
	bool json;
	int err, ret;

	if (wants_security(argc, argv))
		return show_stats_security(argc, argv);
	json = ctl_take_json_flag(&argc, argv);
	if (argc != 1) {
		fprintf(stderr, "usage: svrcertctl show stats [security ...] [-j]\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open("show stats");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_stats_get(nl, &s);
	if (err)
		ret = ctl_nl_fail(nl, "show stats", err);
	else
		ret = json ? print_json(&s) : print_text(&s);
	ctl_nl_close(nl);
	return ret;
}
