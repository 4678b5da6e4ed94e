/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The conductor (issue 15 items 1 and 3, Documentation/conductor.md): one
 * svrcertd serves the authority's revocation state to its routers.
 *
 *  - Generations: every change of the CRL manager's master list handed to
 *    conductor_master() advances the generation journal
 *    (STATE_DIR/generations.bin, crl_gen.h) and the documents of the new
 *    generation are signed once (the full set, and the delta from the
 *    previous generation; other bases on first request, then cached):
 *    one signature per document, never per router.
 *  - HTTPS with mutual TLS 1.3, terminated by OpenSSL in the caller's poll
 *    loop; the conductor's handshake is signed with this router's key
 *    (TPM bridge of peer authentication, or key-storage = file). The
 *    router's certificate is judged after the handshake with the runtime
 *    rules (trusted CAs, dates, EKU, the CRLs and master list held here):
 *    a refused router is answered 403 naming why, logged and audited.
 *  - HTTP/1.1 by libmicrohttpd behind the TLS: each connection's plaintext
 *    goes through a socketpair (MHD_USE_NO_LISTEN_SOCKET, MHD_add_connection),
 *    MHD in external epoll mode; a long-poll is a suspended MHD connection,
 *    never a thread.
 *
 * Everything is one epoll descriptor for the caller's loop:
 *	poll(... conductor_fd(c) ..., conductor_timeout_ms(c));
 *	conductor_process(c);		// every turn, also on timeout
 *
 * Wire contract (what a router's client speaks):
 *   GET /v1/revocation                       200 signed full set (DER)
 *   GET /v1/revocation?epoch=E&since=G       200 signed delta G..current,
 *       or the full set when the journal cannot answer; 304 when G is
 *       current; &wait=S (clamped to 1..max-wait): held until a new
 *       generation (200) or S seconds (304)
 *   ETag "<epoch hex>-<generation>", Content-Type application/octet-stream;
 *       the full request with If-None-Match naming it: 304
 *   GET /v1/crl/index.json, /v1/crl/<name>.crl, /v1/crl/<name>.delta: the
 *       CRL manager's published files, unchanged
 *   refused router: 403, "<revoked|expired|not-yet-valid|untrusted>:
 *       <detail>\n", connection closed; 404 unknown path, 400 bad query,
 *       405 not GET.
 */
#ifndef SVRCERT_CONDUCTOR_H
#define SVRCERT_CONDUCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl/crl_walk.h"
#include "lib/audit.h"
#include "lib/config.h"
#include "lib/store.h"
#include "tpm/tpm.h"

#define CONDUCTOR_AUDIT_TYPE	"system.conductor_client"
#define CONDUCTOR_HANDSHAKE_MS	10000	/* a TLS handshake, at most */
#define CONDUCTOR_IDLE_S	300	/* a connection without a request */
#define CONDUCTOR_WAIT_MAX_S	120	/* wait= is clamped to 1..this */
#define CONDUCTOR_REQUEST_MAX	4096	/* MHD's memory per connection:
					 * request line and headers */

struct conductor;

struct svrcert_held;

struct conductor_params {
	const struct svrcert_config *cfg;	/* [conductor], [key], CAs */
	struct svrcert_store *st;		/* key, cert.pem, published CRLs */
	const struct audit_sink *audit;
	enum tpm_key_storage storage;		/* the document signer's key */
	uint32_t tpm_handle;
	const char *tcti;
	/* Below: 0 / NULL take the configuration's. */
	const char *host;			/* listen */
	uint16_t port;				/* 0 with host: any free port */
	unsigned int max_conns;
	unsigned int max_wait_s;
	/* svrcertd: the revocations its CRL manager lends (held_revs.h),
	 * shared with its other judges; NULL: the held files, read here. */
	struct svrcert_held *held;
};

/* Open the journal, load the TLS identity, listen. -errno with ERR. */
int conductor_start(struct conductor **out, const struct conductor_params *p,
		    char *err, size_t errlen);
/* Every connection closed, waiting requests answered no more. */
void conductor_stop(struct conductor *c);

int conductor_fd(const struct conductor *c);	/* epoll: POLLIN */
int conductor_timeout_ms(const struct conductor *c);	/* -1: none */
void conductor_process(struct conductor *c);

/*
 * The CRL manager's master list is now KEYS (sorted, unique). The first
 * call after start passes the held set (no change, no generation unless
 * the journal's last set differs). Makes the generation, signs its
 * documents, answers waiting routers. 1: a new generation, 0: nothing
 * changed, -errno (ERR set; call again later with the same list).
 */
int conductor_master(struct conductor *c, const svrcert_revkey_t *keys,
		     size_t n, char *err, size_t errlen);

/* For status and tests. */
struct conductor_stats {
	uint16_t port;
	unsigned int max_conns;		/* as the open-file limit allows */
	uint64_t generation;
	uint8_t epoch[16];
	size_t connections, waiting;
	size_t keys;			/* of the current generation */
	int64_t gen_time;		/* when it was made (s since 1970) */
	unsigned long signatures;	/* documents signed since start */
	unsigned long refused;		/* routers refused after the handshake */
	/* ... by the first word of their 403 (conductor_judge.c) */
	unsigned long refused_revoked, refused_expired,
		      refused_not_yet_valid, refused_untrusted;
	unsigned long accepted;		/* TCP connections taken */
	unsigned long rejected;		/* over max-connections */
	/* Answers since start: /v1/revocation 200 (full set or delta), 304
	 * (also after If-None-Match), long-polls held; /v1/crl/ files;
	 * every 4xx/5xx but the 403s. */
	unsigned long full, deltas, not_modified, held, files, errors;
	/* HTTP over the TLS, plaintext */
	uint64_t bytes_sent, bytes_received;
};
void conductor_stats(const struct conductor *c, struct conductor_stats *s);

#endif
