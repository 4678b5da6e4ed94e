/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Peer authentication: svrcertd proves itself to its SVR peers and judges
 * theirs over mutual TLS 1.3, then tells svrcert.ko what it found.
 *
 * Every router listens on [daemon] listen = host:port and calls every
 * [peer "NAME"] authenticate = host:port. Both ends present their chain
 * (STATE_DIR/cert.pem) and sign the handshake with this router's key: in
 * the TPM (tpm-blob / tpm, through the tpm2 provider, one TPM session per
 * signature) or, when the configuration says so, a key file.
 *
 * TLS only proves possession of the key; the certificate itself is judged
 * afterwards with the runtime rules (svrcert_validate_cert, always strict):
 * chain to a trusted CA, dates, algorithms, critical CA basicConstraints,
 * revocation by the CRLs this router holds, and identity: CN equal to the
 * configured peering name, else SAN URI urn:ssr:peering:<name>. A server
 * learns which peer called from that identity and accepts only configured
 * peers, calling from one of their configured addresses or the addresses
 * their authenticate host resolved to ([peer] accept-any-source = yes: from
 * anywhere). Authenticate host names are looked up with getaddrinfo_a(),
 * never blocking the loop (peerauth_resolve.c).
 *
 * Result per peer: state (enum svrcert_cert_state), the first problem, the
 * cached certificate and its fingerprint. Every result is bound in the
 * kernel (REPLACE_PEER with the DER, the state and all configured
 * addresses; a failed peer is bound with its failed state so the kernel's
 * invalid-certificate-behavior applies), audited (system.peer_authentication),
 * counted, and a failing peer has an alarm raised until it passes again.
 *
 * Everything is non-blocking and driven by the caller's poll loop:
 *
 *	n = peerauth_pollfds(pa, fds, max);
 *	poll(fds, n, peerauth_timeout_ms(pa));
 *	peerauth_process(pa, fds, n);	// every turn: runs timers too
 *
 * Re-authentication: peerauth_own_cert_changed() (new own certificate),
 * peerauth_reconfigure() (reload), peerauth_crl_updated() (new CRLs: the
 * cached certificates are judged again at once), and every revalidate_s.
 */
#ifndef SVRCERT_PEERAUTH_H
#define SVRCERT_PEERAUTH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <linux/svrcert.h>

#include "lib/audit.h"
#include "lib/config.h"
#include "lib/store.h"
#include "pki/validate.h"

#include <openssl/evp.h>

#define PEERAUTH_AUDIT_TYPE		"system.peer_authentication"
#define PEERAUTH_ALARM_ID		"peer-certificate"
#define PEERAUTH_KEY_ALARM_ID		"peer-key"	/* keys invalid */
#define PEERAUTH_ALARMS_FILE		STORE_PEER_ALARMS	/* in state-dir */
#define PEERAUTH_DEF_REVALIDATE_S	3600u
#define PEERAUTH_DEF_HANDSHAKE_MS	10000u
#define PEERAUTH_BACKOFF_MIN_MS		1000u
#define PEERAUTH_MAX_INCOMING		32
#define PEERAUTH_MAX_OUTGOING		64	/* attempts at once; the rest wait */
/* Signatures verified before (validate.h, svrcert_sigcache): a peer's
 * certificate is judged again at every rekey. Entries are chain links
 * (72 B each), rarely more than 2 per peer: some 2 000 peers. */
#define PEERAUTH_SIGCACHE_ENTRIES	4096
/* Most descriptors peerauth_pollfds() returns: listening socket, name
 * lookups done, handshakes. */
#define PEERAUTH_MAX_FDS	(2 + PEERAUTH_MAX_INCOMING + PEERAUTH_MAX_OUTGOING)

struct peerauth;

/* peerauth_key.c: this router's key as OpenSSL's TLS can sign with it
 * (the TPM bridge, or the key file of key-storage = file); also the
 * conductor's (conductor/). */
int pa_load_key(const struct svrcert_config *cfg, struct svrcert_store *st,
		EVP_PKEY **out, char *err, size_t errlen);

/*
 * What a peer is bound with in the kernel. The default binder is the
 * netlink client (nl.h); tests may record the calls instead.
 */
