// SPDX-License-Identifier: GPL-2.0
/* Key generation (EC or RSA) and loading through OpenSSL 3 and the tpm2
 * provider. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>

#include "lib/fileperm.h"
#include "tpm.h"

#define TSS2_PEM_TAG	"-----BEGIN TSS2 PRIVATE KEY-----"
#define TPM_PROPQ	"provider=tpm2"

static void set_err(struct tpm_ctx *ctx, const char *fmt, ...)
{
	unsigned long e = ERR_peek_last_error();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	n = strlen(ctx->err);
	if (e && n < sizeof(ctx->err) - 4) {
		snprintf(ctx->err + n, sizeof(ctx->err) - n, " (%s)",
			 ERR_reason_error_string(e) ? ERR_reason_error_string(e)
						     : "openssl error");
	}
	ERR_clear_error();
}

const char *tpm_key_storage_name(enum tpm_key_storage storage)
{
	switch (storage) {
	case TPM_KEY_STORAGE_FILE: return "file";
	case TPM_KEY_STORAGE_HANDLE: return "tpm-handle";
	default: return "tpm";
	}
}

/*
 * The tpm2 provider reads its TCTI from the environment only. setenv()
 * may move environ under a thread's getenv(), so it is called only when
 * the value changes: a daemon sets it once before it starts threads, and
 * every later open with the same TCTI leaves the environment alone.
 */
int tpm_tcti_set(const char *tcti)
{
	const char *cur = getenv("TPM2OPENSSL_TCTI");

	if (!tcti || !*tcti || (cur && !strcmp(cur, tcti)))
		return 0;
	return setenv("TPM2OPENSSL_TCTI", tcti, 1) ? -1 : 0;
}

int tpm_ctx_open(struct tpm_ctx *ctx, enum tpm_key_storage storage,
		 const char *tcti)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->storage = storage;
	if (tpm_tcti_set(tcti))
		return -errno;
	/* Loading any provider explicitly disables the implicit default, so
	 * default goes first. */
	ctx->libctx = OSSL_LIB_CTX_new();
	if (!ctx->libctx)
		return -ENOMEM;
	ctx->prov_default = OSSL_PROVIDER_load(ctx->libctx, "default");
	if (!ctx->prov_default) {
		set_err(ctx, "cannot load the OpenSSL default provider");
		tpm_ctx_close(ctx);
		return -ENOENT;
	}
	if (storage == TPM_KEY_STORAGE_FILE) {
		syslog(LOG_WARNING, "key-storage = file: the private key is "
		       "kept in a file, not in a TPM");
		return 0;
	}
	ctx->prov_tpm2 = OSSL_PROVIDER_load(ctx->libctx, "tpm2");
	if (!ctx->prov_tpm2) {
		set_err(ctx, "cannot load the tpm2 provider (is a TPM "
			"reachable? TPM2OPENSSL_TCTI=%s)",
			getenv("TPM2OPENSSL_TCTI") ?: "(unset)");
		tpm_ctx_close(ctx);
		return -ENODEV;
	}
	/* Without this, digests and parsing are fetched from the TPM too:
	 * correct, but ~70x slower. */
	if (!EVP_set_default_properties(ctx->libctx, "?provider=default")) {
		set_err(ctx, "cannot set the default property query");
		tpm_ctx_close(ctx);
		return -EINVAL;
	}
	return 0;
}

void tpm_ctx_close(struct tpm_ctx *ctx)
{
	if (ctx->prov_tpm2)
		OSSL_PROVIDER_unload(ctx->prov_tpm2);
	if (ctx->prov_default)
		OSSL_PROVIDER_unload(ctx->prov_default);
	OSSL_LIB_CTX_free(ctx->libctx);
	ctx->prov_tpm2 = NULL;
	ctx->prov_default = NULL;
	ctx->libctx = NULL;
}

const char *tpm_ctx_sign_propq(const struct tpm_ctx *ctx)
{
	return ctx->storage == TPM_KEY_STORAGE_FILE ? NULL : TPM_PROPQ;
}

