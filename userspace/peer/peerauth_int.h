/* SPDX-License-Identifier: GPL-2.0 */
/* Internals of peer authentication (peerauth*.c only). */
#ifndef SVRCERT_PEERAUTH_INT_H
#define SVRCERT_PEERAUTH_INT_H

#include <sys/socket.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "netlink/xfrm.h"
#include "pki/held_revs.h"
#include "peerauth.h"
#include "peerkey.h"

struct pa_peer;
struct pa_agree;			/* peerauth_keys.c */

/* One TLS connection in progress, either direction. */
struct pa_conn {
	int fd;
	SSL *ssl;
	bool server;			/* accepted: we are the TLS server */
	bool connecting;		/* TCP connect not finished yet */
	short events;			/* what to poll for next */
	int64_t deadline_ms;		/* handshake timeout, monotonic */
	struct pa_peer *peer;		/* the peer called, or (server) the
					 * one judged */
	struct pa_agree *agree;		/* key agreement after judgement */
	bool closing;			/* caller: authenticated only, our
					 * close_notify sent, the peer's
					 * awaited (pa_conn_close_step) */
	char remote[64];		/* "addr:port" for messages */
	struct svrcert_addr remote_addr; /* server side: the caller's source
					  * (IPv4-mapped IPv6 as IPv4) */
};

struct pa_resolve;			/* peerauth_resolve.c */

/* Inbound SAs held for a peer, at most (peerauth_keys_held.c). */
#define PA_HELD_MAX	4

/* A peer's ESP keys (peerauth_keys.c): SPIs and times, never key bytes. */
struct pa_keys {
	bool established;
	bool wanted;			/* the peer asked, or an operator */
	bool lower;			/* we start agreements (fingerprints) */
	bool role_known;		/* lower is set: a connection was judged */
	int64_t next_try_ms;		/* rotation timer's next call, at the
					 * earliest */
	uint64_t index;
	uint32_t spi_in, spi_out;
	struct peerkey_path path;
	uint32_t old_out;		/* the replaced outbound SA, in its grace */
	struct peerkey_path old_path;
	int64_t old_due_ms;
	/* Inbound SAs the peer may still send on besides spi_in: those
	 * replaced by an agreement, and those of an agreement that failed
	 * after our READY (peerauth_keys_held.c). */
	struct pa_held_sa {
		uint32_t spi;
		uint64_t index;		/* agreements' order: the peer only
					 * moves to higher indexes */
		struct peerkey_path path;
		int64_t due_ms;		/* grace over: look for the evidence */
		bool noted;		/* "kept past its grace" logged */
	} held[PA_HELD_MAX];
	unsigned int n_held;
	time_t established_at, last_rekey, failed_at;
	int64_t agreed_ms;		/* monotonic: the last agreement done */
	/* The certificates the keys were agreed under: SHA-256 of this
	 * router's cert.pem as loaded (own_cert_hash) and the peer's
	 * fingerprint. Either replaced since: new keys are due. */
	uint8_t own_cert[SVRCERT_DIGEST_LEN];
	uint8_t peer_cert[SVRCERT_DIGEST_LEN];
	unsigned int rekeys, failures;
	char failure[300];
	bool invalid;			/* "key is invalid" alarm raised */
	time_t invalid_since;
};

struct pa_peer {
	char name[SVRCERT_CONF_NAME_MAX + 1];
	struct svrcert_addr addrs[SVRCERT_PEER_ADDRS_MAX];
	size_t n_addrs;
	char *host;			/* authenticate host, NULL: passive */
	uint16_t port;
	bool any_source;		/* accept-any-source = yes */
	struct pa_resolve *resolving;	/* lookup of host in progress */
	int64_t resolve_deadline_ms;
	/* What host resolved to last: connect targets (in order) and, for
	 * the source check, addresses this peer may call from. */
	struct svrcert_addr resolved[SVRCERT_PEER_ADDRS_MAX];
	size_t n_resolved;
	size_t next_target;		/* next of resolved[] to connect to */
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
	/* peerauth_binding_digest of the last binding the kernel took
	 * ("bound" in kernel); zero: none, bind whatever comes */
	uint8_t bound_digest[SVRCERT_DIGEST_LEN];
	char transport[400];		/* last TLS/TCP failure, "" if none */
	char refused[400];		/* last call refused for its source */
	time_t refused_at;
	unsigned int refused_n;
	struct pa_keys keys;
	/* fail-hard with peer-validation and a bad certificate: the peering
	 * is severed until a judgement finds it good (peerauth_sever.c) */
	bool severed;
	time_t severed_since;
	unsigned int severed_calls;	/* our calls since, for the backoff */
	char severed_why[480];
};

