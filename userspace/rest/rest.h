/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's REST API over HTTPS (libmicrohttpd with its GnuTLS back end),
 * the seed's "Authenticate to Use REST" and provisioning by API. See
 * Documentation/rest.md for the endpoints and Documentation/rest.md
 * "Design" for why it is built this way.
 *
 * Concurrency: libmicrohttpd runs one thread per connection (bounded in
 * total and per client address, idle connections timed out), so a slow
 * request -- a key generated in the TPM takes seconds, a password hash
 * tens of milliseconds -- holds up only its own client, and svrcertd's
 * loop (signals, control socket, kernel, peers) never waits for any of
 * them. What the request threads share, and how each is protected:
 *   - the TPM: one process-wide mutex around every endpoint that uses it
 *     (rest_server.c), since swtpm serves one client at a time and the
 *     tpm2 provider's TCTI comes from the environment (setenv);
 *   - the state directory: every request opens its own svrcert_env, and
 *     read-modify-writes (counters, alarms, certificate) take the state
 *     lock, an flock on a descriptor of its own, which excludes other
 *     threads exactly as it excludes svrcertctl; readers see whole files
 *     (atomic rename);
 *   - the audit log: one O_APPEND write per event keeps lines whole;
 *   - the login throttle: its own mutex (rest_throttle.h);
 *   - the server's own settings, token secret and node name: written
 *     before the first thread starts, read-only after.
 * The server shares no memory with svrcertd's loop: it talks to it over
 * the control socket, like svrcertctl.
 */
#ifndef SVRCERT_REST_H
#define SVRCERT_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pki/store_env.h"

/* Connections (= threads) in all, and from one client address. */
#define REST_DEF_CONN_LIMIT	SVRCERT_DEF_REST_CONNECTIONS
#define REST_DEF_PER_IP_LIMIT	SVRCERT_DEF_REST_PER_ADDRESS
#define REST_CONN_TIMEOUT_S	30u	/* idle connections are closed */
#define REST_THREAD_STACK	(512u << 10)	/* per connection thread */
#define REST_DRAIN_MAX_S	120u	/* a retired server's last requests */

/* The [rest] settings (svrcert.conf(5)). */
struct rest_config {
	char host[256];			/* "" = REST off */
	uint16_t port;
	char cert_file[4096];		/* PEM: web certificate (+ chain) */
	char key_file[4096];		/* PEM: its private key (a file) */
	uint32_t token_lifetime_s;
	size_t body_max;		/* request bodies above: 413 */
	unsigned int conn_limit;	/* concurrent connections */
	unsigned int per_ip_limit;	/* of them from one client address */
	unsigned int request_timeout_s;	/* headers + body of one request */
	char router[64];		/* [router] name: node-scoped paths */
	char audit_path[4096];		/* [daemon] audit-log, "" = state dir */
	char state_dir[4096];		/* users, token secret (the caller's) */
};

/* The [rest] section of CFG (REST off when CFG is NULL or has no listen)
 * and [router] name. STATE_DIR and AUDIT_PATH are left empty for the
 * caller, who knows which ones are in force (svrcert_env_open()). */
void rest_config_from(const struct svrcert_config *cfg, struct rest_config *rc);
bool rest_config_equal(const struct rest_config *a, const struct rest_config *b);

struct rest_server;

/*
 * Start serving RC. ARGS says where the configuration and state directory
 * are (as svrcertctl's --config / --state-dir): requests open them afresh.
 * Returns 0 or -errno with ERR naming the problem (address in use, a
 * certificate that does not load or match its key, ...).
 */
int rest_server_start(const struct rest_config *rc,
		      const struct svrcert_env_args *args,
		      struct rest_server **out, char *err, size_t errlen);
/* True when SRV serves exactly RC: the same settings and the same bytes
 * in its certificate and key files (renewed in place counts as changed). */
bool rest_server_serves(const struct rest_server *srv,
			const struct rest_config *rc);
/*
 * Start a server for RC to take OLD's place. On the same address it takes
 * over OLD's listening socket (no connection refused in between), and it
 * shares OLD's login throttle (a reload lifts no lockout). OLD keeps
 * serving, untouched, when this fails; on success the caller retires it.
 */
int rest_server_replace(struct rest_server *old, const struct rest_config *rc,
			const struct svrcert_env_args *args,
			struct rest_server **out, char *err, size_t errlen);
/*
 * Stop accepting connections and let the requests in progress finish (at
 * most REST_DRAIN_MAX_S) in a thread of its own; idle connections are
 * then closed. rest_server_stop() still frees it.
 */
int rest_server_retire(struct rest_server *srv);
/* A retired server that has finished (rest_server_stop() won't wait). */
bool rest_server_drained(struct rest_server *srv);
/* Stop at once (a retiring server: no more waiting), close every
 * connection, free everything. */
void rest_server_stop(struct rest_server *srv);
/* The bound port (useful with port 0). */
uint16_t rest_server_port(const struct rest_server *srv);

#endif