/*
 * Why the TPM refused: tpm2-openssl puts the decoded TPM response code in
 * the error's data ("tpm:parameter(2):value is out of range ..."). A
 * parameter, value, size or curve error is the TPM saying it does not
 * make this kind of key; anything else is a failure. Normally the TPM was
 * asked first (tpm_probe.c) and this is reached only when it could not be.
 */
static int keygen_failed(struct tpm_ctx *ctx, const struct tpm_key_spec *spec)
{
	char name[TPM_KEY_SPEC_NAME_LEN];
	const char *data = NULL;
	unsigned long e;
	bool refused;

	tpm_key_spec_name(spec, name, sizeof(name));
	e = ERR_peek_last_error_data(&data, NULL);
	if (!data || !*data)
		data = e && ERR_reason_error_string(e) ?
		       ERR_reason_error_string(e) : "no reason given";
	refused = ctx->storage == TPM_KEY_STORAGE_TPM &&
		  (strstr(data, "parameter(") || strstr(data, "out of range") ||
		   strstr(data, "curve") || strstr(data, "key size") ||
		   strstr(data, "not supported"));
	if (refused)
		snprintf(ctx->err, sizeof(ctx->err), "this TPM cannot make %s "
			 "keys: it refused the %s (%s); nothing was generated, "
			 "choose a %s the TPM supports", name,
			 spec->type == TPM_KEY_RSA ? "key size" : "curve", data,
			 spec->type == TPM_KEY_RSA ? "smaller size" : "curve");
	else
		snprintf(ctx->err, sizeof(ctx->err), "%s key generation in the "
			 "%s failed (%s)", name, ctx->storage ==
			 TPM_KEY_STORAGE_TPM ? "TPM" : "software", data);
	ERR_clear_error();
	return refused ? -EOPNOTSUPP : -EIO;
}

static int generate(struct tpm_ctx *ctx, const struct tpm_key_spec *spec,
		    EVP_PKEY **pkey)
{
	bool rsa = spec->type == TPM_KEY_RSA;
	EVP_PKEY_CTX *kctx;
	int ok;

	*pkey = NULL;
	ERR_clear_error();
	kctx = EVP_PKEY_CTX_new_from_name(ctx->libctx, rsa ? "RSA" : "EC",
					  tpm_ctx_sign_propq(ctx));
	ok = kctx && EVP_PKEY_keygen_init(kctx) > 0 &&
	     (rsa ? EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, spec->bits)
		  : EVP_PKEY_CTX_set_group_name(kctx, spec->curve)) > 0 &&
	     EVP_PKEY_generate(kctx, pkey) > 0;
	EVP_PKEY_CTX_free(kctx);
	if (ok)
		return 0;
	*pkey = NULL;
	return keygen_failed(ctx, spec);
}

/* PEM of the private key (TSS2 blob for TPM keys) or the public key. */
static int pem_of(struct tpm_ctx *ctx, EVP_PKEY *pkey, bool private,
		  char **out, long *outlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	int ok;

	if (!bio)
		return -ENOMEM;
	if (private)
		ok = PEM_write_bio_PrivateKey_ex(bio, pkey, NULL, NULL, 0, NULL,
						 NULL, ctx->libctx,
						 tpm_ctx_sign_propq(ctx));
	else
		ok = PEM_write_bio_PUBKEY(bio, pkey);
	*outlen = BIO_get_mem_data(bio, &p);
	if (!ok || *outlen <= 0) {
		set_err(ctx, "cannot encode the %s key",
			private ? "private" : "public");
		BIO_free(bio);
		return -EIO;
	}
	*out = malloc((size_t)*outlen);
	if (*out)
		memcpy(*out, p, (size_t)*outlen);
	BIO_free(bio);
	return *out ? 0 : -ENOMEM;
}