struct peerauth {
	struct peerauth_params p;
	const struct svrcert_config *cfg;
	SSL_CTX *client_ctx, *server_ctx;
	char ident_err[300];		/* why there is no TLS identity */
	int listen_fd;
	int resolve_pipe[2];		/* lookups done (peerauth_resolve.c) */
	int64_t stranger_log_ms;	/* last "refused before TLS" log line */
	unsigned int strangers_quiet;	/* refused since, not logged */
	uint16_t listen_port;
	char *listen_host;		/* the endpoint listened on (copy) */
	uint16_t listen_cfg_port;
	/* The listen address when it is not a wildcard: the source of our
	 * own calls, so that peers see us where they call us. */
	struct svrcert_addr listen_src;
	bool have_listen_src;
	uint8_t own_cert_hash[SVRCERT_DIGEST_LEN]; /* SHA-256 of cert.pem as
						  * loaded; zero if none */
	struct pa_peer *peers;
	size_t n_peers;
	struct pa_conn *incoming[PEERAUTH_MAX_INCOMING];
	uint64_t counters[PA_CNT__MAX];
	int64_t next_revalidate_ms;
	struct svrcert_nl *nl;		/* default binder's handle */
	struct svrcert_xfrm *xfrm;	/* peer keys' handle, NULL until used */
	struct audit_sink own_sink;	/* when the caller gave none */
	X509_STORE *trust;		/* cached trust anchors, NULL: reload */
#define PA_STAMP_N	4
	uint64_t trust_stamp[PA_STAMP_N]; /* what it was read from */
	struct svrcert_held own_held;	/* held CRLs, when p.held is NULL */
	struct svrcert_held *held;	/* p.held or own_held */
	struct svrcert_sigcache *sigcache; /* PEERAUTH_SIGCACHE_ENTRIES */
	/* counters.h's peer counts, in pa_persist_counts()'s order: slots
	 * 0..2 are the certificate results (count() in peerauth_judge.c) */
#define PA_P_REKEY_OK	3
#define PA_P_REKEY_FAIL	4
#define PA_P_SA_CUT	5
#define PA_PERSIST_N	6
	struct {
		unsigned int n;		/* not yet in counters.json */
		char reason[32];
	} pending[PA_PERSIST_N];
};

int64_t pa_now_ms(void);
time_t pa_wall(const struct peerauth *pa);


/* peerauth_tls.c */
int pa_identity_load(struct peerauth *pa, char *err, size_t errlen);
void pa_identity_free(struct peerauth *pa);
int pa_listen(struct peerauth *pa, const struct svrcert_endpoint *ep,
	      char *err, size_t errlen);
int pa_own_cert_hash(struct peerauth *pa, uint8_t out[SVRCERT_DIGEST_LEN]);
int pa_conn_connect(struct peerauth *pa, struct pa_peer *peer,
		    const struct svrcert_addr *to);
void pa_conn_accept(struct peerauth *pa);
/* Advance the handshake; returns 1 done, 0 in progress, -1 failed (the
 * reason in WHY). */
int pa_conn_step(struct pa_conn *c, char *why, size_t whylen);
/* An SSL call on @c returned @ret <= 0: true (and c->events set) when it
 * only waits for the socket to be readable or writable. */
bool pa_conn_wants_io(struct pa_conn *c, int ret);
/* The caller's end of an authentication only: our close_notify, then the
 * peer's. 1 the peer's came (it finished the handshake and judged us), 0
 * in progress, -1 it closed without one or failed (WHY). */
int pa_conn_close_step(struct pa_conn *c, char *why, size_t whylen);
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
/* Tell the binder (svrcert.ko) PEER's state, certificate, addresses and
 * whether its ESP keys are installed; the result goes to peer->kernel. */