struct peerauth_binding {
	const char *name;
	enum svrcert_cert_state state;
	const uint8_t *cert_der;	/* NULL: no certificate received */
	size_t cert_der_len;
	/* With cert_der: its SHA-256 and its revocation key (UAPI Keys: the
	 * kernel does not canonicalise issuer names) */
	const uint8_t *cert_fp, *revkey;
	const struct svrcert_addr *addrs;
	size_t n_addrs;
	/* Its ESP keys are installed (peerauth_keys.c): svrcert.ko then counts
	 * what arrives from esp_addr without ESP as unprotected, but for TCP
	 * to auth_port or from peer_auth_port (0: none), as the xfrm policies */
	bool esp_required;
	uint8_t esp_proto;		/* protected IP protocol, 0 all */
	uint16_t auth_port, peer_auth_port;
	struct svrcert_addr esp_addr;	/* the peer's end of its one ESP path */
};
/* SHA-256 over all a binding tells the kernel, the certificate by its
 * cert_fp: an equal digest for a peer bound before would change nothing in
 * the kernel, and is not sent (a rekey keeps path and certificate). */
void peerauth_binding_digest(const struct peerauth_binding *b,
			     uint8_t out[SVRCERT_DIGEST_LEN]);
/* The netlink request the default binder sends for B (netlink/nl.h). */
struct svrcert_peer_info;
void peerauth_binding_info(const struct peerauth_binding *b,
			   struct svrcert_peer_info *info);
/* Returns 0, or -errno with MSG set (-ENOENT: module not loaded). */
typedef int (*peerauth_bind_fn)(const struct peerauth_binding *b, void *ctx,
				char *msg, size_t msglen);
/* Remove a peer that left the configuration. */
typedef int (*peerauth_unbind_fn)(const char *name, void *ctx);

struct svrcert_held;

struct peerauth_params {
	const struct svrcert_config *cfg; /* required; kept by the caller
					   * until peerauth_reconfigure/free */
	struct svrcert_store *st;	/* required: cert, key, trust, CRLs */
	const struct audit_sink *audit;	/* NULL: the state directory's log */
	unsigned int revalidate_s;	/* 0: PEERAUTH_DEF_REVALIDATE_S */
	unsigned int handshake_ms;	/* 0: PEERAUTH_DEF_HANDSHAKE_MS */
	unsigned int backoff_max_s;	/* 0: cfg's backoff-interval */
	time_t now;			/* tests: judge at this time (0: now) */
	peerauth_bind_fn bind;		/* NULL: svrcert.ko over netlink */
	peerauth_unbind_fn unbind;
	void *bind_ctx;
	/* The revocations svrcertd's CRL manager lends (held_revs.h), shared
	 * with its other judges; NULL: the held files, read here. */
	struct svrcert_held *held;
};

/* Authentication counters (what authentication saw, not the data path). */
enum peerauth_counter {
	PA_CNT_OK,
	PA_CNT_EXPIRED,
	PA_CNT_INVALID,			/* incl. not yet valid, unknown peer */
	PA_CNT_REVOKED,
	PA_CNT_HANDSHAKE_FAILED,	/* name lookup, TCP or TLS failed: no
					 * certificate judged */
	PA_CNT_SOURCE_REFUSED,		/* caller's address not the peer's */
	PA_CNT__MAX
};

/* One peer's view, for tests and the control socket. */
struct peerauth_peer_status {
	const char *name;
	enum svrcert_cert_state state;	/* UNKNOWN until a certificate was
					 * judged */
	enum svrcert_problem problem;
	const char *reason;		/* "" when valid */
	const char *identity;		/* subject of the certificate, or "" */
	const uint8_t *fingerprint;	/* SHA-256, NULL without certificate */
	time_t last_auth;		/* last judgement, 0 never */
	const char *via;		/* "client", "server", "revalidate" */
	bool alarm;
	const char *kernel;		/* what the kernel was told / why not */
	unsigned int results;		/* judgements so far */
};

/*
 * Set up: load this router's TLS identity (a missing certificate or key
 * is not fatal: the peers are then reported "no own certificate" and
 * retried when peerauth_own_cert_changed() is called), open the listening
 * socket when [daemon] listen is set, and schedule every peer that has an
 * authenticate endpoint for now. -errno with ERR set on a hard failure
 * (e.g. the listen address is in use). SIGPIPE is set to SIG_IGN when it
 * has the default disposition (a peer hanging up mid-write must not kill
 * the process).
 */
