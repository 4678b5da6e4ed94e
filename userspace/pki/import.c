// SPDX-License-Identifier: GPL-2.0
/* The certificate import flow and the judgement of the installed one. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl/crl_master.h"
#include "lib/counters.h"
#include "held_revs.h"
#include "import.h"
#include "import_trust.h"
#include "tpm/tpm.h"
#include "lib/util.h"

#define IMPORT_MAX	(1u << 20)

/* Everything the rules need, built from the state directory and config. */
struct import_env {
	X509_STORE *trust;
	struct svrcert_held *held;	/* IP's, or own */
	struct svrcert_held own;
	EVP_PKEY *key;
	char name[128];
	struct svrcert_validate_params vp;
};

static void check_env_free(struct import_env *e)
{
	X509_STORE_free(e->trust);
	svrcert_held_free(&e->own);
	EVP_PKEY_free(e->key);
	memset(e, 0, sizeof(*e));
}

static int expected_identity(const struct import_params *ip, char *out,
			     size_t len)
{
	char uuid[STORE_UUID_LEN + 1];
	int ret;

	if (ip->expected_name && *ip->expected_name) {
		snprintf(out, len, "%s", ip->expected_name);
	} else if (ip->cfg && ip->cfg->peering_common_name) {
		snprintf(out, len, "%s", ip->cfg->peering_common_name);
	} else {
		ret = store_router_uuid(ip->st, uuid);
		if (ret)
			return ret;
		snprintf(out, len, "%s", uuid);
	}
	return 0;
}

static int check_env_init(const struct import_params *ip,
			  struct import_env *e, char *err, size_t errlen)
{
	int ret;

	memset(e, 0, sizeof(*e));
	svrcert_held_init(&e->own);
	e->held = ip->held ? ip->held : &e->own;
	ret = trust_store_build(ip->st, ip->cfg, &e->trust, err, errlen);
	if (!ret)
		ret = svrcert_held_refresh(e->held, ip->st, err, errlen);
	if (!ret) {
		ret = tpm_pubkey_load(ip->st, &e->key);
		if (ret)
			snprintf(err, errlen, "no key of this router in %.200s "
				 "(%s): run 'svrcertctl key generate' first",
				 ip->st->dir, strerror(-ret));
	}
	if (!ret) {
		ret = expected_identity(ip, e->name, sizeof(e->name));
		if (ret)
			snprintf(err, errlen, "cannot read the router UUID: %s",
				 strerror(-ret));
	}
	if (ret) {
		check_env_free(e);
		return ret;
	}
	e->vp.store = e->trust;
	e->vp.now = ip->now;
	e->vp.expected_name = e->name;
	e->vp.expected_key = e->key;
	e->vp.revoked = svrcert_held_revoked;
	e->vp.revoked_ctx = e->held;
	return 0;
}

int import_env_open(const struct import_params *ip, struct import_env **out,
		    char *err, size_t errlen)
{
	struct import_env *e = calloc(1, sizeof(*e));
	int ret = e ? check_env_init(ip, e, err, errlen) : -ENOMEM;

	if (ret) {
		free(e);
		e = NULL;
	}
	*out = e;
	return ret;
}

void import_env_close(struct import_env *env)
{
	if (env)
		check_env_free(env);
	free(env);
}

/* IP's long-lived environment when it has one, else LOCAL read now. */
static int env_get(const struct import_params *ip, struct import_env *local,
		   const struct import_env **env, char *err, size_t errlen)
{
	*env = ip->env ? ip->env : local;
	return ip->env ? 0 : check_env_init(ip, local, err, errlen);
}

static void env_put(const struct import_params *ip, struct import_env *local)
{
	if (!ip->env)
		check_env_free(local);
}

static int step_of(int ret)
{
	switch (ret) {
	case -EPERM: return 1;
	case -EBADMSG: case -EKEYREJECTED: return 2;
	case -EKEYREVOKED: return 3;
	default: return 0;
	}
}

static uint64_t problems_mask(const struct svrcert_problems *p)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->v[i].warning && p->v[i].code < 64)
			mask |= 1ull << p->v[i].code;
	return mask;
}

static void problems_text(const struct svrcert_problems *p, char *out,
			  size_t len)
{
	size_t i, pos = 0;

	out[0] = '\0';
	for (i = 0; i < p->n; i++)
		svrcert_appendf(out, len, &pos, "%s%s%s", pos ? "\n" : "",
				p->v[i].warning ? "warning: " : "",
				p->v[i].msg);
}

