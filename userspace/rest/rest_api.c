// SPDX-License-Identifier: GPL-2.0
/*
 * Provisioning by API, the seed's steps with svrcertctl's semantics:
 * POST private-key here, POST certificate-request (rest_csr.c), POST and
 * GET certificate (rest_cert.c). Each works on the state directory under
 * its lock and then tells svrcertd's loop (control socket "check"), as
 * svrcertctl does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rest_int.h"
#include "tpm/tpm.h"
#include "lib/util.h"

/* ---- POST /api/v1/private-key ---------------------------------------- */

static const char *const key_fields[] = {
	"algorithm", "curve", "bits", "force", NULL
};

/* {"algorithm":"EC"|"RSA", "curve":..., "bits":..., "force":bool}, each
 * optional (EC P-256); a 400 names the field. */
int rest_key_spec_parse(struct rest_req *r, json_t *in,
			struct tpm_key_spec *spec, bool *force)
{
	const char *alg, *curve;
	json_t *bits = json_object_get(in, "bits");
	json_t *f = json_object_get(in, "force");
	char err[256];

	if (rest_only_fields(r, in, key_fields) ||
	    rest_string_field(r, in, "algorithm", 8, false, &alg) ||
	    rest_string_field(r, in, "curve", 16, false, &curve))
		return -EINVAL;
	if (f && !json_is_boolean(f)) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"force\": must be "
			   "true or false");
		return -EINVAL;
	}
	*force = json_is_true(f);
	if (bits && (!json_is_integer(bits) || json_integer_value(bits) <= 0)) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"bits\": must be "
			   "2048, 3072 or 4096");
		return -EINVAL;
	}
	if (tpm_key_spec_parse(spec, alg ? alg : bits ? "RSA" : NULL, curve,
			       bits ? (long)json_integer_value(bits) : 0, err,
			       sizeof(err))) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": %s",
			   !strncmp(err, "key algorithm", 13) ? "algorithm" :
			   curve ? "curve" : "bits", err);
		return -EINVAL;
	}
	return 0;
}

/* The key as stored: its type and size from the public key itself. */
static json_t *public_key_json(struct svrcert_env *env)
{
	struct tpm_key_spec spec = { 0 };
	EVP_PKEY *pub = NULL;
	char *pem = NULL;
	json_t *o;

	store_read(&env->st, STORE_PUBKEY, &pem, NULL);
	if (!tpm_pubkey_load(&env->st, &pub))
		tpm_key_spec_of(pub, &spec);
	EVP_PKEY_free(pub);
	o = json_pack("{s:s, s:s, s:s?}", "algorithm",
		      spec.type == TPM_KEY_RSA ? "RSA" : "EC", "storage",
		      tpm_key_storage_name(env->key_storage), "public_key", pem);
	if (o && spec.type == TPM_KEY_RSA)
		json_object_set_new(o, "bits", json_integer(spec.bits));
	else if (o && spec.curve)
		json_object_set_new(o, "curve", json_string(spec.curve));
	free(pem);
	return o;
}

static void key_generate(struct rest_req *r, struct svrcert_env *env,
			 const struct tpm_key_spec *spec, bool force)
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
	if (!force && !access(path, F_OK)) {
		rest_error(r, MHD_HTTP_CONFLICT, "a key already exists (send "
			   "\"force\": true to replace it; its certificate then "
			   "no longer matches)");
		return;
	}
	ret = svrcert_env_tpm_open(env, &tpm);
	if (!ret)
		ret = store_lock(&env->st);
	if (!ret)
		ret = tpm_key_generate_spec(&tpm, &env->st, spec, force);
	if (ret) {
		/* A type or size this TPM does not make is the server's
		 * limit, not a fault: 501, naming what it does make. */
		rest_error(r, ret == -EOPNOTSUPP ? MHD_HTTP_NOT_IMPLEMENTED :
			   MHD_HTTP_INTERNAL_SERVER_ERROR, "key generation "
			   "failed: %s", tpm.err[0] ? tpm.err : strerror(-ret));
		tpm_ctx_close(&tpm);
		return;
	}
	tpm_ctx_close(&tpm);
	rest_reply(r, MHD_HTTP_CREATED, public_key_json(env));
	svrcert_env_notify_daemon(env);
}

void rest_private_key(struct rest_req *r)
{
	json_t *in = rest_body_object(r, true);
	struct tpm_key_spec spec;
	struct svrcert_env env;
	bool force = false;

	if (!in)
		return;
	if (!rest_key_spec_parse(r, in, &spec, &force) && !rest_env_open(r, &env)) {
		key_generate(r, &env, &spec, force);
		svrcert_env_close(&env);
	}
	json_decref(in);
}
