// SPDX-License-Identifier: GPL-2.0
/*
 * POST /api/v1/certificate-request: a new CSR for this router's key, signed
 * in the TPM, as `svrcertctl csr` makes it (csr.h), stored, counted and
 * audited. The subject and SANs come as query parameters, as a JSON body,
 * or both (each field once in all):
 *
 *   ?common_name=r1&country=DE&san_dns=r1.example&san_dns=r1-b.example
 *   {"common_name":"r1","days":90,"san_dns":["r1.example"],
 *    "san_ip":["192.0.2.1"],"san_uri":["https://r1.example/"],
 *    "san_email":["ops@example.net"]}
 *
 * Every value is checked by its own rule and a bad one is a 400 naming
 * it; the router's peering URI is always added when it has a peering name.
 *
 * GET /api/v1/certificate-request: the CSR the last one made (read from
 * the state directory, nothing written, counted or signed), so that a GET
 * repeated by a proxy, a crawler or a retrying client changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "pki/csr.h"
#include "rest_int.h"
#include "tpm/tpm.h"

#define SUBJECT_FIELD_MAX	64	/* X.509 upper bound for CN, O, ... */
#define EMAIL_MAX		128
#define DAYS_MAX		36500

struct csr_args {
	struct rest_req *r;
	struct csr_request req;
	const char *what;		/* "parameter" or "field" */
	bool bad;
	bool days_set;
};

static const struct subject_field {
	const char *name;
	size_t off, max;
} subject_fields[] = {
#define F(n, m, x) { n, offsetof(struct csr_request, m), x }
	F("name", name, SUBJECT_FIELD_MAX),
	F("common_name", common_name, SUBJECT_FIELD_MAX),
	F("peering_name", peering_name, SUBJECT_FIELD_MAX),
	F("country", country, 2),
	F("state", state, SUBJECT_FIELD_MAX),
	F("locality", locality, SUBJECT_FIELD_MAX),
	F("organization", organization, SUBJECT_FIELD_MAX),
	F("org_unit", org_unit, SUBJECT_FIELD_MAX),
	F("email", email, EMAIL_MAX),
#undef F
};

#define N_SUBJECT_FIELDS	(sizeof(subject_fields) / sizeof(subject_fields[0]))

static const char *const san_keys[CSR_SAN_KINDS] = {
	[CSR_SAN_DNS] = "san_dns", [CSR_SAN_IP] = "san_ip",
	[CSR_SAN_URI] = "san_uri", [CSR_SAN_EMAIL] = "san_email",
};

static int bad(struct csr_args *a, const char *key, const char *fmt,
	       const char *detail)
{
	rest_error(a->r, MHD_HTTP_BAD_REQUEST, "%s \"%.64s\": %s%s", a->what,
		   key, fmt, detail ? detail : "");
	a->bad = true;
	return -EINVAL;
}

static const struct subject_field *subject_field(const char *key)
{
	size_t i;

	for (i = 0; i < N_SUBJECT_FIELDS; i++)
		if (!strcmp(subject_fields[i].name, key))
			return &subject_fields[i];
	return NULL;
}

static int san_kind(const char *key)
{
	int k;

	for (k = 0; k < CSR_SAN_KINDS; k++)
		if (!strcmp(san_keys[k], key))
			return k;
	return -1;
}

static int set_subject(struct csr_args *a, const struct subject_field *f,
		       const char *value)
{
	const char **slot = (const char **)((char *)&a->req + f->off);
	size_t len = value ? strlen(value) : 0;

	if (*slot)
		return bad(a, f->name, "given more than once", NULL);
	if (!len || len > f->max || (f->max == 2 && len != 2))
		return bad(a, f->name, f->max == 2 ? "two letters" :
			   f->max == EMAIL_MAX ? "1 to 128 characters" :
			   "1 to 64 characters", NULL);
	*slot = value;
	return 0;
}

static int set_days(struct csr_args *a, long long v)
{
	if (a->days_set)
		return bad(a, "days", "given more than once", NULL);
	if (v < 1 || v > DAYS_MAX)
		return bad(a, "days", "a number of days from 1 to 36500", NULL);
	a->req.validity_days = (int)v;
	a->days_set = true;
	return 0;
}

static int add_san(struct csr_args *a, int kind, const char *value)
{
	char err[256];

	if (!value || !*value)
		return bad(a, san_keys[kind], "an empty value", NULL);
	if (csr_san_add(&a->req, kind, value, err, sizeof(err)))
		return bad(a, san_keys[kind], "", err);
	return 0;
}

/* With sizes: a value that a %00 cut short is refused, not truncated. */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, size_t key_size,
				 const char *value, size_t value_size)
{
	const struct subject_field *f = subject_field(key);
	struct csr_args *a = cls;
	int san = san_kind(key);
	char *end;
	long v;

	if (a->bad)
		return MHD_NO;
	if (strlen(key) != key_size || (value && strlen(value) != value_size))
		bad(a, key, "must not contain NUL", NULL);
	else if (f)
		set_subject(a, f, value);
	else if (san >= 0)
		add_san(a, san, value);
	else if (!strcmp(key, "days")) {
		v = value ? strtol(value, &end, 10) : 0;
		set_days(a, value && !*end && end != value ? v : 0);
	} else {
		bad(a, key, "unknown parameter", NULL);
	}
	return a->bad ? MHD_NO : MHD_YES;
}

