// SPDX-License-Identifier: GPL-2.0
/* Trusted CA bundles and held CRLs, as the import checks see them. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crl/crl_master.h"
#include "import_trust.h"
#include "lib/util.h"
#include "trust_config.h"

#define BUNDLE_MAX	(4u << 20)
#define CRL_MAX		(256u << 20)

bool trust_ca_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > SVRCERT_CONF_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

static int bundle_paths(const char *name, char *pem, char *mode, size_t len)
{
	if (!trust_ca_name_ok(name))
		return -EINVAL;
	snprintf(pem, len, STORE_TRUSTED_CA_DIR "/%s.pem", name);
	snprintf(mode, len, STORE_TRUSTED_CA_DIR "/%s.mode", name);
	return 0;
}

static int certs_to_pem(STACK_OF(X509) *certs, char **out, size_t *outlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int i, ok = bio != NULL;

	for (i = 0; ok && i < sk_X509_num(certs); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(certs, i));
	n = ok ? BIO_get_mem_data(bio, &p) : 0;
	*out = ok ? strndup(p, (size_t)n) : NULL;
	*outlen = (size_t)n;
	BIO_free(bio);
	return *out ? 0 : -ENOMEM;
}

int trust_ca_add(struct svrcert_store *st, const char *name,
		 const char *file, enum svrcert_validation_mode mode,
		 time_t now, struct svrcert_problems *p, char *err,
		 size_t errlen)
{
	char pem_name[128], mode_name[128], *pem = NULL, modeline[16];
	STACK_OF(X509) *certs = NULL;
	uint8_t *buf = NULL;
	size_t len, pemlen;
	int ret;

	if (bundle_paths(name, pem_name, mode_name, sizeof(pem_name))) {
		snprintf(err, errlen, "bad trusted CA name '%s' (1..63 of "
			 "A-Z a-z 0-9 . _ -)", name);
		return -EINVAL;
	}
	ret = svrcert_read_file(file, BUNDLE_MAX, &buf, &len);
	if (ret) {
		snprintf(err, errlen, "%s: %s", file, strerror(-ret));
		return ret;
	}
	ret = svrcert_bundle_check(buf, len, mode, now, &certs, p);
	free(buf);
	if (ret) {
		snprintf(err, errlen, "%s: trusted CA bundle '%s' rejected",
			 file, name);
		return ret;
	}
	/* Stored re-encoded: only the certificates, nothing between them. */
	ret = certs_to_pem(certs, &pem, &pemlen);
	sk_X509_pop_free(certs, X509_free);
	snprintf(modeline, sizeof(modeline), "%s\n",
		 svrcert_validation_mode_name(mode));
	if (!ret)
		ret = store_lock(st);
	if (!ret)
		ret = store_write(st, pem_name, pem, pemlen, STORE_MODE_PUBLIC);
	if (!ret)
		ret = store_write(st, mode_name, modeline, strlen(modeline),
				  STORE_MODE_PUBLIC);
	if (ret)
		snprintf(err, errlen, "cannot install bundle '%s': %s", name,
			 strerror(-ret));
	free(pem);
	return ret;
}

int trust_ca_del(struct svrcert_store *st, const char *name)
{
	char pem_name[128], mode_name[128];
	int ret;

	ret = bundle_paths(name, pem_name, mode_name, sizeof(pem_name));
	if (!ret)
		ret = store_lock(st);
	if (!ret)
		ret = store_remove(st, pem_name);
	if (!ret || ret == -ENOENT)
		store_remove(st, mode_name);
	return ret;
}

static json_t *bundle_json(const char *name, const char *source,
			   const char *file, const char *mode)
{
	STACK_OF(X509) *certs = NULL;
	json_t *arr = json_array(), *obj;
	char subj[256], iss[256], na[32], msg[128];
	uint8_t *buf = NULL;
	size_t len;
	int i;

	if (!svrcert_read_file(file, BUNDLE_MAX, &buf, &len) &&
	    svrcert_certs_from_buf(buf, len, &certs, msg, sizeof(msg)) > 0) {
		for (i = 0; i < sk_X509_num(certs); i++) {
			X509 *c = sk_X509_value(certs, i);

			svrcert_name_oneline(X509_get_subject_name(c), subj, sizeof(subj));
			svrcert_name_oneline(X509_get_issuer_name(c), iss, sizeof(iss));
			svrcert_time_iso8601(svrcert_cert_not_after(c), na, sizeof(na));
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
				"subject", subj, "issuer", iss, "not_after", na));
		}
	}
	sk_X509_pop_free(certs, X509_free);
	free(buf);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", name,
			"source", source, "file", file,
			"validation_mode", mode, "certificates", arr);
	return obj;
}