static json_t *ingest_detail(X509 *leaf, const struct import_result *res)
{
	char purpose[256] = "", issuer[256] = "N/A";
	json_t *urls = json_array();
	char **v = NULL;
	size_t n = 0, i;

	if (leaf) {
		svrcert_cert_purpose(leaf, purpose, sizeof(purpose));
		svrcert_name_oneline(X509_get_issuer_name(leaf), issuer,
				     sizeof(issuer));
		if (!svrcert_cert_crl_urls(leaf, &v, &n))
			for (i = 0; i < n; i++)
				json_array_append_new(urls, json_string(v[i]));
		svrcert_strv_free(v, n);
	}
	/* The seed's fields, in its order, plus the SHA-256 fingerprint. */
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}",
			 "purpose", purpose, "common_name", res->common_name,
			 "crl_urls", urls, "certificate_authority", issuer,
			 "fingerprint", res->sha1,
			 "sha256_fingerprint", res->sha256);
}

static void describe_leaf(X509 *leaf, struct import_result *res)
{
	if (!leaf)
		return;
	if (svrcert_cert_cn(leaf, res->common_name, sizeof(res->common_name)) < 0)
		res->common_name[0] = '\0';
	svrcert_fingerprint_sha1_colon(leaf, res->sha1);
	svrcert_fingerprint_sha256_colon(leaf, res->sha256);
}

static int pem_of_import(X509 *leaf, const uint8_t *buf, size_t len,
			 char **pem, size_t *pemlen)
{
	STACK_OF(X509) *certs = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char msg[64], *p;
	int i, ok;

	/* Re-encode what was parsed: the leaf first, then the intermediates
	 * the file carried, and nothing else (no comments, no stray text). */
	ok = bio && svrcert_certs_from_buf(buf, len, &certs, msg, sizeof(msg)) > 0 &&
	     PEM_write_bio_X509(bio, leaf);
	for (i = 1; ok && i < sk_X509_num(certs); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(certs, i));
	sk_X509_pop_free(certs, X509_free);
	*pemlen = ok ? (size_t)BIO_get_mem_data(bio, &p) : 0;
	*pem = ok ? strndup(p, *pemlen) : NULL;
	BIO_free(bio);
	return *pem ? 0 : -ENOMEM;
}

static int install(const struct import_params *ip, X509 *leaf,
		   const uint8_t *buf, size_t len, struct import_result *res)
{
	char *pem = NULL;
	size_t pemlen;
	int ret;

	ret = pem_of_import(leaf, buf, len, &pem, &pemlen);
	if (!ret)
		ret = store_write(ip->st, STORE_CERT, pem, pemlen,
				  STORE_MODE_PUBLIC);
	free(pem);
	if (ret)
		snprintf(res->message, sizeof(res->message), "cannot store "
			 "the certificate: %s", strerror(-ret));
	return ret;
}

static void record(const struct import_params *ip, X509 *leaf, int ret,
		   struct import_result *res)
{
	struct audit_sink def = { .st = ip->st, .path = NULL };
	const char *reason = NULL;
	char desc[200];
	json_t *detail;

	if (ret && res->problem != SVRCERT_P_NONE)
		reason = svrcert_problem_name(res->problem);
	else if (ret)
		reason = "setup";	/* no trusted CA, no key, I/O */
	counters_inc(ip->st, ret ? CNT_IMPORT_FAILURE : CNT_IMPORT_SUCCESS,
		     reason);
	detail = ingest_detail(leaf, res);
	if (ret && detail)
		json_object_set_new(detail, "error", json_string(res->message));
	if (!ret && res->warning[0] && detail)
		json_object_set_new(detail, "warning", json_string(res->warning));
	snprintf(desc, sizeof(desc), "%s certificate: %s",
		 ret ? "Rejected" : "Ingested",
		 res->common_name[0] ? res->common_name : "(unparsed)");
	audit_event(ip->audit ? ip->audit : &def, AUDIT_INGEST_CERT, desc,
		    detail, ret == 0);
}

/* True when STATE_DIR/crl holds a CRL (a name a completed write leaves:
 * what the CRL manager publishes, or one placed by hand). */
static bool crl_held(const struct svrcert_store *st)
{
	char dir[4200];
	struct dirent *de;
	bool held = false;
	DIR *d;

	if (store_path(st, TRUST_DIR_CRL, dir, sizeof(dir)))
		return false;
	d = opendir(dir);
	while (d && !held && (de = readdir(d)))
		held = svrcert_master_crl_name_ok(de->d_name);
	if (d)
		closedir(d);
	return held;
}

/* Step 3 passed, but against which CRLs? With none held it proved nothing:
 * say so rather than let "not revoked" read as checked. */
