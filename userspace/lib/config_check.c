// SPDX-License-Identifier: GPL-2.0
/* svrcert.conf after parsing: the defaults before, the checks across keys after. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "util.h"

int conf_defaults(struct conf_ctx *c, const char *fname)
{
	struct svrcert_config *cfg = &c->cfg;

	cfg->failure_mode = SVRCERT_FAIL_SOFT;
	cfg->peer_validation = false;
	cfg->key_storage = SVRCERT_KEY_TPM_BLOB;
	cfg->tpm_handle = SVRCERT_DEF_TPM_HANDLE;
	cfg->crl_polling_s = SVRCERT_DEF_POLLING_S;
	cfg->crl_backoff_s = SVRCERT_DEF_BACKOFF_S;
	cfg->crl_timeout_s = SVRCERT_DEF_CRL_TIMEOUT_S;
	cfg->crl_connect_timeout_s = SVRCERT_DEF_CRL_CONNECT_S;
	cfg->crl_max_size = SVRCERT_DEF_CRL_MAX_SIZE;
	cfg->crl_discover = true;
	cfg->rest_token_lifetime_s = SVRCERT_DEF_REST_TOKEN_S;
	cfg->rest_body_max = SVRCERT_DEF_REST_BODY_MAX;
	cfg->rest_connections = SVRCERT_DEF_REST_CONNECTIONS;
	cfg->rest_per_address = SVRCERT_DEF_REST_PER_ADDRESS;
	cfg->rest_request_timeout_s = SVRCERT_DEF_REST_REQUEST_S;
	cfg->conductor_conns = SVRCERT_DEF_CONDUCTOR_CONNS;
	cfg->conductor_wait_s = SVRCERT_DEF_CONDUCTOR_WAIT_S;
	cfg->metrics_interval_s = SVRCERT_DEF_METRICS_INTERVAL_S;
	cfg->check_interval_s = SVRCERT_DEF_CHECK_INTERVAL_S;
	cfg->peer_key_rekey_s = SVRCERT_DEF_PEER_KEY_REKEY_S;
	cfg->peer_key_timeout_s = SVRCERT_DEF_PEER_KEY_TIMEOUT_S;
	cfg->path = strdup(fname);
	cfg->state_dir = strdup(SVRCERT_DEF_STATE_DIR);
	cfg->control_socket = strdup(SVRCERT_DEF_CONTROL_SOCKET);
	cfg->audit_log = strdup(SVRCERT_DEF_AUDIT_LOG);
	if (!cfg->path || !cfg->state_dir || !cfg->control_socket || !cfg->audit_log)
		return -ENOMEM;
	return 0;
}

static const struct conf_section *find_section(const struct conf_ctx *c, int kind)
{
	for (size_t i = 0; i < c->n_sects; i++)
		if (c->sects[i].kind == kind)
			return &c->sects[i];
	return NULL;
}

static void check_key_settings(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *ks = find_section(c, S_KEY);

	if (cfg->key_storage == SVRCERT_KEY_FILE && !cfg->key_file)
		conf_error(c, ks ? ks->line : 0, "[key] key-file: required with storage = file");
	else if (cfg->key_storage == SVRCERT_KEY_TPM && cfg->key_file)
		conf_error(c, c->key_line, "[key] key-file: only used with storage = tpm-blob or file");
	else if (cfg->key_storage != SVRCERT_KEY_TPM && ks &&
		 (ks->seen & conf_key_bit(S_KEY, "tpm-handle")))
		conf_error(c, c->key_line, "[key] tpm-handle: only used with storage = tpm");
}

static void check_peers(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;

	for (size_t i = 0; i < cfg->n_peers && !c->failed; i++) {
		const struct svrcert_peer *p = &cfg->peers[i];

		if (!p->n_addrs) {
			conf_error(c, p->line, "[peer \"%s\"] address: required", p->name);
			break;
		}
		/* The kernel maps an address to one peer. */
		for (size_t j = 0; j < i; j++)
			for (size_t a = 0; a < p->n_addrs; a++)
				for (size_t b = 0; b < cfg->peers[j].n_addrs; b++)
					if (!memcmp(&p->addrs[a], &cfg->peers[j].addrs[b],
						    sizeof(p->addrs[a])))
						conf_error(c, p->line,
							   "[peer \"%s\"] address: also an address of peer \"%s\"",
							   p->name, cfg->peers[j].name);
	}
}

/* The REST API serves TLS only: listen needs the web certificate and key. */
static void check_rest(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *rs = find_section(c, S_REST);
	int line = rs ? rs->line : 0;

	if (cfg->rest_listen.host && (!cfg->rest_certificate || !cfg->rest_key))
		conf_error(c, line, "[rest] %s: required with listen (the REST "
			   "API serves HTTPS only)",
			   cfg->rest_certificate ? "key" : "certificate");
	else if (cfg->rest_token_lifetime_s < 60 ||
		 cfg->rest_token_lifetime_s > 7 * 86400)
		conf_error(c, line, "[rest] token-lifetime: must be 60s to 7d");
	else if (cfg->rest_body_max < 1024 || cfg->rest_body_max > (1u << 20))
		conf_error(c, line, "[rest] body-max: must be 1K to 1M");
	/* A thread per connection, each with three descriptors. */
	else if (cfg->rest_connections < 16 || cfg->rest_connections > 16384)
		conf_error(c, line, "[rest] connection-limit: must be 16 to 16384");
	else if (cfg->rest_per_address > cfg->rest_connections)
		conf_error(c, line, "[rest] per-address-limit: must not exceed "
			   "connection-limit (%u)", cfg->rest_connections);
	else if (cfg->rest_request_timeout_s > 3600)
		conf_error(c, line, "[rest] request-timeout: must be 1s to 1h");
}

