// SPDX-License-Identifier: GPL-2.0
/*
 * POST /api/v1/certificate: import this router's certificate through
 * import.h (every check of `svrcertctl import`); GET /api/v1/certificate:
 * the installed one, judged now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "pki/alarm.h"
#include "pki/import.h"
#include "pki/pki.h"
#include "rest_int.h"
#include "lib/util.h"

static const char *const import_fields[] = {
	"certificate", "identity", NULL
};

static void import_failed(struct rest_req *r, int ret,
			  const struct import_result *res)
{
	json_t *o;

	if (!res->step) {
		rest_error(r, ret == -ENOENT ? MHD_HTTP_CONFLICT :
			   MHD_HTTP_INTERNAL_SERVER_ERROR, "import: %s",
			   res->message[0] ? res->message : strerror(-ret));
		return;
	}
	o = json_pack("{s:s, s:i, s:s}", "error", res->message, "step",
		      res->step, "problem", svrcert_problem_name(res->problem));
	rest_reply(r, MHD_HTTP_UNPROCESSABLE_CONTENT, o);
}

static void import_run(struct rest_req *r, struct svrcert_env *env,
		       const char *pem, const char *identity)
{
	struct own_cert_status status;
	struct import_result res;
	int ret;

	memset(&res, 0, sizeof(res));
	env->ip.expected_name = identity;
	ret = import_certificate(&env->ip, (const uint8_t *)pem, strlen(pem),
				 &res);
	if (ret) {
		import_failed(r, ret, &res);
		return;
	}
	/* Clear the alarms the new certificate resolves, as svrcertctl. */
	env->ip.tell_kernel = false;
	alarm_check_own(&env->ip, env->have_cfg && env->cfg.peer_validation,
			&status, NULL, 0);
	rest_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:s, s:s, s:s, s:s}",
		   "common_name", res.common_name, "fingerprint_sha1", res.sha1,
		   "fingerprint_sha256", res.sha256, "kernel", res.kernel,
		   "warning", res.warning));
	svrcert_env_notify_daemon(env);
}

void rest_certificate_post(struct rest_req *r)
{
	json_t *in = rest_body_object(r, false);
	const char *pem, *identity;
	struct svrcert_env env;

	if (!in)
		return;
	if (!rest_only_fields(r, in, import_fields) &&
	    !rest_string_field(r, in, "certificate", r->srv->rc.body_max, true,
			       &pem) &&
	    !rest_string_field(r, in, "identity", SVRCERT_CONF_NAME_MAX, false,
				&identity) &&
	    !rest_env_open(r, &env)) {
		import_run(r, &env, pem, identity);
		svrcert_env_close(&env);
	}
	json_decref(in);
}

/* Facts of the leaf (first certificate of cert.pem). */
static json_t *leaf_json(X509 *x)
{
	char subject[512], issuer[512], serial[128], purpose[256];
	char sha1[SVRCERT_SHA1_COLON_LEN], sha256[SVRCERT_SHA256_COLON_LEN];

	svrcert_name_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	svrcert_name_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
	svrcert_cert_serial_hex(x, serial, sizeof(serial));
	svrcert_cert_purpose(x, purpose, sizeof(purpose));
	svrcert_fingerprint_sha1_colon(x, sha1);
	svrcert_fingerprint_sha256_colon(x, sha256);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}",
			 "subject", subject, "issuer", issuer, "serial", serial,
			 "purpose", purpose,
			 "not_before", svrcert_json_time(svrcert_cert_not_before(x)),
			 "not_after", svrcert_json_time(svrcert_cert_not_after(x)),
			 "fingerprint_sha1", sha1, "fingerprint_sha256", sha256);
}

void rest_certificate_get(struct rest_req *r)
{
	struct own_cert_status s;
	STACK_OF(X509) *certs = NULL;
	struct svrcert_env env;
	char *pem = NULL, msg[256];
	size_t len;
	json_t *o;
	int ret;

	if (rest_env_open(r, &env))
		return;
	ret = store_read(&env.st, STORE_CERT, &pem, &len);
	if (ret == -ENOENT) {
		rest_error(r, MHD_HTTP_NOT_FOUND, "no certificate is installed "
			   "(POST /api/v1/certificate)");
	} else if (ret || svrcert_certs_from_buf((uint8_t *)pem, len, &certs,
						 msg, sizeof(msg)) < 1) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s/%s: cannot "
			   "be read", env.st.dir, STORE_CERT);
	} else {
		env.ip.now = 0;
		own_cert_evaluate(&env.ip, &s);
		o = leaf_json(sk_X509_value(certs, 0));
		json_object_set_new(o, "state", json_string(cert_state_name(s.state)));
		json_object_set_new(o, "message", json_string(s.message));
		json_object_set_new(o, "days_left", json_integer(s.days_left));
		json_object_set_new(o, "chain_length",
				    json_integer(sk_X509_num(certs)));
		json_object_set_new(o, "pem", json_string(pem));
		rest_reply(r, MHD_HTTP_OK, o);
	}
	sk_X509_pop_free(certs, X509_free);
	free(pem);
	svrcert_env_close(&env);
}