static void list_state_bundles(const struct svrcert_store *st, json_t *out)
{
	char dir[4200], file[4500], modename[128], *mode = NULL;
	struct dirent *de;
	DIR *d;

	if (store_path(st, STORE_TRUSTED_CA_DIR, dir, sizeof(dir)))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char name[256];
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".pem"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), de->d_name);
		if (!trust_ca_name_ok(name))
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		snprintf(modename, sizeof(modename), STORE_TRUSTED_CA_DIR "/%.64s.mode", name);
		if (store_read(st, modename, &mode, NULL))
			mode = strdup("strict");
		if (mode)
			mode[strcspn(mode, "\n")] = '\0';
		json_array_append_new(out, bundle_json(name, "state", file,
						       mode ? mode : "strict"));
		free(mode);
		mode = NULL;
	}
	closedir(d);
}

int trust_ca_list(const struct svrcert_store *st,
		  const struct svrcert_config *cfg, json_t **out)
{
	size_t i;

	*out = json_array();
	if (!*out)
		return -ENOMEM;
	list_state_bundles(st, *out);
	for (i = 0; cfg && i < cfg->n_cas; i++)
		json_array_append_new(*out, bundle_json(cfg->cas[i].name,
			"config", cfg->cas[i].file,
			svrcert_validation_mode_name(cfg->cas[i].mode)));
	return 0;
}

static int add_bundle_file(X509_STORE *store, const char *file, char *err,
			   size_t errlen)
{
	STACK_OF(X509) *certs = NULL;
	uint8_t *buf = NULL;
	char msg[160];
	size_t len;
	int ret;

	ret = svrcert_read_file(file, BUNDLE_MAX, &buf, &len);
	if (ret) {
		snprintf(err, errlen, "trusted CA bundle %s: %s", file,
			 strerror(-ret));
		return ret;
	}
	ret = svrcert_certs_from_buf(buf, len, &certs, msg, sizeof(msg));
	free(buf);
	if (ret < 0) {
		snprintf(err, errlen, "trusted CA bundle %s: %s", file, msg);
		return ret;
	}
	ret = svrcert_store_add_certs(store, certs);
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

int trust_store_build(const struct svrcert_store *st,
		      const struct svrcert_config *cfg, X509_STORE **out,
		      char *err, size_t errlen)
{
	json_t *list = NULL, *b;
	X509_STORE *store;
	size_t i, n_cfg = 0;
	int ret;

	*out = NULL;
	store = svrcert_store_new();
	if (!store)
		return -ENOMEM;
	ret = trust_ca_list(st, NULL, &list);
	json_array_foreach(list, i, b) {
		if (ret)
			break;
		ret = add_bundle_file(store, json_string_value(
			json_object_get(b, "file")), err, errlen);
	}
	/* Config bundles pass trusted-ca add's check; strict leaves out a bad one. */
	if (!ret)
		ret = trust_config_add_to_store(cfg, 0, store, &n_cfg, err, errlen);
	if (!ret && !json_array_size(list) && !n_cfg) {
		snprintf(err, errlen, "no trusted CA bundle: install one with "
			 "'svrcertctl trusted-ca add NAME FILE'");
		ret = -ENOENT;
	}
	json_decref(list);
	if (ret)
		X509_STORE_free(store);
	else
		*out = store;
	return ret;
}

X509_CRL *trust_crl_load(const char *path)
{
	X509_CRL *crl = NULL;
	BIO *bio = BIO_new_file(path, "rb");

	if (!bio)
		return NULL;
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	if (!crl) {
		(void)BIO_reset(bio);
		crl = d2i_X509_CRL_bio(bio, NULL);
	}
	BIO_free(bio);
	ERR_clear_error();
	return crl;
}

/*
 * Calls FN for each held CRL; stops at the first error. Only names a
 * completed write leaves are read: never the temp file of a publish that
 * was killed, which may be truncated (svrcert_master_crl_name_ok).
 */
static int for_each_crl(const struct svrcert_store *st,
			int (*fn)(const char *path, X509_CRL *crl, void *arg),
			void *arg)
{
	char dir[4200], path[4500];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (store_path(st, TRUST_DIR_CRL, dir, sizeof(dir)))
		return -EINVAL;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		X509_CRL *crl;

		if (!svrcert_master_crl_name_ok(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		crl = trust_crl_load(path);
		ret = fn(path, crl, arg);
		X509_CRL_free(crl);
	}
	closedir(d);
	return ret;
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "-");
}

static int crl_describe(const char *path, X509_CRL *crl, void *arg)
{
	char issuer[256] = "-", last[32], next[32];
	json_t *arr = arg;

	if (crl)
		svrcert_name_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	asn1_time_text(crl ? X509_CRL_get0_lastUpdate(crl) : NULL, last, sizeof(last));
	asn1_time_text(crl ? X509_CRL_get0_nextUpdate(crl) : NULL, next, sizeof(next));
	json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}",
		"file", path, "issuer", issuer, "last_update", last,
		"next_update", next, "entries",
		crl ? sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) : 0,
		"parses", crl != NULL));
	return 0;
}

int trust_held_crls_json(const struct svrcert_store *st, json_t **out)
{
	*out = json_array();
	if (!*out)
		return -ENOMEM;
	return for_each_crl(st, crl_describe, *out);
}