static int store_key_pair(struct tpm_ctx *ctx, const struct svrcert_store *st,
			  EVP_PKEY *pkey)
{
	char *priv = NULL, *pub = NULL, path[4200];
	long privlen, publen;
	int ret;

	ret = pem_of(ctx, pkey, true, &priv, &privlen);
	if (!ret)
		ret = pem_of(ctx, pkey, false, &pub, &publen);
	if (!ret && ctx->storage == TPM_KEY_STORAGE_TPM &&
	    strncmp(priv, TSS2_PEM_TAG, strlen(TSS2_PEM_TAG))) {
		/* Never let a TPM key leave as a plain private key. */
		set_err(ctx, "the tpm2 provider did not produce a TSS2 blob");
		ret = -EPROTO;
	}
	/* Public half first: a key without its public file is useless, a
	 * stale public file without a new key is caught by import. */
	if (!ret)
		ret = store_write(st, STORE_PUBKEY, pub, (size_t)publen,
				  STORE_MODE_PUBLIC);
	if (!ret)
		ret = store_key_path(st, path, sizeof(path));
	if (!ret)
		ret = atomic_write_file(path, priv, (size_t)privlen,
					STORE_MODE_SECRET);
	if (ret && !ctx->err[0])
		set_err(ctx, "cannot store the key: %s", strerror(-ret));
	if (priv)
		OPENSSL_cleanse(priv, (size_t)privlen);
	free(priv);
	free(pub);
	return ret;
}

/*
 * Ask the TPM first (tpm_probe.c says why) with the provider's connection
 * closed, then open the context again for the generation itself.
 */
static int probe_before_generate(struct tpm_ctx *ctx,
				 const struct tpm_key_spec *spec)
{
	enum tpm_key_storage storage = ctx->storage;
	uint32_t handle = ctx->handle;
	char why[sizeof(ctx->err)];
	int ret, ret2;

	why[0] = '\0';
	tpm_ctx_close(ctx);
	ret = tpm_key_probe(spec, why, sizeof(why));
	ret2 = tpm_ctx_open(ctx, storage, NULL);
	ctx->handle = handle;
	if (ret == -EOPNOTSUPP) {
		snprintf(ctx->err, sizeof(ctx->err), "%s; nothing was "
			 "generated", why);
		return ret;
	}
	return ret2;
}

int tpm_key_generate_spec(struct tpm_ctx *ctx, const struct svrcert_store *st,
			  const struct tpm_key_spec *spec, bool force)
{
	static const struct tpm_key_spec p256 = TPM_KEY_SPEC_DEFAULT;
	enum tpm_key_storage old;
	EVP_PKEY *pkey;
	char path[4200];
	int ret;

	ctx->err[0] = '\0';
	if (ctx->storage == TPM_KEY_STORAGE_HANDLE) {
		set_err(ctx, "[key] storage = tpm uses the persistent key at "
			"handle 0x%08x, which the administrator makes (e.g. "
			"tpm2_evictcontrol); use storage = tpm-blob to have "
			"svrcertctl generate the key", ctx->handle);
		return -EOPNOTSUPP;
	}
	if (!force && !tpm_key_storage_of(st, &old)) {
		store_key_path(st, path, sizeof(path));
		set_err(ctx, "a key already exists: %s (use --force to "
			"replace it; its certificate then no longer matches)",
			path);
		return -EEXIST;
	}
	if (!spec)
		spec = &p256;
	if (ctx->storage == TPM_KEY_STORAGE_TPM) {
		ret = probe_before_generate(ctx, spec);
		if (ret)
			return ret;
	}
	ret = generate(ctx, spec, &pkey);
	if (ret)
		return ret;
	ret = store_key_pair(ctx, st, pkey);
	EVP_PKEY_free(pkey);	/* flushes the TPM's transient object */
	return ret;
}

int tpm_key_generate(struct tpm_ctx *ctx, const struct svrcert_store *st,
		     bool force)
{
	return tpm_key_generate_spec(ctx, st, NULL, force);
}

