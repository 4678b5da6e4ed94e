/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd's CRL manager: the CRL library (crl_*.h) driven from the daemon's
 * poll loop. Its state is d->crl; every function is a no-op before
 * daemon_crl_start() and after daemon_crl_stop().
 *
 *  - start: the master list published by the previous run is loaded and fed
 *    to the kernel before anything else touches it, and each source's last
 *    published CRL is held again, so a restart opens no window;
 *  - every [crl] url is fetched with the curl multi fetcher inside the loop
 *    (never blocking): every polling-interval after a good fetch (200 or
 *    304), every backoff-interval after a failed one until one succeeds;
 *  - a new CRL that verifies replaces the source's held one; the master
 *    list is rebuilt, the kernel fed (diff or atomic swap), everything
 *    published atomically to the state directory, system.crl_update audited;
 *  - when svrcert.ko is (re)loaded the master list is fed to it again
 *    (genetlink controller notifications, plus a periodic check);
 *  - revocation keys of peers found revoked or expired (peer authentication,
 *    svrcert.ko's first-seen events) are learned into STATE_DIR/learned.json;
 *    those learned revoked join the master list (daemon_crl_learn()).
 *
 * The loop:
 *	n = 3 + daemon_crl_pollfds(d, fds + 3, DAEMON_CRL_MAX_FDS);
 *	poll(fds, n, min(..., daemon_crl_timeout_ms(d)));
 *	daemon_crl_process(d, fds + 3, n - 3);	// every turn, also on timeout
 *	daemon_crl_own_check(d);		// then, after the conductor's turn
 */
#ifndef SVRCERTD_DAEMON_CRL_H
#define SVRCERTD_DAEMON_CRL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "crl/crl_learned.h"

struct daemon;
struct peerauth;

/* curl's sockets (one per transfer, all sources at once, and the
 * conductor's) + the genetlink controller socket + svrcert's "events"
 * group. */
#define DAEMON_CRL_MAX_FDS		(DAEMON_CRL_SOURCES_MAX + 3)
#define DAEMON_CRL_SOURCES_MAX		32
/* CRL discovery ([crl] discover): at most this many discovered sources,
 * and never more than the configured ones leave of DAEMON_CRL_SOURCES_MAX.
 * The own certificate's and the CAs' URLs are taken first, then the
 * peers' in configuration order; the rest is logged, not fetched. */
#define DAEMON_CRL_DISCOVER_MAX		16
/* The own certificate and the CAs are looked at again this often (a
 * peer's new certificate at once). */
#define DAEMON_CRL_DISCOVER_CHECK_S	10

/* Without a controller notification, check the kernel this often. */
#define DAEMON_CRL_KERNEL_CHECK_S	10

/* Call right after the configuration is loaded and BEFORE anything else
 * talks to svrcert.ko: feeds the published master list to the kernel. */
int daemon_crl_start(struct daemon *d);
void daemon_crl_stop(struct daemon *d);

size_t daemon_crl_pollfds(struct daemon *d, struct pollfd *fds, size_t max);
/* Poll timeout in ms (-1: none). */
int daemon_crl_timeout_ms(struct daemon *d);
void daemon_crl_process(struct daemon *d, const struct pollfd *fds, size_t n);
/* Every turn, after daemon_conductor_process: when the published list
 * changed, this router's own certificate is judged again (daemon_check).
 * The judges check the master list the CRL manager lends them (d->held,
 * pki/held_revs.h), so this parses no CRL the manager wrote itself; a
 * conductor still first serves the new generation, then judges. */
void daemon_crl_own_check(struct daemon *d);

/* After a successful reload has put the new configuration into d->env:
 * sources added / removed, intervals and trusted CAs updated. */
void daemon_crl_reload(struct daemon *d);

/* Control commands:
 *   {"command": "crl"}  -> {"ok": true, "sources": [...], "master": {...}}
 *   {"command": "crl-fetch", "url": "..." (optional), "force": bool}
 *     -> starts the fetch(es) now; {"ok": true, "started": [urls]}.
 * "force" also drops the conditional-GET validators (full download). */
json_t *daemon_crl_json(struct daemon *d);
/* The raised CRL alarms (empty array when none or not running). */
json_t *daemon_crl_alarms_json(struct daemon *d);
json_t *daemon_crl_fetch_now(struct daemon *d, const char *url, bool force);
/* The [crl] conductor source with its answers since start (show
 * conductor); JSON null when none is configured. */
json_t *daemon_crl_conductor_json(struct daemon *d);

/*
 * The learned source (Documentation/crl.md, "Learned keys"): KEY, the
 * revocation key of a peer certificate found revoked or expired at runtime,
 * is kept in STATE_DIR/learned.json (atomically, before anything else);
 * a key learned revoked also joins the master list, which is fed to the
 * kernel and published, with system.crl_update audited (crl_url
 * "learned:<via>"). PEER and VIA (who found it) are for the record.
 * Returns 1 when learned (new, or upgraded from expired to revoked), 0 when
 * already known, -errno with ERR set.
 */
int daemon_crl_learn(struct daemon *d, const uint8_t key[32],
		     enum svrcert_learned_reason why, const char *peer,
		     const char *via, char *err, size_t errlen);

/* Call after peer authentication ran (every loop turn is fine): when it
 * judged a certificate revoked or expired since the last call, the kernel's
 * peer table (where every judged peer is bound with its certificate) is
 * looked at and the revocation keys of the peers bound revoked or expired
 * are learned. */
void daemon_crl_peers_judged(struct daemon *d, const struct peerauth *pa);

#endif
