/* SPDX-License-Identifier: GPL-2.0 */
/* Internals of peer authentication (peerauth*.c only). */
#ifndef SVRCERT_PEERAUTH_INT_H
#define SVRCERT_PEERAUTH_INT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "peerauth.h"

struct pa_peer;

/* One TLS connection in progress, either direction. */
struct pa_conn {
	int fd;
	SSL *ssl;
	bool server;			/* accepted: we are the TLS server */
	bool connecting;		/* TCP connect not finished yet */
	short events;			/* what to poll for next */
	int64_t deadline_ms;		/* handshake timeout, monotonic */
	struct pa_peer *peer;		/* client side: the peer called */
	char remote[64];		/* "addr:port" for messages */
};

struct pa_peer {
	char name[SVRCERT_CONF_NAME_MAX + 1];
	struct svrcert_addr addrs[SVRCERT_PEER_ADDRS_MAX];
	size_t n_addrs;
	char *host;			/* authenticate host, NULL: passive */
	uint16_t port;
	struct pa_conn *conn;		/* outgoing attempt in progress */
	int64_t next_attempt_ms;	/* monotonic; 0 = none scheduled */
	unsigned int failures;		/* consecutive transport failures */

	/* Last judgement */
	X509 *cert;			/* cached certificate, or NULL */
	STACK_OF(X509) *chain;		/* intermediates it came with */
	uint8_t fingerprint[SVRCERT_DIGEST_LEN];
	enum svrcert_cert_state state;
	enum svrcert_problem problem;
	char reason[400];
	char identity[256];
	time_t last_auth;
	const char *via;
	unsigned int results;
	bool alarm;
	time_t alarm_since;
	char kernel[200];
	char transport[400];		/* last TLS/TCP failure, "" if none */
};

struct peerauth {
	struct peerauth_params p;
	const struct svrcert_config *cfg;
	SSL_CTX *client_ctx, *server_ctx;
	char ident_err[300];		/* why there is no TLS identity */
	int listen_fd;
	uint16_t listen_port;
	char *listen_host;		/* the endpoint listened on (copy) */
	uint16_t listen_cfg_port;
	uint8_t own_cert_hash[SVRCERT_DIGEST_LEN]; /* SHA-256 of cert.pem as
						  * loaded; zero if none */
	struct pa_peer *peers;
	size_t n_peers;
	struct pa_conn *incoming[PEERAUTH_MAX_INCOMING];
	uint64_t counters[PA_CNT__MAX];
	int64_t next_revalidate_ms;
	struct svrcert_nl *nl;		/* default binder's handle */
	struct audit_sink own_sink;	/* when the caller gave none */
	X509_STORE *trust;		/* cached trust anchors, NULL: reload */
#define PA_STAMP_N	3
	uint64_t trust_stamp[PA_STAMP_N]; /* what it was read from */
	struct svrcert_keyset revoked;	/* cached held-CRL keys */
#define PA_PERSIST_N	3		/* expired, invalid, revoked */
	struct {
		unsigned int n;		/* not yet in counters.json */
		char reason[32];
	} pending[PA_PERSIST_N];
};

int64_t pa_now_ms(void);
time_t pa_wall(const struct peerauth *pa);

/* peerauth_key.c: this router's key as OpenSSL's TLS can use it. */
int pa_load_key(const struct svrcert_config *cfg, struct svrcert_store *st,
		EVP_PKEY **out, char *err, size_t errlen);

/* peerauth_tls.c */
int pa_identity_load(struct peerauth *pa, char *err, size_t errlen);
void pa_identity_free(struct peerauth *pa);
int pa_listen(struct peerauth *pa, const struct svrcert_endpoint *ep,
	      char *err, size_t errlen);
int pa_own_cert_hash(struct peerauth *pa, uint8_t out[SVRCERT_DIGEST_LEN]);
int pa_conn_connect(struct peerauth *pa, struct pa_peer *peer);
void pa_conn_accept(struct peerauth *pa);
/* Advance the handshake; returns 1 done, 0 in progress, -1 failed (the
 * reason in WHY). */
int pa_conn_step(struct pa_conn *c, char *why, size_t whylen);
void pa_conn_free(struct pa_conn *c);

/* peerauth_judge.c */
/* Judge CERT (+ CHAIN) as peer PEER (NULL: find it by identity; server
 * side) and record, bind, count, audit, alarm. */
void pa_judge_received(struct peerauth *pa, struct pa_conn *c);
/* Judge the cached certificate again (CRL update, periodic). Returns true
 * if the state changed. */
bool pa_rejudge(struct peerauth *pa, struct pa_peer *peer, const char *via);
void pa_transport_failed(struct peerauth *pa, struct pa_peer *peer,
			 const char *why);
int pa_default_bind(const struct peerauth_binding *b, void *ctx, char *msg,
		    size_t msglen);
int pa_default_unbind(const char *name, void *ctx);
void pa_nl_close(struct peerauth *pa);
void pa_peer_clear(struct pa_peer *peer);
void pa_trust_invalidate(struct peerauth *pa);

/* peerauth_alarm.c */
void pa_alarm_update(struct peerauth *pa, struct pa_peer *peer);
void pa_alarms_save(struct peerauth *pa);
void pa_alarms_restore(struct peerauth *pa);
/* Write counts that waited for the state lock (never blocks). */
void pa_persist_counts(struct peerauth *pa);

/* peerauth.c */
struct svrcert_peer;
int pa_peer_init(struct pa_peer *peer, const struct svrcert_peer *cp);

#endif
