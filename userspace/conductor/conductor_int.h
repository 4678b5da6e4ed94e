/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to conductor*.c: one struct conductor, handed to every function. */
#ifndef SVRCERT_CONDUCTOR_INT_H
#define SVRCERT_CONDUCTOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/ssl.h>

#include "conductor.h"
#include "crl/crl_gen.h"
#include "lib/util.h"
#include "pki/held_revs.h"
#include "pki/pki.h"

/* Delta documents of the current generation kept signed, by base. */
#define CD_DELTA_CACHE	16
#define CD_IO_CHUNK	16384	/* one TLS record of plaintext */
/* Open connections are judged again at least this often (expiry). */
#define CD_REJUDGE_MS	60000

enum cd_conn_state { CD_HANDSHAKE, CD_OPEN };

/* One router's connection: TLS on FD, its plaintext on the socketpair
 * PAIR <-> MHD_FD (MHD's end). Freed once both sides are done. */
struct cd_conn {
	size_t slot;			/* in conductor.conns */
	int fd, pair, mhd_fd;		/* -1 when closed */
	SSL *ssl;
	enum cd_conn_state state;
	int64_t deadline_ms;		/* the handshake's, CLOCK_MONOTONIC */
	bool tls_done;			/* TLS side closed (fd, ssl gone) */
	bool mhd_done;			/* MHD let go of its end */
	bool pair_eof;			/* MHD closed its end for writing */
	bool read_wants_write;		/* SSL_read asked for POLLOUT */
	uint32_t ev_fd, ev_pair;	/* epoll masks registered */
	uint8_t *in, *out;		/* pending plaintext (malloc'd only
					 * while pending) */
	size_t in_len, in_off, out_len, out_off;
	struct sockaddr_storage sa;
	socklen_t salen;
	char remote[56];
	bool refused;
	char who[96];			/* the router's subject, for logs */
	char why[240];			/* refused: the 403's line */
	/* What judging it again needs, kept when it was judged. */
	uint8_t revkey[SVRCERT_DIGEST_LEN], fp[SVRCERT_DIGEST_LEN];
	time_t not_before, not_after;
	struct cd_req *req;		/* a suspended request of this conn */
};

/* One HTTP request (MHD's con_cls). */
struct cd_req {
	struct cd_conn *conn;
	struct MHD_Connection *mc;
	struct cd_req *prev, *next;	/* the waiting list */
	bool suspended, expired;
	int64_t deadline_ms;
	bool has_epoch, has_since;
	uint8_t epoch[16];
	uint64_t since;
	unsigned int wait_s;
	char bad[120];			/* a 400's reason */
};

/* A signed document and the one MHD response that serves it to every
 * router (MHD counts its references; the bytes go with the last). */
struct cd_doc {
	struct MHD_Response *resp;
	uint64_t base;
	size_t len;
};

struct conductor {
	struct conductor_params p;
	char host[256];
	char name[SVRCERT_CONF_NAME_MAX + 1];	/* this router's: the signer */
	char *tcti;			/* a copy: the configuration may go */
	int ep;				/* epoll */
	int listen_fd;
	uint16_t port;
	SSL_CTX *ctx;
	struct MHD_Daemon *mhd;
	int mhd_ep;
	bool mhd_kick;			/* connections resumed: run MHD */
	struct cd_conn **conns;		/* max_conns slots */
	size_t n_conns;
	struct cd_conn **by_fd;		/* MHD's end -> connection */
	size_t n_by_fd;
	int64_t next_hs_ms;		/* earliest handshake deadline */
	struct cd_req *waiting;		/* suspended long-polls */
	size_t n_waiting;
	int64_t next_wait_ms;		/* earliest wait deadline */
	int64_t next_rejudge_ms;	/* the next periodic cd_rejudge_all */
	/* Judging routers: trusted CAs, read again when their files change;
	 * the held revocations (held_revs.h): p.held, lent by svrcertd's CRL
	 * manager, or own_held, read from the files. */
	X509_STORE *trust;
	struct svrcert_held own_held;
	struct svrcert_held *held;
	uint64_t trust_stamp[1];
	/* Generations. */
	struct svrcert_gen_journal j;
	bool have_j, have_cur;
	svrcert_revkey_t *cur;		/* the current generation's set */
	size_t ncur;
	char etag[64];
	struct cd_doc full;		/* resp NULL: not signed (yet) */
	struct cd_doc delta[CD_DELTA_CACHE];
	size_t n_delta;
	int64_t sign_retry_ms;		/* 0: nothing to retry */
	struct conductor_stats stats;
	uint8_t io[CD_IO_CHUNK];	/* scratch for the pump */
};

int64_t cd_now_ms(void);

/* conductor.c */
int cd_epoll_set(struct conductor *c, int op, int fd, uint32_t ev,
		 uint64_t tag);

/* conductor_conn.c: connections. The epoll masks of CN's descriptors as
 * its state wants; its TLS side closed (its MHD side sees the end); freed
 * once both sides are done. */
void cd_accept_all(struct conductor *c);
void cd_conn_event(struct conductor *c, struct cd_conn *cn);
void cd_conn_arm(struct conductor *c, struct cd_conn *cn);
void cd_conn_close(struct conductor *c, struct cd_conn *cn);
void cd_conn_free_if_done(struct conductor *c, struct cd_conn *cn);
/* MHD is done with CN's socketpair end. */
void cd_conn_mhd_closed(struct conductor *c, struct cd_conn *cn);
/* Handshakes past their deadline are dropped. */
void cd_expire_handshakes(struct conductor *c, int64_t now);

/* conductor_judge.c: judge the router of CN (its TLS handshake done). */
void cd_judge(struct conductor *c, struct cd_conn *cn);
/* Judge every open connection again from what was kept (dates, revoked
 * by the files' revocations or the current generation); close the
 * connection of a router no longer valid, counted and audited as a
 * refusal. No handshake, no allocation per router. */
void cd_rejudge_all(struct conductor *c);
void cd_trust_free(struct conductor *c);

/* conductor_http.c */
int cd_http_start(struct conductor *c, char *err, size_t errlen);
void cd_http_stop(struct conductor *c);
void cd_http_run(struct conductor *c);
int cd_http_timeout_ms(const struct conductor *c);
/* Wake every waiting request (a new generation), or those past their
 * deadline (ALL false). */
void cd_http_wake(struct conductor *c, bool all);
/* CN's TLS side is gone: a request of it still suspended is let go. */
void cd_http_conn_gone(struct conductor *c, struct cd_conn *cn);

/* conductor_gen.c */
int cd_gen_open(struct conductor *c, char *err, size_t errlen);
void cd_gen_close(struct conductor *c);
/* The document answering R (200), or NULL with *NOTHING_NEW (304) or
 * *STATUS set (503: not signed yet, 500). */
struct MHD_Response *cd_gen_answer(struct conductor *c, const struct cd_req *r,
				   bool *nothing_new, unsigned int *status);
void cd_gen_retry(struct conductor *c);
const char *cd_gen_etag(const struct conductor *c);

#endif
