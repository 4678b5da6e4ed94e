// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show peers [NAME] [-j]: peers as the kernel holds them, with
 * the verdict their next packet would get and their packet counters,
 * joined by peering name with svrcertd's view of each peer's last
 * authentication (identity, state, reason, when) when svrcertd runs.
 * Peers svrcertd knows but the kernel does not hold are listed too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/config.h"
#include "lib/ctlsock.h"
#include "lib/util.h"
#include "netlink/nl_util.h"
#include "pki/store_env.h"

#define DUMP_TRIES 5

struct peer_list {
	struct svrcert_peer_info *peers;
	size_t n, cap;
};

static int collect(const struct svrcert_peer_info *peer, void *arg)
{
	struct peer_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct svrcert_peer_info *np = realloc(l->peers, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		l->peers = np;
		l->cap = cap;
	}
	l->peers[l->n++] = *peer;
	return 0;
}

static int peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct svrcert_peer_info *)a)->name,
		      ((const struct svrcert_peer_info *)b)->name);
}

static int dump_all(struct svrcert_nl *nl, struct peer_list *l)
{
	int err = -EAGAIN, tries;

	for (tries = 0; err == -EAGAIN && tries < DUMP_TRIES; tries++) {
		l->n = 0;
		err = svrcert_nl_peers_dump(nl, collect, l);
	}
	if (!err && l->n)
		qsort(l->peers, l->n, sizeof(*l->peers), peer_cmp);
	return err;
}

/*
 * svrcertd's "peers" reply as an object keyed by peering name, or NULL when
 * svrcertd does not run or runs without peer authentication: the kernel's
 * view is then all there is, which is not an error.
 */
static json_t *daemon_peer_view(const struct svrcert_env_args *args)
{
	json_t *req, *resp = NULL, *byname = NULL, *peer;
	struct svrcert_env env;
	char err[256];
	size_t i;

	if (svrcert_env_open(&env, args, err, sizeof(err)))
		return NULL;
	req = json_pack("{s:s}", "command", "peers");
	if (req && !ctlsock_request(svrcert_env_control_socket(&env), req, &resp) &&
	    json_is_true(json_object_get(resp, "ok"))) {
		byname = json_object();
		json_array_foreach(json_object_get(resp, "peers"), i, peer)
			if (byname && json_is_string(json_object_get(peer, "name")))
				json_object_set(byname, json_string_value(
						json_object_get(peer, "name")), peer);
	}
	json_decref(req);
	json_decref(resp);
	svrcert_env_close(&env);
	return byname;
}

static const char *auth_str(json_t *auth, const char *key)
{
	const char *v = json_string_value(json_object_get(auth, key));

	return v && *v ? v : NULL;
}

/* Calls refused for their source address (Documentation/peerauth.md). */
static void auth_refused_text(json_t *refused)
{
	const char *msg = json_string_value(json_object_get(refused, "message"));
	const char *last = json_string_value(json_object_get(refused, "last"));

	if (!json_is_object(refused))
		return;
	printf("  source-refused: %lld (last %s: %s)\n",
	       (long long)json_integer_value(json_object_get(refused, "count")),
	       last ?: "?", msg ?: "?");
}

static void auth_text(json_t *auth)
{
	const char *v;

	if (!auth)
		return;
	printf("  authentication: %s", auth_str(auth, "state") ?: "unknown");
	if ((v = auth_str(auth, "last_authentication")))
		printf(" (%s, via %s)", v, auth_str(auth, "via") ?: "?");
	putchar('\n');
	/* fail-hard severed the peering (Documentation/peerauth.md) */
	if ((v = auth_str(auth, "peering")) && !strcmp(v, "severed")) {
		json_t *sev = json_object_get(auth, "severed");

		printf("  peering: severed since %s: %s\n",
		       auth_str(sev, "since") ?: "?", auth_str(sev, "reason") ?: "?");
	}
	if ((v = auth_str(auth, "identity")))
		printf("  identity: %s\n", v);
	if ((v = auth_str(auth, "reason")))
		printf("  reason: %s\n", v);
	if ((v = auth_str(auth, "transport_error")))
		printf("  transport-error: %s\n", v);
	if ((v = auth_str(auth, "attempt")))
		printf("  now: %s\n", v);
	auth_refused_text(json_object_get(auth, "source_refused"));
	if ((v = auth_str(auth, "kernel")))
		printf("  binding: %s\n", v);
}

/* The protected protocol as svrcert.conf's protect = names it. */
static const char *protect_text(int proto, char *buf, size_t len)
{
	const char *name = svrcert_protect_name((uint8_t)proto);

	if (name)
		return name;
	snprintf(buf, len, "%d", proto);
	return buf;
}