/* The conductor serves mutual TLS on its own listener; a long-poll held
 * longer than 2 minutes would outlast ordinary proxies' idle timeouts. */
static void check_conductor(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *cs = find_section(c, S_CONDUCTOR);
	int line = cs ? cs->line : 0;

	if (cfg->conductor && !cfg->conductor_listen.host)
		conf_error(c, line, "[conductor] listen: required with enable = "
			   "yes");
	else if (cfg->conductor_conns > SVRCERT_CONDUCTOR_CONNS_MAX)
		conf_error(c, line, "[conductor] max-connections: must be 1 to "
			   "%u", SVRCERT_CONDUCTOR_CONNS_MAX);
	else if (cfg->conductor_wait_s > SVRCERT_CONDUCTOR_WAIT_MAX_S)
		conf_error(c, line, "[conductor] max-wait: must be 1s to %us",
			   SVRCERT_CONDUCTOR_WAIT_MAX_S);
}

/* [crl] conductor: the identity its certificate must carry. Router
 * certificates name routers (CN, urn:ssr:peering:NAME), not hosts, so a
 * host given as an address names nobody. */
static void check_crl_conductor(struct conf_ctx *c)
{
	struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *cs = find_section(c, S_CRL);
	struct svrcert_addr a;
	char host[300];
	const char *h;
	size_t n;

	if (!cfg->crl_conductor) {
		if (cfg->crl_conductor_name)
			conf_error(c, cs ? cs->line : 0, "[crl] conductor-name: "
				   "only used with conductor");
		return;
	}
	if (cfg->crl_conductor_name)
		return;
	h = cfg->crl_conductor + 8;
	n = h[0] == '[' ? 0 : strcspn(h, ":");
	snprintf(host, sizeof(host), "%.*s", (int)n, h);
	if (!n || !svrcert_parse_addr(host, &a) ||
	    !conf_name_ok(host, strlen(host)))
		conf_error(c, cs ? cs->line : 0, "[crl] conductor-name: required "
			   "when conductor's host is an address%s (the "
			   "conductor's certificate names a router: CN or SAN "
			   "urn:ssr:peering:NAME)", n && svrcert_parse_addr(host,
			   &a) ? " or longer than a name (63)" : "");
	else if (!(cfg->crl_conductor_name = strdup(host)))
		conf_error(c, 0, "out of memory");
}

/* node_exporter's textfile collector reads *.prom only. */
static void check_metrics(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *ds = find_section(c, S_DAEMON);
	size_t n = cfg->metrics_file ? strlen(cfg->metrics_file) : 0;

	if (cfg->metrics_file && (n < 6 || strcmp(cfg->metrics_file + n - 5, ".prom")))
		conf_error(c, ds ? ds->line : 0, "[daemon] metrics-file: must end "
			   "in .prom (node_exporter's textfile collector reads "
			   "only those)");
	else if (cfg->metrics_interval_s < 5 || cfg->metrics_interval_s > 3600)
		conf_error(c, ds ? ds->line : 0, "[daemon] metrics-interval: "
			   "must be 5s to 1h");
	else if (cfg->check_interval_s > 7 * 86400)
		conf_error(c, ds ? ds->line : 0, "[daemon] check-interval: "
			   "must be 1s to 7d");
}

/* A peer that does not finish a key agreement within the timeout loses its
 * path: shorter than 10 s would fail a loaded router's TPM handshake. */
static void check_peer_keys(struct conf_ctx *c)
{
	const struct svrcert_config *cfg = &c->cfg;
	const struct conf_section *ds = find_section(c, S_DAEMON);

	if (cfg->peer_key_timeout_s < 10 || cfg->peer_key_timeout_s > 86400)
		conf_error(c, ds ? ds->line : 0, "[daemon] peer-key-timeout: "
			   "must be 10s to 1d");
}

void conf_finish(struct conf_ctx *c)
{
	struct svrcert_config *cfg = &c->cfg;

	if (!find_section(c, S_ROUTER)) {
		conf_error(c, 0, "missing required section [router]");
		return;
	}
	if (!cfg->router_name) {
		conf_error(c, find_section(c, S_ROUTER)->line, "[router] name: required");
		return;
	}
	for (size_t i = 0; i < cfg->n_cas; i++) {
		if (!cfg->cas[i].file) {
			conf_error(c, cfg->cas[i].line, "[trusted-ca \"%s\"] file: required",
				   cfg->cas[i].name);
			return;
		}
	}
	check_key_settings(c);
	check_peers(c);
	if (!c->failed)
		check_rest(c);
	if (!c->failed)
		check_conductor(c);
	if (!c->failed)
		check_crl_conductor(c);
	if (!c->failed)
		check_metrics(c);
	if (!c->failed)
		check_peer_keys(c);
	if (!c->failed && !cfg->uuid_file &&
	    asprintf(&cfg->uuid_file, "%s/router-uuid", cfg->state_dir) < 0) {
		cfg->uuid_file = NULL;
		conf_error(c, 0, "out of memory");
	}
	if (!c->failed && cfg->key_storage == SVRCERT_KEY_TPM_BLOB && !cfg->key_file &&
	    asprintf(&cfg->key_file, "%s/" SVRCERT_DEF_KEY_FILE_NAME, cfg->state_dir) < 0) {
		cfg->key_file = NULL;
		conf_error(c, 0, "out of memory");
	}
}