static int body_san(struct csr_args *a, int kind, json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return bad(a, san_keys[kind], "must be an array of strings",
			   NULL);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) ||
		    strlen(json_string_value(e)) != json_string_length(e))
			return bad(a, san_keys[kind], "must be an array of "
				   "strings without NUL", NULL);
		if (add_san(a, kind, json_string_value(e)))
			return -EINVAL;
	}
	return 0;
}

static int body_field(struct csr_args *a, const char *key, json_t *v)
{
	const struct subject_field *f = subject_field(key);
	int san = san_kind(key);

	if (san >= 0)
		return body_san(a, san, v);
	if (!strcmp(key, "days"))
		return json_is_integer(v) ? set_days(a, json_integer_value(v)) :
		       bad(a, key, "must be an integer", NULL);
	if (!f)
		return bad(a, key, "unknown field", NULL);
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(a, key, "must be a string without NUL", NULL);
	return set_subject(a, f, json_string_value(v));
}

static int body_fields(struct csr_args *a, json_t *body)
{
	const char *key;
	json_t *v;

	a->what = "field";
	json_object_foreach(body, key, v)
		if (body_field(a, key, v))
			return -EINVAL;
	return 0;
}

int rest_csr_body_parse(struct rest_req *r, json_t *body,
			struct csr_request *q)
{
	struct csr_args a = { .r = r,
			      .req.validity_days = CSR_DEFAULT_DAYS };
	int ret = body_fields(&a, body);

	*q = a.req;
	return ret;
}

/* Query parameters, then the body's fields; the body (if any) is returned
 * for the caller to free once the request is done with its strings. */
static int csr_args_parse(struct csr_args *a, json_t **body)
{
	*body = NULL;
	a->what = "parameter";
	MHD_get_connection_values_n(a->r->conn, MHD_GET_ARGUMENT_KIND,
				    query_arg, a);
	if (a->bad)
		return -EINVAL;
	if (!a->r->len)
		return 0;
	*body = rest_body_object(a->r, true);
	if (!*body)
		return -EINVAL;
	return body_fields(a, *body);
}

static void csr_answer(struct rest_req *r, struct svrcert_env *env,
		       struct csr_request *q)
{
	struct csr_result res;
	struct tpm_ctx tpm;
	int ret;

	if (!q->peering_name && env->have_cfg)
		q->peering_name = env->cfg.peering_common_name;
	ret = svrcert_env_tpm_open(env, &tpm);
	if (ret) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "TPM: %s", tpm.err);
		return;
	}
	ret = csr_generate(&tpm, &env->st, &env->audit, q, &res);
	tpm_ctx_close(&tpm);
	if (ret)
		rest_error(r, ret == -ENOENT ? MHD_HTTP_CONFLICT :
			   ret == -EINVAL ? MHD_HTTP_BAD_REQUEST :
			   MHD_HTTP_INTERNAL_SERVER_ERROR, "CSR: %s", res.err);
	else
		rest_reply(r, MHD_HTTP_CREATED, json_pack("{s:s, s:s}", "csr",
			   res.pem, "common_name", res.common_name));
	free(res.pem);
	svrcert_env_notify_daemon(env);
}

void rest_certificate_request_post(struct rest_req *r)
{
	struct csr_args a = { .r = r,
			      .req.validity_days = CSR_DEFAULT_DAYS };
	struct svrcert_env env;
	json_t *body;

	if (!csr_args_parse(&a, &body) && !rest_env_open(r, &env)) {
		csr_answer(r, &env, &a.req);
		svrcert_env_close(&env);
	}
	json_decref(body);
}

/* The subject CN of the stored CSR PEM ("" when it has none); -EINVAL
 * when PEM is not a CSR. */
static int stored_csr_cn(const char *pem, size_t len, char *cn, size_t cnlen)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	int ret = req ? 0 : -EINVAL;

	cn[0] = '\0';
	if (req && X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
					     NID_commonName, cn, (int)cnlen) < 0)
		cn[0] = '\0';
	X509_REQ_free(req);
	BIO_free(bio);
	return ret;
}

static void stored_csr_answer(struct rest_req *r, struct svrcert_env *env)
{
	char *pem = NULL, cn[128];
	size_t len;
	int ret = store_read(&env->st, STORE_CSR, &pem, &len);

	if (ret == -ENOENT)
		rest_error(r, MHD_HTTP_NOT_FOUND, "no CSR has been made yet "
			   "(make one with POST /api/v1/certificate-request)");
	else if (ret || stored_csr_cn(pem, len, cn, sizeof(cn)))
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s/%s: cannot be "
			   "read as a CSR", env->st.dir, STORE_CSR);
	else
		rest_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:s}", "csr", pem,
			   "common_name", cn));
	free(pem);
}

void rest_certificate_request_get(struct rest_req *r)
{
	struct svrcert_env env;

	/* Fields asked for a new CSR: saying so beats answering an old one. */
	if (r->len || MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
						NULL, NULL) > 0) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "GET answers the last CSR "
			   "made and takes no fields; make a new one with POST "
			   "/api/v1/certificate-request");
		return;
	}
	if (!rest_env_open(r, &env)) {
		stored_csr_answer(r, &env);
		svrcert_env_close(&env);
	}
}
