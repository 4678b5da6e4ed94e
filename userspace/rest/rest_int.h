/* SPDX-License-Identifier: GPL-2.0 */
/* Internals of the REST server, shared by rest_*.c only. */
#ifndef SVRCERT_REST_INT_H
#define SVRCERT_REST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "rest.h"
#include "rest_deadline.h"
#include "rest_throttle.h"
#include "token.h"

#define REST_PATH_MAX	256
#define REST_PREFIX	"/api/v1"

/*
 * Written before libmicrohttpd starts the first request thread and only
 * read by them afterwards, except where a field says otherwise.
 */
struct rest_server {
	struct MHD_Daemon *mhd;
	struct rest_config rc;
	struct svrcert_env_args args;
	char config_path[4096];		/* copies ARGS points into */
	char state_dir[4096];
	char users_path[4200];
	char node[256];			/* this host's name, as audit.h's */
	struct svrcert_store st;	/* rc.state_dir, for the audit only */
	uint16_t port;
	uint8_t secret[TOKEN_SECRET_LEN];
	struct throttle *throttle;	/* its own lock; shared on reload */
	struct rest_deadline *deadline;	/* [rest] request-timeout */
	char *cert_pem, *key_pem;
	/* Requests begun and not completed: what a retiring server waits
	 * for before it closes its connections. */
	atomic_uint in_flight;
	/* rest_server_retire(): the thread that drains and stops it. */
	pthread_t drainer;
	bool retiring;			/* the loop's thread only */
	atomic_bool hurry, drained;
};

struct rest_req {
	struct rest_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char url[REST_PATH_MAX];	/* as asked (for the audit) */
	const char *path;		/* after /api/v1 (and node prefix) */
	char source[64];		/* client address */
	char *body;
	size_t len;
	bool too_big;
	/* set by authentication */
	struct token_claims who;
	bool authenticated;
	bool permitted;
	/* the answer */
	unsigned int status;
	json_t *out;
	char *text;			/* instead of OUT: a text body */
	const char *content_type;	/* TEXT's */
	unsigned int retry_after;	/* 429: seconds */
	const char *allow;		/* 405: methods */
	char allow_buf[32];		/* what ALLOW points to, when built */
	const char *www_auth;		/* 401: WWW-Authenticate error */
};

/* Answer STATUS with {"error": FMT...}. */
void rest_error(struct rest_req *r, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answer STATUS with OBJ (consumed). */
void rest_reply(struct rest_req *r, unsigned int status, json_t *obj);
/* Answer STATUS with TEXT (consumed, malloc'd) of CONTENT_TYPE. */
void rest_reply_text(struct rest_req *r, unsigned int status, char *text,
		     const char *content_type);

/* The request body as a JSON object, or a 400 answer (NULL). An empty
 * body is {} when EMPTY_OK. */
json_t *rest_body_object(struct rest_req *r, bool empty_ok);
/* The same without the Content-Type check: only R's body, and its answer
 * on error, are used (no connection), so fuzz_rest_body can call it. */
json_t *rest_body_parse(struct rest_req *r, bool empty_ok);
/* Reject any member of OBJ not in the NULL-terminated ALLOWED (400). */
int rest_only_fields(struct rest_req *r, json_t *obj,
		     const char *const *allowed);
/* OBJ's FIELD as a string of 1..MAX bytes (NULL if absent and optional);
 * a wrong type or length answers 400 naming the field and returns -EINVAL. */
int rest_string_field(struct rest_req *r, json_t *obj, const char *field,
		      size_t max, bool required, const char **out);

/* Open the router's environment as svrcertctl does; 500 on failure. */
int rest_env_open(struct rest_req *r, struct svrcert_env *env);

/* rest_server.c: the request callbacks libmicrohttpd calls */
enum MHD_Result rest_on_request(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);
void rest_on_completed(void *cls, struct MHD_Connection *conn,
		       void **con_cls, enum MHD_RequestTerminationCode toe);

/* rest_auth.c */
void rest_login(struct rest_req *r);
/* Check the bearer token; on failure answers 401 and returns false. */
bool rest_authenticate(struct rest_req *r);

/* rest_api.c: provisioning */
void rest_private_key(struct rest_req *r);
/* rest_csr.c: POST makes a CSR, GET answers the last one made */
void rest_certificate_request_post(struct rest_req *r);
void rest_certificate_request_get(struct rest_req *r);
/* Body parsers of POST private-key and POST certificate-request: pure (only
 * R's answer is set, on error: a 400 naming the field); the strings of Q
 * point into BODY. */
struct tpm_key_spec;
int rest_key_spec_parse(struct rest_req *r, json_t *in,
			struct tpm_key_spec *spec, bool *force);
struct csr_request;
int rest_csr_body_parse(struct rest_req *r, json_t *body,
			struct csr_request *q);
void rest_certificate_post(struct rest_req *r);
void rest_certificate_get(struct rest_req *r);

/* rest_status.c: read-only state and CRLs */
void rest_crl_get(struct rest_req *r);
void rest_conductor_get(struct rest_req *r);
void rest_crl_fetch(struct rest_req *r);
void rest_stats(struct rest_req *r);
void rest_alarms(struct rest_req *r);
/* GET /peers/security: svrcertd's peer keys (show peers security -j) */
void rest_peers_security(struct rest_req *r);

/* rest_metrics.c: GET /metrics, Prometheus text */
void rest_metrics(struct rest_req *r);

#endif