/* {"required", "from", "protect", "auth_port", "peer_auth_port"}: UAPI's
 * ESP_*; "from" [] when ESP would cover all the peer's addresses. */
static json_t *esp_json(const struct svrcert_peer_info *p)
{
	char num[8], addr[INET6_ADDRSTRLEN];
	json_t *from = json_array();
	size_t i;

	for (i = 0; from && i < p->n_esp_addrs; i++)
		json_array_append_new(from, json_string(svrcert_nl_addr_format(&p->esp_addrs[i],
									      addr, sizeof(addr))));
	return json_pack("{s:b, s:o*, s:s, s:i, s:i}", "required", p->esp_required, "from", from,
			 "protect", protect_text(p->esp_proto, num, sizeof(num)),
			 "auth_port", p->auth_port, "peer_auth_port", p->peer_auth_port);
}

/* "esp: required from 10.80.2.1 (protect all; exempt: tcp to 4480, tcp from 4480)" */
static void esp_text(const struct svrcert_peer_info *p)
{
	char num[8], addr[INET6_ADDRSTRLEN];
	size_t i;

	if (!p->esp_required) {
		printf("  esp: not required\n");
		return;
	}
	printf("  esp: required from");
	for (i = 0; i < p->n_esp_addrs; i++)
		printf(" %s", svrcert_nl_addr_format(&p->esp_addrs[i], addr, sizeof(addr)));
	if (!p->n_esp_addrs)
		printf(" all its addresses");
	printf(" (protect %s", protect_text(p->esp_proto, num, sizeof(num)));
	if (p->auth_port || p->peer_auth_port)
		printf("; exempt:");
	if (p->auth_port)
		printf(" tcp to %d%s", p->auth_port, p->peer_auth_port ? "," : "");
	if (p->peer_auth_port)
		printf(" tcp from %d", p->peer_auth_port);
	printf(")\n");
}

static json_t *peer_json(const struct svrcert_peer_info *p, json_t *auth)
{
	char hex[SVRCERT_KEY_HEX_LEN + 1], addr[INET6_ADDRSTRLEN];
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < p->n_addrs; i++)
		json_array_append_new(a, json_string(svrcert_nl_addr_format(&p->addrs[i], addr,
									 sizeof(addr))));
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "state", json_string(svrcert_nl_state_name(p->state)));
	json_object_set_new(o, "addresses", a);
	json_object_set_new(o, "fingerprint", json_string(svrcert_nl_key_format(p->fingerprint, hex)));
	json_object_set_new(o, "revocation_key", json_string(svrcert_nl_key_format(p->revkey, hex)));
	json_object_set_new(o, "not_before", svrcert_json_time(p->not_before));
	json_object_set_new(o, "not_after", svrcert_json_time(p->not_after));
	json_object_set_new(o, "verdict", json_string(svrcert_nl_verdict_name(p->verdict)));
	json_object_set_new(o, "reason", json_string(svrcert_nl_reason_name(p->reason)));
	json_object_set_new(o, "rx_accepted", ctl_json_u64(p->rx_accepted));
	json_object_set_new(o, "rx_dropped", ctl_json_u64(p->rx_dropped));
	json_object_set_new(o, "tx_accepted", ctl_json_u64(p->tx_accepted));
	json_object_set_new(o, "tx_dropped", ctl_json_u64(p->tx_dropped));
	json_object_set_new(o, "esp", esp_json(p));
	if (auth)
		json_object_set(o, "authentication", auth);
	return o;
}

/*
 * "state" is svrcertd's last judgement, bound into the kernel; the verdict
 * is the kernel's, per packet, by its own clock and revocation set. They
 * differ when a certificate expired or a revocation arrived since that
 * judgement: say so, or "state: valid" beside "verdict: drop" reads as a
 * contradiction.
 */
static const char *kernel_only_reason(const struct svrcert_peer_info *p)
{
	if (p->state != SVRCERT_STATE_VALID)
		return NULL;
	switch (p->reason) {
	case SVRCERT_REASON_EXPIRED:
		return "not-after has passed by the kernel's clock";
	case SVRCERT_REASON_NOT_YET_VALID:
		return "not-before is still ahead by the kernel's clock";
	case SVRCERT_REASON_REVOKED:
		return "its key is in the kernel's revocation set";
	default:
		return NULL;
	}
}

