// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the JSON request bodies of the REST API, as the
 * handlers read them after authentication, without a connection or a TPM.
 * The first byte picks the body's endpoint, the rest is the body:
 *
 *   0 POST /auth/login          rest_only_fields + rest_string_field
 *   1 POST /private-key         rest_key_spec_parse
 *   2 GET  /certificate-request rest_csr_body_parse, then the SANs built
 *                               as the CSR would carry them (csr_san_names)
 *   3 POST /certificate         the import body's fields
 *   4 POST /crl/fetch           url and force
 *
 * Beyond "no crash, no leak, no UB": a parser either succeeds with no
 * answer set, or fails with a 400 (or 415) answer {"error": "..."}.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/csr.h"
#include "rest/rest_int.h"
#include "tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const login_fields[] = {
	"username", "password", "application", NULL
};
static const char *const import_fields[] = { "certificate", "identity", NULL };
static const char *const fetch_fields[] = { "url", "force", NULL };

/* The answer matches the verdict: none on success, a 400 with an
 * "error" string on failure. */
static void check_answer(const struct rest_req *r, int ret)
{
	const char *e;

	if (!ret) {
		if (r->out)
			abort();
		return;
	}
	e = json_string_value(json_object_get(r->out, "error"));
	if (r->status != MHD_HTTP_BAD_REQUEST || !e || !*e)
		abort();
}

static int login(struct rest_req *r, json_t *in)
{
	const char *name, *pw, *app;

	return rest_only_fields(r, in, login_fields) ||
	       rest_string_field(r, in, "username", 64, true, &name) ||
	       rest_string_field(r, in, "password", 1024, true, &pw) ||
	       rest_string_field(r, in, "application", 64, false, &app) ?
	       -EINVAL : 0;
}

static int key_spec(struct rest_req *r, json_t *in)
{
	struct tpm_key_spec spec = TPM_KEY_SPEC_DEFAULT;
	bool force;
	int ret = rest_key_spec_parse(r, in, &spec, &force);

	if (!ret && spec.type == TPM_KEY_EC && !spec.curve)
		abort();
	return ret;
}

static int csr_body(struct rest_req *r, json_t *in)
{
	struct csr_request q;
	GENERAL_NAMES *names = NULL;
	char err[256];
	json_t *j;
	int ret = rest_csr_body_parse(r, in, &q);

	if (ret)
		return ret;
	/* Every accepted SAN must build into the CSR's GeneralNames. */
	if (csr_san_names(&q, "urn:ssr:peering:r1", &names, err, sizeof(err)))
		abort();
	j = csr_san_json(names);
	json_decref(j);
	GENERAL_NAMES_free(names);
	return 0;
}

static int import_body(struct rest_req *r, json_t *in)
{
	const char *pem, *id;

	return rest_only_fields(r, in, import_fields) ||
	       rest_string_field(r, in, "certificate", 1u << 20, true, &pem) ||
	       rest_string_field(r, in, "identity", 63, false, &id) ?
	       -EINVAL : 0;
}

static int fetch_body(struct rest_req *r, json_t *in)
{
	json_t *force = json_object_get(in, "force");
	const char *url;

	if (rest_only_fields(r, in, fetch_fields) ||
	    rest_string_field(r, in, "url", 2048, false, &url))
		return -EINVAL;
	if (force && !json_is_boolean(force)) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"force\": must be true or false");
		return -EINVAL;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const parse[])(struct rest_req *, json_t *) = {
		login, key_spec, csr_body, import_body, fetch_body,
	};
	struct rest_req r = { 0 };
	json_t *in;
	int ret;

	if (size < 1)
		return 0;
	r.body = (char *)data + 1;
	r.len = size - 1;
	in = rest_body_parse(&r, data[0] & 1);
	if (!in) {
		check_answer(&r, -EINVAL);
	} else {
		ret = parse[(data[0] >> 1) % 5](&r, in);
		check_answer(&r, ret);
	}
	json_decref(r.out);
	json_decref(in);
	return 0;
}
