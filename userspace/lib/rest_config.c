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
	if (!cfg || !cfg->rest_listen.host)
		return;
	/* config.c checked lengths and that certificate and key are set. */
	snprintf(rc->host, sizeof(rc->host), "%s", cfg->rest_listen.host);
	rc->port = cfg->rest_listen.port;
	snprintf(rc->cert_file, sizeof(rc->cert_file), "%s", cfg->rest_certificate);
	snprintf(rc->key_file, sizeof(rc->key_file), "%s", cfg->rest_key);
	rc->token_lifetime_s = cfg->rest_token_lifetime_s;
	rc->body_max = (size_t)cfg->rest_body_max;
}
