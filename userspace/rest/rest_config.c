// SPDX-License-Identifier: GPL-2.0
/* The [rest] section of svrcert.conf(5) as the REST server needs it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rest.h"

void rest_config_from(const struct svrcert_config *cfg, struct rest_config *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->token_lifetime_s = SVRCERT_DEF_REST_TOKEN_S;
	rc->body_max = SVRCERT_DEF_REST_BODY_MAX;
	rc->conn_limit = REST_DEF_CONN_LIMIT;
	rc->per_ip_limit = REST_DEF_PER_IP_LIMIT;
	rc->request_timeout_s = SVRCERT_DEF_REST_REQUEST_S;
	if (!cfg || !cfg->rest_listen.host)
		return;
	if (cfg->router_name)
		snprintf(rc->router, sizeof(rc->router), "%s", cfg->router_name);
	/* config.c checked lengths and that certificate and key are set. */
	snprintf(rc->host, sizeof(rc->host), "%s", cfg->rest_listen.host);
	rc->port = cfg->rest_listen.port;
	snprintf(rc->cert_file, sizeof(rc->cert_file), "%s", cfg->rest_certificate);
	snprintf(rc->key_file, sizeof(rc->key_file), "%s", cfg->rest_key);
	rc->token_lifetime_s = cfg->rest_token_lifetime_s;
	rc->body_max = (size_t)cfg->rest_body_max;
	rc->conn_limit = cfg->rest_connections;
	rc->per_ip_limit = cfg->rest_per_address;
	rc->request_timeout_s = cfg->rest_request_timeout_s;
}

bool rest_config_equal(const struct rest_config *a, const struct rest_config *b)
{
	return !strcmp(a->host, b->host) && a->port == b->port &&
	       !strcmp(a->cert_file, b->cert_file) &&
	       !strcmp(a->key_file, b->key_file) &&
	       a->token_lifetime_s == b->token_lifetime_s &&
	       a->body_max == b->body_max && a->conn_limit == b->conn_limit &&
	       a->per_ip_limit == b->per_ip_limit &&
	       a->request_timeout_s == b->request_timeout_s &&
	       !strcmp(a->router, b->router) &&
	       !strcmp(a->audit_path, b->audit_path) &&
	       !strcmp(a->state_dir, b->state_dir);
}
