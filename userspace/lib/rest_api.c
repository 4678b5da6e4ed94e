// SPDX-License-Identifier: GPL-2.0
/*
 * Provisioning by API, the seed's steps with svrcertctl's semantics:
 * POST private-key, GET certificate-request, POST certificate, and
 * GET certificate. Each works on the state directory under its lock and
 * then tells svrcertd's loop (control socket "check"), as svrcertctl does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarm.h"
#include "csr.h"
#include "import.h"
#include "rest_int.h"
#include "tpm.h"
#include "util.h"

#define SUBJECT_FIELD_MAX	64	/* X.509 upper bound for CN, O, ... */
#define EMAIL_MAX		128

/* ---- POST /api/v1/private-key ---------------------------------------- */

struct key_spec {
	const char *algorithm;		/* "EC" or "RSA" */
	const char *curve;		/* EC */
	json_int_t bits;		/* RSA */
	bool force;
};

static const char *const key_fields[] = {
	"algorithm", "curve", "bits", "force", NULL
};

static int parse_key_spec(struct rest_req *r, json_t *in, struct key_spec *k)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	json_t *bits = json_object_get(in, "bits"), *force;
	size_t i;

	if (rest_only_fields(r, in, key_fields) ||
	    rest_string_field(r, in, "algorithm", 8, false, &k->algorithm) ||
	    rest_string_field(r, in, "curve", 8, false, &k->curve))
		return -EINVAL;
	k->algorithm = k->algorithm ? k->algorithm : "EC";
	force = json_object_get(in, "force");
	if (force && !json_is_boolean(force))
		goto bad_force;
	k->force = json_is_true(force);
	if (!strcmp(k->algorithm, "RSA")) {
		k->bits = json_is_integer(bits) ? json_integer_value(bits) : 2048;
		if ((bits && !json_is_integer(bits)) || k->curve ||
		    (k->bits != 2048 && k->bits != 3072 && k->bits != 4096))
			goto bad_rsa;
		return 0;
	}
	if (strcmp(k->algorithm, "EC")) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"algorithm\": must be "
			   "\"EC\" or \"RSA\"");
		return -EINVAL;
	}
	k->curve = k->curve ? k->curve : "P-256";
	for (i = 0; i < 3 && strcmp(k->curve, curves[i]); i++)
		;
	if (i == 3 || bits) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": EC keys take "
			   "\"curve\": \"P-256\", \"P-384\" or \"P-521\" and no "
			   "\"bits\"", bits ? "bits" : "curve");
		return -EINVAL;
	}
	return 0;
bad_force:
	rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"force\": must be true or "
		   "false");
	return -EINVAL;
bad_rsa:
	rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": RSA keys take "
		   "\"bits\": 2048, 3072 or 4096 and no \"curve\"",
		   k->curve ? "curve" : "bits");
	return -EINVAL;
}

static json_t *public_key_json(struct svrcert_env *env, const char *curve)
{
	char *pem = NULL;
	json_t *o;

	store_read(&env->st, STORE_PUBKEY, &pem, NULL);
	o = json_pack("{s:s, s:s, s:s, s:s?}", "algorithm", "EC", "curve", curve,
		      "storage", tpm_key_storage_name(env->key_storage),
		      "public_key", pem);
	free(pem);
	return o;
}

static void key_generate(struct rest_req *r, struct svrcert_env *env,
			 const struct key_spec *k)
{
	struct tpm_ctx tpm;
	char path[4200];
	int ret;

	store_key_path(&env->st, path, sizeof(path));
	if (env->key_storage == TPM_KEY_STORAGE_HANDLE) {
		rest_error(r, MHD_HTTP_CONFLICT, "[key] storage = tpm: the "
			   "persistent key at its handle is the administrator's "
			   "to make (tpm2_evictcontrol); nothing generated");
		return;
	}
	if (!k->force && !access(path, F_OK)) {
		rest_error(r, MHD_HTTP_CONFLICT, "a key already exists (send "
			   "\"force\": true to replace it; its certificate then "
			   "no longer matches)");
		return;
	}
	ret = svrcert_env_tpm_open(env, &tpm);
	if (!ret)
		ret = store_lock(&env->st);
	if (!ret)
		ret = tpm_key_generate(&tpm, &env->st, k->force);
	if (ret) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "key generation "
			   "failed: %s", tpm.err[0] ? tpm.err : strerror(-ret));
		tpm_ctx_close(&tpm);
		return;
	}
	tpm_ctx_close(&tpm);
	rest_reply(r, MHD_HTTP_CREATED, public_key_json(env, k->curve));
	svrcert_env_notify_daemon(env);
}