void pa_bind_peer(struct peerauth *pa, struct pa_peer *peer);
void pa_nl_close(struct peerauth *pa);
void pa_peer_clear(struct pa_peer *peer);
void pa_trust_invalidate(struct peerauth *pa);

/* peerauth_alarm.c */
void pa_alarm_update(struct peerauth *pa, struct pa_peer *peer);
void pa_alarms_save(struct peerauth *pa);
void pa_alarms_restore(struct peerauth *pa);
/* Write counts that waited for the state lock (never blocks). */
void pa_persist_counts(struct peerauth *pa);

/* peerauth_resolve.c: non-blocking lookups of authenticate hosts. */
int pa_resolver_open(struct peerauth *pa);
void pa_resolver_close(struct peerauth *pa);
void pa_resolver_drain(struct peerauth *pa);
/* Start looking HOST up; -errno if it cannot even start. */
int pa_resolve_start(struct peerauth *pa, const char *host, uint16_t port,
		     struct pa_resolve **out);
/* 0 in progress, 1 done (PEER->resolved set), -1 failed (WHY says
 * "cannot resolve HOST: ..."). */
int pa_resolve_result(struct pa_resolve *r, struct pa_peer *peer,
		      char *why, size_t whylen);
/* Give up on (or release a finished) lookup; NULL is fine. */
void pa_resolve_abandon(struct pa_resolve *r);

/* peerauth_source.c: who may call as which peer. */
int pa_sockaddr_to_addr(const struct sockaddr_storage *sa,
			struct svrcert_addr *out);
bool pa_addr_equal(const struct svrcert_addr *a, const struct svrcert_addr *b);
void pa_addr_text(const struct svrcert_addr *a, char *out, size_t len);
/* May PEER authenticate from SRC? */
bool pa_source_allowed(const struct pa_peer *peer,
		       const struct svrcert_addr *src);
/* Before TLS: may anyone call from SRC? Refusals are counted and logged. */
bool pa_source_accept(struct peerauth *pa, const struct svrcert_addr *src);
/* After TLS: PEER's certificate from a source it may not use. */
void pa_source_refused(struct peerauth *pa, struct pa_peer *peer,
		       struct pa_conn *c, const char *subject);

/* peerauth_keys.c: ESP keys after a judgement ([daemon] peer-keys). The
 * step functions return 0 in progress, 1 done, -1 failed (recorded). */
int pa_keys_begin(struct peerauth *pa, struct pa_conn *c);
int pa_keys_step(struct peerauth *pa, struct pa_conn *c);
int pa_keys_timeout(struct peerauth *pa, struct pa_conn *c);
void pa_keys_conn_free(struct pa_conn *c);
/* C carries a key agreement past its first message (SAs may be in). */
bool pa_keys_conn_busy(const struct pa_conn *c);
/* Delete PEER's SAs and policies now (WHY is logged). */
void pa_keys_cut(struct peerauth *pa, struct pa_peer *peer, const char *why);
/* Rotation, expiry, old inbound SAs past their grace
 * (peerauth_keys_timers.c); the next deadline of these. */
int64_t pa_keys_timers(struct peerauth *pa, int64_t now);
void pa_keys_start(struct peerauth *pa);
json_t *pa_keys_json(const struct peerauth *pa, const struct pa_peer *peer);

/* peerauth_sever.c: fail-hard severs a peering. */
/* fail-hard with peer-validation on (svrcert.conf and svrcertctl set's
 * runtime override): a bad certificate severs. */
bool pa_sever_policy(const struct peerauth *pa);
/* How long a severed peer waits for this router's next call. */
int64_t pa_sever_retry_ms(const struct peerauth *pa, const struct pa_peer *peer);
/* PEER was just judged (its state set): sever, keep severed or resume.
 * KEEP is the connection the judgement came on (NULL: none), which the
 * caller closes itself. */
void pa_sever_judged(struct peerauth *pa, struct pa_peer *peer,
		     const struct pa_conn *keep, const char *via);
/* The policy may have changed: resume or sever every judged peer. */
void pa_sever_recheck(struct peerauth *pa);
/* null, or {"since", "reason"} of a severed peering. */
json_t *pa_sever_json(const struct pa_peer *peer);

/* peerauth.c */
struct svrcert_peer;
int pa_peer_init(struct pa_peer *peer, const struct svrcert_peer *cp);

#endif