static EVP_PKEY *load_from_uri(struct tpm_ctx *ctx, const char *uri,
			       const char *propq, bool want_private)
{
	OSSL_STORE_CTX *sctx;
	EVP_PKEY *pkey = NULL;

	sctx = OSSL_STORE_open_ex(uri, ctx->libctx, propq, NULL, NULL, NULL, NULL,
				  NULL);
	if (!sctx)
		return NULL;
	OSSL_STORE_expect(sctx, want_private ? OSSL_STORE_INFO_PKEY
					     : OSSL_STORE_INFO_PUBKEY);
	while (!pkey && !OSSL_STORE_eof(sctx)) {
		OSSL_STORE_INFO *info = OSSL_STORE_load(sctx);

		if (!info)
			break;
		pkey = want_private ? OSSL_STORE_INFO_get1_PKEY(info)
				    : OSSL_STORE_INFO_get1_PUBKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(sctx);
	return pkey;
}

static int load_persistent(struct tpm_ctx *ctx, const struct svrcert_store *st,
			   EVP_PKEY **pkey)
{
	char uri[32], *pub = NULL;
	long publen;
	int ret;

	snprintf(uri, sizeof(uri), "handle:0x%08x", ctx->handle);
	*pkey = load_from_uri(ctx, uri, "?" TPM_PROPQ, true);
	if (!*pkey) {
		set_err(ctx, "no usable key at TPM handle 0x%08x", ctx->handle);
		return -ENOENT;
	}
	/* Import compares certificates with this without a TPM. */
	ret = pem_of(ctx, *pkey, false, &pub, &publen);
	if (!ret)
		ret = store_write(st, STORE_PUBKEY, pub, (size_t)publen,
				  STORE_MODE_PUBLIC);
	free(pub);
	if (ret) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
		if (!ctx->err[0])
			set_err(ctx, "cannot store the public key: %s",
				strerror(-ret));
	}
	return ret;
}

int tpm_key_load(struct tpm_ctx *ctx, const struct svrcert_store *st,
		 EVP_PKEY **pkey)
{
	enum tpm_key_storage stored;
	char path[4200];
	int ret;

	ctx->err[0] = '\0';
	if (ctx->storage == TPM_KEY_STORAGE_HANDLE)
		return load_persistent(ctx, st, pkey);
	ret = tpm_key_storage_of(st, &stored);
	if (ret) {
		store_key_path(st, path, sizeof(path));
		set_err(ctx, "no key %s: run 'svrcertctl key generate' "
			"first", path);
		return ret;
	}
	if (stored != ctx->storage) {
		set_err(ctx, "the stored key is a %s key but key-storage is "
			"%s", tpm_key_storage_name(stored),
			tpm_key_storage_name(ctx->storage));
		return -EINVAL;
	}
	ret = store_key_path(st, path, sizeof(path));
	if (ret)
		return ret;
	/* a plain key others can read is refused (a TSS2 blob is useless
	 * without this TPM) */
	if (stored == TPM_KEY_STORAGE_FILE &&
	    (ret = svrcert_key_perm_check(path, ctx->err, sizeof(ctx->err))))
		return ret;
	*pkey = load_from_uri(ctx, path, stored == TPM_KEY_STORAGE_TPM ?
			      "?" TPM_PROPQ : NULL, true);
	if (!*pkey) {
		set_err(ctx, "cannot load the key %s%s", path,
			stored == TPM_KEY_STORAGE_TPM ?
			" into the TPM (is it the TPM that made it?)" : "");
		return -EIO;
	}
	return 0;
}

int tpm_pubkey_load(const struct svrcert_store *st, EVP_PKEY **pkey)
{
	char *pem = NULL;
	size_t len;
	BIO *bio;
	int ret;

	ret = store_read(st, STORE_PUBKEY, &pem, &len);
	if (ret)
		return ret;
	bio = BIO_new_mem_buf(pem, (int)len);
	*pkey = bio ? PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, NULL,
					     NULL) : NULL;
	BIO_free(bio);
	free(pem);
	ERR_clear_error();
	return *pkey ? 0 : -EBADMSG;
}

int tpm_key_storage_of(const struct svrcert_store *st,
		       enum tpm_key_storage *storage)
{
	char *pem = NULL, path[4200];
	int ret;

	ret = store_key_path(st, path, sizeof(path));
	if (!ret)
		ret = store_read_path(path, &pem, NULL);
	if (ret)
		return ret;
	*storage = strstr(pem, TSS2_PEM_TAG) ? TPM_KEY_STORAGE_TPM
					     : TPM_KEY_STORAGE_FILE;
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	return 0;
}