static void warn_no_crl(const struct import_params *ip,
			struct import_result *res)
{
	if (crl_held(ip->st))
		return;
	snprintf(res->warning, sizeof(res->warning), "step 3 (not revoked): "
		 "no CRL is held (%.80s/" TRUST_DIR_CRL " is empty), so the "
		 "certificate was checked against no CRL; svrcertd judges it "
		 "again as soon as one arrives", ip->st->dir);
}

static int validate(const struct import_params *ip, const uint8_t *buf,
		    size_t len, struct svrcert_validated *v,
		    struct import_result *res)
{
	struct svrcert_problems p;
	const struct import_env *env;
	struct import_env local;
	int ret;

	ret = env_get(ip, &local, &env, res->message, sizeof(res->message));
	if (ret)
		return ret;
	svrcert_problems_init(&p);
	ret = svrcert_validate_import(buf, len, &env->vp, v, &p);
	res->step = step_of(ret);
	if (ret) {
		res->problem = svrcert_problems_first(&p);
		res->problems = problems_mask(&p);
		problems_text(&p, res->message, sizeof(res->message));
		if (!res->message[0])
			snprintf(res->message, sizeof(res->message),
				 "import failed: %s", strerror(-ret));
	}
	svrcert_problems_free(&p);
	env_put(ip, &local);
	return ret;
}

int import_certificate(const struct import_params *ip, const uint8_t *buf,
		       size_t len, struct import_result *res)
{
	struct svrcert_validated v = { 0 };
	int ret;

	memset(res, 0, sizeof(*res));
	ret = store_lock(ip->st);
	if (!ret && len > IMPORT_MAX)
		ret = -EFBIG;
	if (!ret)
		ret = validate(ip, buf, len, &v, res);
	if (!ret)
		warn_no_crl(ip, res);
	describe_leaf(v.leaf, res);
	if (!ret)
		ret = install(ip, v.leaf, buf, len, res);
	if (ret && !res->message[0])
		snprintf(res->message, sizeof(res->message), "import failed: "
			 "%s", strerror(-ret));
	record(ip, v.leaf, ret, res);
	svrcert_validated_free(&v);
	if (!ret && ip->tell_kernel)
		kernel_push_self_state(SVRCERT_STATE_VALID, res->kernel,
				       sizeof(res->kernel));
	return ret;
}

static int read_installed(const struct import_params *ip, X509 **leaf,
			  STACK_OF(X509) **extra)
{
	STACK_OF(X509) *certs = NULL;
	char *pem = NULL, msg[64];
	size_t len;
	int ret;

	ret = store_read(ip->st, STORE_CERT, &pem, &len);
	if (ret)
		return ret;
	ret = svrcert_certs_from_buf((uint8_t *)pem, len, &certs, msg,
				     sizeof(msg));
	free(pem);
	if (ret < 0)
		return ret;
	*leaf = sk_X509_shift(certs);
	*extra = certs;
	return 0;
}

int own_cert_evaluate(const struct import_params *ip,
		      struct own_cert_status *out)
{
	struct svrcert_validated v = { 0 };
	struct svrcert_problems p;
	STACK_OF(X509) *extra = NULL;
	const struct import_env *env;
	struct import_env local;
	X509 *leaf = NULL;
	time_t now = ip->now ? ip->now : time(NULL);
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_installed(ip, &leaf, &extra);
	if (ret == -ENOENT)
		return 0;
	out->present = true;
	out->state = SVRCERT_STATE_INVALID;
	if (ret) {
		snprintf(out->message, sizeof(out->message), "the installed "
			 "certificate does not parse: %s", strerror(-ret));
		return 0;
	}
	out->not_before = svrcert_cert_not_before(leaf);
	out->not_after = svrcert_cert_not_after(leaf);
	out->days_left = (long)((out->not_after - now) / 86400);
	ret = env_get(ip, &local, &env, out->message, sizeof(out->message));
	if (!ret) {
		svrcert_problems_init(&p);
		ret = svrcert_validate_cert(leaf, extra, &env->vp, &v, &p);
		out->state = ret ? v.state : SVRCERT_STATE_VALID;
		out->problem = svrcert_problems_first(&p);
		if (ret)
			problems_text(&p, out->message, sizeof(out->message));
		svrcert_problems_free(&p);
		svrcert_validated_free(&v);
		env_put(ip, &local);
	}
	if (out->state == SVRCERT_STATE_VALID && ret)
		out->state = SVRCERT_STATE_INVALID;
	X509_free(leaf);
	sk_X509_pop_free(extra, X509_free);
	return ret == -ENOMEM ? ret : 0;
}
