// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show certificate [detail|crl] [-j]
 *
 *   (none)  subject, issuer, serial, validity, days left, fingerprints and
 *           the state judged now with every runtime rule
 *   detail  OpenSSL's full text of the certificate (X509_print_ex)
 *   crl     the CRL sources and each CRL held in STATE_DIR/crl/, once
 *           (show_crl.c)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "pki/import.h"
#include "pki/store_env.h"
#include "lib/util.h"

/*
 * The installed certificate in *OUT: 0, -ENOENT when none is installed,
 * else -errno (or -EBADMSG: it does not parse) with why in ERR -- a file
 * that cannot be read is an error to report, not "no certificate".
 */
static int installed_leaf(const struct svrcert_env *env, X509 **out,
			  char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len;
	BIO *bio;
	int ret;

	*out = NULL;
	ret = store_read(&env->st, STORE_CERT, &pem, &len);
	if (ret) {
		snprintf(err, errlen, "cannot read the certificate %s/" STORE_CERT
			 ": %s", env->st.dir, strerror(-ret));
		return ret;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio)
		*out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(pem);
	ERR_clear_error();
	if (!*out)
		snprintf(err, errlen, "the certificate %s/" STORE_CERT " does not "
			 "parse: no PEM certificate in it", env->st.dir);
	return *out ? 0 : -EBADMSG;
}

/* A certificate that is there but cannot be shown fails the command. */
static int leaf_error(const char *err)
{
	fprintf(stderr, "svrcertctl show certificate: %s\n", err);
	return CTL_FAIL;
}

/*
 * The serial as "openssl x509 -text" prints it: "8214 (0x2016)" when it
 * fits a long, else lower-case colon hex. JSON keeps "serial" in the hex
 * of "openssl x509 -serial" (and GET /api/v1/certificate).
 */
static void serial_text(X509 *x, char *buf, size_t len)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	int n = ASN1_STRING_length(sn), i;
	bool neg = ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER;
	unsigned long v = 0;
	size_t pos = 0;

	if (n <= (int)sizeof(long)) {
		for (i = 0; i < n; i++)
			v = (v << 8) | d[i];
		snprintf(buf, len, "%s%lu (%s0x%lx)", neg ? "-" : "", v,
			 neg ? "-" : "", v);
		return;
	}
	buf[0] = '\0';
	if (neg)
		svrcert_appendf(buf, len, &pos, "(Negative)");
	for (i = 0; i < n; i++)
		svrcert_appendf(buf, len, &pos, "%02x%s", d[i], i + 1 < n ? ":" : "");
}

static json_t *cert_json(X509 *x, const struct own_cert_status *s)
{
	char subj[256], iss[256], serial[128], nb[32], na[32];
	char sha1[SVRCERT_SHA1_COLON_LEN], sha256[SVRCERT_SHA256_COLON_LEN];

	svrcert_name_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	svrcert_name_oneline(X509_get_issuer_name(x), iss, sizeof(iss));
	svrcert_cert_serial_hex(x, serial, sizeof(serial));
	svrcert_time_iso8601(s->not_before, nb, sizeof(nb));
	svrcert_time_iso8601(s->not_after, na, sizeof(na));
	svrcert_fingerprint_sha1_colon(x, sha1);
	svrcert_fingerprint_sha256_colon(x, sha256);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
			 "subject", subj, "issuer", iss, "serial", serial,
			 "not_before", nb, "not_after", na,
			 "days_left", (json_int_t)s->days_left,
			 "sha1_fingerprint", sha1, "sha256_fingerprint", sha256,
			 "state", cert_state_name(s->state),
			 "problems", s->message);
}

static void print_cert_text(json_t *o)
{
	static const char *const rows[][2] = {
		{ "Subject", "subject" }, { "Issuer", "issuer" },
		{ "Serial", "serial" }, { "Not before", "not_before" },
		{ "Not after", "not_after" },
		{ "SHA-1 fingerprint", "sha1_fingerprint" },
		{ "SHA-256 fingerprint", "sha256_fingerprint" },
		{ "State", "state" },
	};
	const char *problems;
	size_t i;

	for (i = 0; i < SVRCERT_ARRAY_SIZE(rows); i++) {
		printf("%-21s %s\n", rows[i][0],
		       json_string_value(json_object_get(o, rows[i][1])));
		if (i == 4)
			printf("%-21s %" JSON_INTEGER_FORMAT "\n", "Days left",
			       json_integer_value(json_object_get(o, "days_left")));
	}
	problems = json_string_value(json_object_get(o, "problems"));
	if (problems && *problems)
		printf("%-21s %s\n", "Problems", problems);
}

static int show_basic(struct svrcert_env *env, bool json)
{
	struct own_cert_status s;
	char err[4400];
	json_t *o;
	X509 *x;
	int ret = installed_leaf(env, &x, err, sizeof(err));

	if (ret && ret != -ENOENT)
		return leaf_error(err);
	if (!x) {
		if (json)
			printf("{\"installed\": false}\n");
		else
			printf("no certificate installed in %s (provision one: "
			       "key generate, csr, import)\n", env->st.dir);
		return CTL_OK;
	}
	own_cert_evaluate(&env->ip, &s);
	o = cert_json(x, &s);
	json_object_set_new(o, "installed", json_true());
	if (json) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		char serial[400];

		serial_text(x, serial, sizeof(serial));
		json_object_set_new(o, "serial", json_string(serial));
		print_cert_text(o);
	}
	json_decref(o);
	X509_free(x);
	return CTL_OK;
}

static int show_detail(struct svrcert_env *env, bool json)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text, err[4400];
	long n;
	X509 *x;
	int ret = installed_leaf(env, &x, err, sizeof(err));

	if (ret && ret != -ENOENT) {
		BIO_free(bio);
		return leaf_error(err);
	}
	if (!x || !bio) {
		fprintf(stderr, "no certificate installed in %s\n", env->st.dir);
		BIO_free(bio);
		X509_free(x);
		return CTL_FAIL;
	}
	X509_print_ex(bio, x, XN_FLAG_ONELINE, 0);
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &text);
	if (json) {
		json_t *o = json_pack("{s:s%}", "text", text, (size_t)n);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		fwrite(text, 1, (size_t)n, stdout);
	}
	BIO_free(bio);
	X509_free(x);
	return CTL_OK;
}

int show_certificate(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	const char *what = argc > 1 ? argv[1] : "";
	char err[512];
	bool json;
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea) || argc > 2)
		goto usage;
	what = argc > 1 ? argv[1] : "";
	if (*what && strcmp(what, "detail") && strcmp(what, "crl"))
		goto usage;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	env.ip.tell_kernel = false;
	if (!strcmp(what, "detail"))
		ret = show_detail(&env, json);
	else if (!strcmp(what, "crl"))
		ret = show_crl(&env, json);
	else
		ret = show_basic(&env, json);
	svrcert_env_close(&env);
	return ret;
usage:
	fprintf(stderr, "usage: svrcertctl show certificate [detail|crl] [-j]\n");
	return CTL_USAGE;
}
