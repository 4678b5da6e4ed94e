// SPDX-License-Identifier: GPL-2.0
/*
 * This router's private key in a form OpenSSL's TLS stack can sign with.
 *
 * Why not simply hand TLS the tpm2 provider's key: libssl signs the
 * CertificateVerify with EVP_DigestSignInit_ex(libctx, propq). With the
 * default property query "?provider=default" (needed so that digests,
 * HKDF and AES-GCM stay in software) OpenSSL 3.0 fetches the *default*
 * provider's ECDSA first and "exports" the TPM key to it; the tpm2
 * provider exports the public half only and reports success, so signing
 * fails with "ecdsa_simple_sign_sig: missing private key". A property
 * query of "?provider=tpm2" on the SSL_CTX makes it sign, but then every
 * transcript hash, HMAC and ephemeral P-256 key of the handshake is also
 * fetched from the TPM (the 70x-slower path) and the TPM stays busy.
 *
 * What we do: TLS gets an EC key that holds only the public point (from
 * the stored public key) and an EC_KEY_METHOD whose sign callback receives
 * the digest libssl computed in software and has the TPM sign exactly that
 * digest (EVP_PKEY_sign with propq "provider=tpm2") in a library context
 * opened for that one signature and closed again, so the TPM (and swtpm,
 * which serves one client at a time) is held only for one TPM2_Sign. Such
 * a key is "foreign" to OpenSSL 3 and uses the EVP_PKEY_METHOD path, which
 * is why this file needs the (deprecated, still supported) EC_KEY API.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "peerauth_int.h"
#include "lib/fileperm.h"
#include "tpm/tpm.h"

/* What the sign callback needs; owned by the EC_KEY (ex_data). */
struct tpm_signer {
	struct svrcert_store st;	/* a copy: the path only */
	char *tcti;
};

static int signer_index = -1;

static void signer_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	struct tpm_signer *s = ptr;

	if (s) {
		free(s->tcti);
		free(s);
	}
}

static const char *md_for_len(int dlen)
{
	return dlen == 32 ? "SHA256" : dlen == 48 ? "SHA384" :
	       dlen == 64 ? "SHA512" : NULL;
}

/* Sign DGST in the TPM; DER ECDSA-Sig-Value into SIG. */
static int tpm_sign_digest(const struct tpm_signer *s, const unsigned char *dgst,
			   int dlen, unsigned char *sig, size_t *siglen)
{
	struct tpm_ctx t;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD *md = NULL;
	int ok = 0;

	if (!md_for_len(dlen) || tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, s->tcti))
		return 0;
	if (tpm_key_load(&t, &s->st, &key)) {
		syslog(LOG_ERR, "peer auth: %s", t.err);
		goto out;
	}
	md = EVP_MD_fetch(t.libctx, md_for_len(dlen), "provider=default");
	pctx = EVP_PKEY_CTX_new_from_pkey(t.libctx, key, tpm_ctx_sign_propq(&t));
	ok = md && pctx && EVP_PKEY_sign_init(pctx) > 0 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, md) > 0 &&
	     EVP_PKEY_sign(pctx, sig, siglen, dgst, (size_t)dlen) > 0;
	if (!ok)
		syslog(LOG_ERR, "peer auth: TPM signature failed (%s)",
		       ERR_reason_error_string(ERR_peek_last_error()) ?:
		       "unknown error");
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_free(md);
	EVP_PKEY_free(key);	/* before the context that loaded it */
	tpm_ctx_close(&t);
	return ok;
}

static int bridge_sign(int type, const unsigned char *dgst, int dlen,
		       unsigned char *sig, unsigned int *siglen,
		       const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	const struct tpm_signer *s = EC_KEY_get_ex_data(ec, signer_index);
	size_t len = (size_t)ECDSA_size(ec);

	if (!s || !tpm_sign_digest(s, dgst, dlen, sig, &len))
		return 0;
	*siglen = (unsigned int)len;
	return 1;
}