void rest_private_key(struct rest_req *r)
{
	json_t *in = rest_body_object(r, true);
	struct svrcert_env env;
	struct key_spec k = { 0 };

	if (!in)
		return;
	if (parse_key_spec(r, in, &k))
		goto out;
	/* tpm.h makes P-256 keys; the other sizes SSR offers are refused
	 * plainly rather than silently made as P-256. */
	if (strcmp(k.algorithm, "EC") || strcmp(k.curve, "P-256")) {
		rest_error(r, MHD_HTTP_NOT_IMPLEMENTED, "%s %s%.0lld keys are "
			   "not supported yet: svrcert generates EC P-256 keys "
			   "in the TPM", k.algorithm, k.curve ? k.curve : "",
			   k.curve ? 0LL : (long long)k.bits);
		goto out;
	}
	if (rest_env_open(r, &env))
		goto out;
	key_generate(r, &env, &k);
	svrcert_env_close(&env);
out:
	json_decref(in);
}

/* ---- GET /api/v1/certificate-request?common_name=...&... ------------- */

struct csr_args {
	struct rest_req *r;
	struct csr_request req;
	bool bad;
	char days[16];
};

static enum MHD_Result csr_arg(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct csr_args *a = cls;
	struct csr_request *q = &a->req;
	static const struct { const char *name; size_t off, max; } f[] = {
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
	const char **slot;
	size_t i;

	if (a->bad)
		return MHD_NO;
	if (!strcmp(key, "days")) {
		char *end;
		long v = value ? strtol(value, &end, 10) : 0;

		if (!value || *end || end == value || v < 1 || v > 36500)
			goto bad;
		q->validity_days = (int)v;
		return MHD_YES;
	}
	for (i = 0; i < sizeof(f) / sizeof(f[0]) && strcmp(f[i].name, key); i++)
		;
	if (i == sizeof(f) / sizeof(f[0])) {
		rest_error(a->r, MHD_HTTP_BAD_REQUEST, "parameter \"%.64s\": "
			   "unknown parameter", key);
		a->bad = true;
		return MHD_NO;
	}
	slot = (const char **)((char *)q + f[i].off);
	if (!value || !value[0] || strlen(value) > f[i].max || *slot ||
	    (f[i].max == 2 && strlen(value) != 2))
		goto bad;
	*slot = value;
	return MHD_YES;
bad:
	rest_error(a->r, MHD_HTTP_BAD_REQUEST, "parameter \"%.64s\": %s", key,
		   !strcmp(key, "days") ? "a number of days from 1 to 36500" :
		   !strcmp(key, "country") ? "two letters" :
		   "1 to 64 characters (128 for email), given once");
	a->bad = true;
	return MHD_NO;
}

void rest_certificate_request(struct rest_req *r)
{
	struct csr_args a = { .r = r };
	struct svrcert_env env;
	struct csr_result res;
	struct tpm_ctx tpm;
	int ret;

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, csr_arg, &a);
	if (a.bad || rest_env_open(r, &env))
		return;
	if (!a.req.peering_name && env.have_cfg)
		a.req.peering_name = env.cfg.peering_common_name;
	ret = svrcert_env_tpm_open(&env, &tpm);
	if (ret) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "TPM: %s", tpm.err);
		svrcert_env_close(&env);
		return;
	}
	ret = csr_generate(&tpm, &env.st, &env.audit, &a.req, &res);
	tpm_ctx_close(&tpm);
	if (ret)
		rest_error(r, ret == -ENOENT ? MHD_HTTP_CONFLICT :
			   MHD_HTTP_INTERNAL_SERVER_ERROR, "CSR: %s", res.err);
	else
		rest_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:s}", "csr",
			   res.pem, "common_name", res.common_name));
	free(res.pem);
	svrcert_env_notify_daemon(&env);
	svrcert_env_close(&env);
}
