/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's REST API over HTTPS (libmicrohttpd with its GnuTLS back end),
 * the seed's "Authenticate to Use REST" and provisioning by API. See
 * Documentation/rest.md for the endpoints and Documentation/rest.md
 * "Design" for why it is built this way.
 *
 * The server runs in one thread of its own (libmicrohttpd's internal
 * epoll thread). Requests are handled one at a time in that thread, so
 * the TPM (one client at a time) is never asked twice at once and the
 * login throttle needs no lock. Each request that touches the router's
 * state opens the configuration and state directory afresh, exactly as
 * svrcertctl does, and tells svrcertd's loop through the control socket
 * afterwards; the server shares no memory with the loop.
 */
#ifndef SVRCERT_REST_H
#define SVRCERT_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_env.h"

#define REST_DEF_CONN_LIMIT	1024u
#define REST_CONN_TIMEOUT_S	30u	/* idle connections are closed */

/* The [rest] settings (svrcert.conf(5)). */
struct rest_config {
	char host[256];			/* "" = REST off */
	uint16_t port;
	char cert_file[4096];		/* PEM: web certificate (+ chain) */
	char key_file[4096];		/* PEM: its private key (a file) */
	uint32_t token_lifetime_s;
	size_t body_max;		/* request bodies above: 413 */
	unsigned int conn_limit;	/* concurrent connections */
};

/* The [rest] section of CFG (REST off when CFG is NULL or has no listen). */
void rest_config_from(const struct svrcert_config *cfg, struct rest_config *rc);

struct rest_server;

/*
 * Start serving RC on its own thread. ARGS says where the configuration
 * and state directory are (as svrcertctl's --config / --state-dir); the
 * state directory holds the users (users.h) and the token secret
 * (token.h). Returns 0 or -errno with ERR saying why.
 */
int rest_server_start(const struct rest_config *rc,
		      const struct svrcert_env_args *args,
		      struct rest_server **out, char *err, size_t errlen);
/* Stop the thread, close every connection, free everything. */
void rest_server_stop(struct rest_server *srv);
/* The bound port (useful with port 0). */
uint16_t rest_server_port(const struct rest_server *srv);

#endif
