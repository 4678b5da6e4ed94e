/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's peer authentication (peerauth.h) wired into its event loop.
 * Its state is d->peers; every function is a no-op before
 * daemon_peers_start() and after daemon_peers_stop().
 *
 * The loop:
 *	struct pollfd fds[3 + DAEMON_PEERS_MAX_FDS];
 *	n = 3 + daemon_peers_pollfds(d, fds + 3, DAEMON_PEERS_MAX_FDS);
 *	poll(fds, n, daemon_peers_timeout_ms(d));
 *	... the daemon's own three ...
 *	daemon_peers_process(d, fds + 3, n - 3);  // every turn, also on timeout
 */
#ifndef SVRCERTD_DAEMON_PEERS_H
#define SVRCERTD_DAEMON_PEERS_H

#include <poll.h>
#include <stddef.h>

#include <jansson.h>

#include "peer/peerauth.h"

struct daemon;

/* Listen socket + outgoing and incoming handshakes in progress. */
#define DAEMON_PEERS_MAX_FDS	PEERAUTH_MAX_FDS

/* After the configuration is loaded (daemon_setup). A listen address that
 * cannot be bound is logged; the daemon runs on without listening. */
int daemon_peers_start(struct daemon *d);
void daemon_peers_stop(struct daemon *d);

size_t daemon_peers_pollfds(struct daemon *d, struct pollfd *fds, size_t max);
/* Poll timeout in ms (-1: none). */
int daemon_peers_timeout_ms(struct daemon *d);
void daemon_peers_process(struct daemon *d, const struct pollfd *fds,
			  size_t n);

/* After a successful reload has put the new configuration into d->env. */
void daemon_peers_reload(struct daemon *d);
/* From daemon_check(): a replaced own certificate restarts every peer's
 * authentication (the seed: "an event is triggered to restart the peer
 * authentication procedure"). */
void daemon_peers_check(struct daemon *d);
/* svrcert.ko was (re)loaded: bind the peers judged so far again. */
void daemon_peers_kernel_reloaded(struct daemon *d);
/* The CRL manager published new CRLs into the state directory. */
void daemon_peers_crl_updated(struct daemon *d);
/* "peer-rekey" control command: new keys with PEER (NULL: every peer)
 * now; {"ok": true, "peers": N} or {"ok": false, "error": ...}. */
json_t *daemon_peers_rekey_json(struct daemon *d, const char *peer);
/* After the own-certificate check: under fail-hard, a bad own certificate
 * deletes every peer's SAs and policies. */
void daemon_peers_own_state(struct daemon *d);
/* Raised peer alarms (peerauth_alarms_json), [] when not running. */
json_t *daemon_peers_alarms_json(struct daemon *d);
/* {"ok": true, "peers": [...], "counters": {...}} for the "peers" control
 * command; {"ok": false, "error": ...} when peer authentication is off. */
json_t *daemon_peers_json(struct daemon *d);

#endif