static EC_KEY_METHOD *bridge_method(void)
{
	static EC_KEY_METHOD *meth;

	if (meth)
		return meth;
	if (signer_index < 0)
		signer_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL,
						       signer_free);
	meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	if (meth)
		/* sign_setup and sign_sig stay NULL: ECDSA_sign() calls
		 * sign(), which is all libssl uses. */
		EC_KEY_METHOD_set_sign(meth, bridge_sign, NULL, NULL);
	return meth;
}

static int load_tpm_bridge(const struct svrcert_config *cfg,
			   struct svrcert_store *st, EVP_PKEY **out,
			   char *err, size_t errlen)
{
	struct tpm_signer *s;
	EVP_PKEY *pub = NULL, *pk = NULL;
	EC_KEY *ec = NULL;
	int ret;

	ret = tpm_pubkey_load(st, &pub);
	if (ret) {
		snprintf(err, errlen, "no public key %s/%s: %s (run "
			 "'svrcertctl key generate')", st->dir, STORE_PUBKEY,
			 strerror(-ret));
		return ret;
	}
	/* An RSA key signs TLS 1.3's RSA-PSS through tpm_tls.c instead. */
	if (EVP_PKEY_is_a(pub, "RSA")) {
		EVP_PKEY_free(pub);
		return tpm_tls_rsa_key(st, cfg ? cfg->tpm_tcti : NULL, out,
				       err, errlen);
	}
	ec = EVP_PKEY_get1_EC_KEY(pub);
	EVP_PKEY_free(pub);
	s = calloc(1, sizeof(*s));
	if (!ec || !s || !bridge_method()) {
		snprintf(err, errlen, "the stored key is neither EC nor RSA");
		free(s);
		EC_KEY_free(ec);
		return ec ? -ENOMEM : -EINVAL;
	}
	snprintf(s->st.dir, sizeof(s->st.dir), "%s", st->dir);
	s->st.lock_fd = -1;
	s->tcti = cfg && cfg->tpm_tcti ? strdup(cfg->tpm_tcti) : NULL;
	if (!EC_KEY_set_ex_data(ec, signer_index, s)) {
		free(s->tcti);
		free(s);
		EC_KEY_free(ec);
		return -ENOMEM;
	}
	if (!EC_KEY_set_method(ec, bridge_method()) ||
	    !(pk = EVP_PKEY_new()) || !EVP_PKEY_assign_EC_KEY(pk, ec)) {
		EVP_PKEY_free(pk);
		EC_KEY_free(ec);
		snprintf(err, errlen, "cannot set up the TPM signing key");
		return -ENOMEM;
	}
	*out = pk;
	return 0;
}

static int load_key_file(const char *path, EVP_PKEY **out, char *err,
			 size_t errlen)
{
	FILE *f;
	int ret = svrcert_key_perm_check(path, err, errlen);

	if (ret == -EPERM)	/* others could read it: refuse, not use */
		return ret;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "key-file %s: %s", path, strerror(errno));
		return -errno;
	}
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*out) {
		snprintf(err, errlen, "key-file %s: not a PEM private key",
			 path);
		ERR_clear_error();
		return -EBADMSG;
	}
	syslog(LOG_WARNING, "peer auth: using the private key in the file "
	       "%s, not a TPM (key storage = file)", path);
	return 0;
}

int pa_load_key(const struct svrcert_config *cfg, struct svrcert_store *st,
		EVP_PKEY **out, char *err, size_t errlen)
{
	enum tpm_key_storage stored;
	char path[4200];

	*out = NULL;
	if (cfg && cfg->key_storage == SVRCERT_KEY_FILE && cfg->key_file)
		return load_key_file(cfg->key_file, out, err, errlen);
	/* tpm-blob (and tpm, which U2 handles like tpm-blob): the blob in
	 * the state directory says which kind of key it is. */
	if (tpm_key_storage_of(st, &stored)) {
		snprintf(err, errlen, "no key in %s (run 'svrcertctl key "
			 "generate')", st->dir);
		return -ENOENT;
	}
	if (stored == TPM_KEY_STORAGE_FILE) {
		store_path(st, STORE_KEY, path, sizeof(path));
		return load_key_file(path, out, err, errlen);
	}
	return load_tpm_bridge(cfg, st, out, err, errlen);
}