static void peer_text(const struct svrcert_peer_info *p, json_t *auth)
{
	char hex[SVRCERT_KEY_HEX_LEN + 1], addr[INET6_ADDRSTRLEN], when[40];
	size_t i;

	printf("peer %s\n", p->name);
	printf("  state: %s\n", svrcert_nl_state_name(p->state));
	printf("  addresses:");
	for (i = 0; i < p->n_addrs; i++)
		printf(" %s", svrcert_nl_addr_format(&p->addrs[i], addr, sizeof(addr)));
	printf("\n  fingerprint: %s\n", svrcert_nl_key_format(p->fingerprint, hex));
	printf("  revocation-key: %s\n", svrcert_nl_key_format(p->revkey, hex));
	printf("  not-before: %s\n", ctl_time_format(p->not_before, when, sizeof(when)));
	printf("  not-after: %s\n", ctl_time_format(p->not_after, when, sizeof(when)));
	printf("  verdict: %s (%s", svrcert_nl_verdict_name(p->verdict),
	       svrcert_nl_reason_name(p->reason));
	if (kernel_only_reason(p))
		printf(": %s; state is svrcertd's last judgement",
		       kernel_only_reason(p));
	printf(")\n");
	printf("  rx-accepted: %llu\n", (unsigned long long)p->rx_accepted);
	printf("  rx-dropped: %llu\n", (unsigned long long)p->rx_dropped);
	printf("  tx-accepted: %llu\n", (unsigned long long)p->tx_accepted);
	printf("  tx-dropped: %llu\n", (unsigned long long)p->tx_dropped);
	esp_text(p);
	auth_text(auth);
}

/* Peers svrcertd authenticates that the kernel does not hold. */
static void unbound_text(json_t *auth, const char *name, bool *first)
{
	if (!*first)
		putchar('\n');
	*first = false;
	printf("peer %s\n  kernel: not bound\n", name);
	auth_text(auth);
}

static bool listed(const struct peer_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->peers[i].name, name))
			return true;
	return false;
}

static int print_list(const struct peer_list *l, json_t *view, bool json)
{
	bool first = true;
	const char *name;
	json_t *a, *auth, *o;
	size_t i;

	if (!json) {
		for (i = 0; i < l->n; i++) {
			if (i)
				putchar('\n');
			first = false;
			peer_text(&l->peers[i], json_object_get(view, l->peers[i].name));
		}
		json_object_foreach(view, name, auth)
			if (!listed(l, name))
				unbound_text(auth, name, &first);
		return CTL_OK;
	}
	a = json_array();
	for (i = 0; a && i < l->n; i++)
		json_array_append_new(a, peer_json(&l->peers[i],
						   json_object_get(view, l->peers[i].name)));
	json_object_foreach(view, name, auth) {
		if (!a || listed(l, name))
			continue;
		o = json_pack("{s:s, s:n, s:O}", "name", name, "kernel", "authentication", auth);
		json_array_append_new(a, o);
	}
	return ctl_json_print(a);
}

static int show_one(struct svrcert_nl *nl, const char *name, json_t *view, bool json)
{
	struct svrcert_peer_info p;
	int err = svrcert_nl_peer_get(nl, name, &p);

	if (err == -ENOENT) {
		fprintf(stderr, "svrcertctl: show peers: no such peer '%s'\n", name);
		return CTL_FAIL;
	}
	if (err)
		return ctl_nl_fail(nl, "show peers", err);
	if (json)
		return ctl_json_print(peer_json(&p, json_object_get(view, name)));
	peer_text(&p, json_object_get(view, name));
	return CTL_OK;
}

int show_peers(int argc, char **argv)
{
	struct svrcert_env_args args = { 0 };
	struct peer_list l = { NULL, 0, 0 };
	struct svrcert_nl *nl;
	json_t *view;
	bool json;
	int err, ret;

	/* before -j is taken here: "security" has its own -j */
	if (argc >= 2 && !strcmp(argv[1], "security"))
		return show_peers_security(argc - 1, argv + 1);
	json = ctl_take_json_flag(&argc, argv);

	if (svrcert_env_take_args(&argc, argv, &args) || argc > 2) {
		fprintf(stderr, "usage: svrcertctl show peers [NAME] [-j] [--config FILE] "
			"[--state-dir DIR]\n");
		return CTL_USAGE;
	}
	if (argc == 2 && svrcert_nl_peer_name_check(argv[1]))
		return ctl_usage_error("show peers", "'%s' is not a peer name (1..%d printable "
				       "characters, no blanks)", argv[1], SVRCERT_PEER_NAME_MAX);
	nl = ctl_nl_open("show peers");
	if (!nl)
		return CTL_FAIL;
	view = daemon_peer_view(&args);
	if (argc == 2) {
		ret = show_one(nl, argv[1], view, json);
	} else {
		err = dump_all(nl, &l);
		ret = err ? ctl_nl_fail(nl, "show peers", err) : print_list(&l, view, json);
	}
	json_decref(view);
	ctl_nl_close(nl);
	free(l.peers);
	return ret;
}