int peerauth_new(const struct peerauth_params *p, struct peerauth **out,
		 char *err, size_t errlen);
void peerauth_free(struct peerauth *pa);

/* Descriptors to poll (listening socket, connections in progress). */
size_t peerauth_pollfds(struct peerauth *pa, struct pollfd *fds, size_t max);
/* Milliseconds until the next timer, -1 when none. */
int peerauth_timeout_ms(struct peerauth *pa);
/* Handle FDS' revents (those returned by peerauth_pollfds) and timers. */
void peerauth_process(struct peerauth *pa, const struct pollfd *fds,
		      size_t n);

/* This router's certificate (or key) was replaced: reload the identity
 * and authenticate every peer again. Returns 0 or -errno (ERR why). */
int peerauth_own_cert_changed(struct peerauth *pa, char *err, size_t errlen);
/* Call after anything in the state directory may have changed (the
 * daemon's periodic and on-demand check): trusted CAs and held CRLs are
 * read again at the next judgement, and when STATE_DIR/cert.pem changed
 * since it was loaded, behaves as peerauth_own_cert_changed() and
 * returns 1; also when an identity whose load failed loads now. */
int peerauth_check_own_cert(struct peerauth *pa);
/* A new configuration: peers added, removed (unbound) or changed, a new
 * listen address, a new key storage. Everything is authenticated again.
 * CFG is adopted even on error (the old one may be freed right after); a
 * listen address that cannot be bound is reported (-errno, ERR) and the
 * router then does not listen until the next reconfiguration. */
int peerauth_reconfigure(struct peerauth *pa, const struct svrcert_config *cfg,
			 char *err, size_t errlen);
/* The held CRLs changed: read them again, judge every cached peer
 * certificate now and rebind the peers whose state changed. Returns how
 * many changed. (Trusted CAs and CRLs are otherwise cached.) */
int peerauth_crl_updated(struct peerauth *pa);
/* svrcert.ko was (re)loaded: bind every peer judged so far again, with its
 * last result (a fresh module holds no peers). Returns how many. */
int peerauth_rebind_all(struct peerauth *pa);

/* Peer keys ([daemon] peer-keys, peerauth_keys*.c): agree new keys with
 * NAME (NULL: every peer) now, make-before-break. Returns how many peers,
 * -ENOENT for an unknown name, -EOPNOTSUPP when peer keys are off. */
int peerauth_rekey(struct peerauth *pa, const char *name);
/* Delete every peer's SAs and policies now (this router's own certificate
 * turned bad under fail-hard); WHY is logged. Returns how many peers. */
int peerauth_keys_cut_all(struct peerauth *pa, const char *why);
/* failure-mode is fail-hard: svrcert.conf's, with svrcertctl set's runtime
 * override on top (policy-override.json), as the kernel has it. A bad
 * certificate (a peer's, or this router's own) then loses its keys. */
bool peerauth_fail_hard(const struct peerauth *pa);

/* Listening port actually bound (tests listen on port 0), 0 if none. */
uint16_t peerauth_listen_port(const struct peerauth *pa);
uint64_t peerauth_counter(const struct peerauth *pa, enum peerauth_counter c);
/* -ENOENT for an unknown name. Strings stay valid until the next call
 * into PA. */
int peerauth_peer_status(const struct peerauth *pa, const char *name,
			 struct peerauth_peer_status *out);
/* Raised peer alarms: [{"id": "peer-certificate", "peer", "severity":
 * "critical", "state", "message", "raised", "raised_epoch"}], the content
 * of STATE_DIR/peer-alarms.json. */
json_t *peerauth_alarms_json(const struct peerauth *pa);
/* Each peer holding a certificate (the last one judged, whatever the
 * result), in configuration order: FN(name, cert, state judged, ctx). For
 * CRL discovery. */
typedef void (*peerauth_cert_fn)(const char *name, X509 *cert,
				 enum svrcert_cert_state state, void *ctx);
void peerauth_peer_certs(const struct peerauth *pa, peerauth_cert_fn fn,
			 void *ctx);
/* The "peers" control reply (see Documentation/peerauth.md). */
json_t *peerauth_status_json(const struct peerauth *pa);

#endif
