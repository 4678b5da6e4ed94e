// SPDX-License-Identifier: GPL-2.0
/*
 * Signing and checking the conductor's revocation update (conductor_doc.h).
 * The crl/ layer does the CMS; this file adds what it must not know: where
 * the key lives and which certificate may speak for the conductor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "conductor_doc.h"
#include "lib/util.h"
#include "pki.h"

/* cert.pem of ST: the leaf in *LEAF, what follows it in *CHAIN. */
static int load_cert(const struct svrcert_store *st, X509 **leaf,
		     STACK_OF(X509) **chain, char *err, size_t errlen)
{
	char *buf = NULL, msg[160] = "";
	size_t len = 0;
	int rc = store_read(st, STORE_CERT, &buf, &len);

	*leaf = NULL;
	*chain = NULL;
	if (rc)
		return svrcert_fail(err, errlen, rc, "no certificate %s/%s: %s",
				    st->dir, STORE_CERT, strerror(-rc));
	rc = svrcert_certs_from_buf((const uint8_t *)buf, len, chain, msg,
				    sizeof(msg));
	free(buf);
	if (rc < 0)
		return svrcert_fail(err, errlen, rc, "%s/%s: %s", st->dir,
				    STORE_CERT, msg);
	*leaf = sk_X509_shift(*chain);
	return 0;
}

static int sign_with_key(const struct svrcert_conductor_signer *s,
			 const uint8_t *content, size_t clen, X509 *leaf,
			 STACK_OF(X509) *chain, uint8_t **doc, size_t *len,
			 char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	struct tpm_ctx t;
	int rc = tpm_ctx_open(&t, s->storage, s->tcti);

	t.handle = s->handle;
	if (rc)
		return svrcert_fail(err, errlen, rc, "%s", t.err[0] ? t.err :
				    "cannot open the key's provider");
	rc = tpm_key_load(&t, s->st, &key);
	if (rc)
		svrcert_fail(err, errlen, rc, "%s", t.err);
	else
		rc = svrcert_gendoc_sign(content, clen, leaf, key, chain,
					 t.libctx, tpm_ctx_sign_propq(&t), doc,
					 len, err, errlen);
	EVP_PKEY_free(key);	/* before the context that loaded it */
	tpm_ctx_close(&t);
	return rc;
}

int svrcert_conductor_sign(const struct svrcert_conductor_signer *s,
			   const struct svrcert_gen_update *u, uint8_t **doc,
			   size_t *len, char *err, size_t errlen)
{
	struct svrcert_gen_update named = *u;
	STACK_OF(X509) *chain = NULL;
	uint8_t *content = NULL;
	size_t clen = 0;
	X509 *leaf = NULL;
	int rc;

	*doc = NULL;
	if (!s->name || strlen(s->name) >= sizeof(named.conductor))
		return svrcert_fail(err, errlen, -EINVAL, "conductor name "
				    "missing or longer than %d bytes",
				    SVRCERT_GENDOC_NAME_MAX);
	snprintf(named.conductor, sizeof(named.conductor), "%s", s->name);
	rc = svrcert_gendoc_encode(&named, &content, &clen);
	if (rc)
		svrcert_fail(err, errlen, rc, "cannot encode the update: %s",
			     strerror(-rc));
	if (!rc)
		rc = load_cert(s->st, &leaf, &chain, err, errlen);
	if (!rc)
		rc = sign_with_key(s, content, clen, leaf, chain, doc, len,
				   err, errlen);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	free(content);
	return rc;
}

/* The runtime rules on the signer; -EKEYREJECTED / -EKEYREVOKED naming
 * the first problem. */
static int judge_signer(X509 *signer, STACK_OF(X509) *certs,
			const struct svrcert_validate_params *vp, char *err,
			size_t errlen)
{
	struct svrcert_problems p;
	char subject[256];
	int rc;

	svrcert_problems_init(&p);
	rc = svrcert_validate_cert(signer, certs, vp, NULL, &p);
	if (rc && rc != -ENOMEM) {
		svrcert_name_text(X509_get_subject_name(signer), subject,
				  sizeof(subject));
		svrcert_fail(err, errlen, rc, "signer \"%s\" may not speak "
			     "for conductor %s: %s", subject,
			     vp->expected_name, p.n ? p.v[0].msg :
			     "rejected");
	}
	svrcert_problems_free(&p);
	return rc;
}

int svrcert_conductor_verify(const uint8_t *doc, size_t len,
			     const struct svrcert_validate_params *vp,
			     struct svrcert_gen_update *u, char *err,
			     size_t errlen)
{
	STACK_OF(X509) *certs = NULL;
	uint8_t *content = NULL;
	X509 *signer = NULL;
	size_t clen = 0;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!vp->expected_name)
		return svrcert_fail(err, errlen, -EINVAL, "no conductor "
				    "identity to check the signer against");
	rc = svrcert_gendoc_open(doc, len, &content, &clen, &signer, &certs,
				 err, errlen);
	if (!rc)
		rc = judge_signer(signer, certs, vp, err, errlen);
	if (!rc)
		rc = svrcert_gendoc_decode(content, clen, u, err, errlen);
	if (!rc && strcmp(u->conductor, vp->expected_name)) {
		rc = svrcert_fail(err, errlen, -EKEYREJECTED, "the update names "
				  "conductor \"%s\", not %s", u->conductor,
				  vp->expected_name);
		svrcert_gen_update_release(u);
	}
	X509_free(signer);
	sk_X509_pop_free(certs, X509_free);
	free(content);
	return rc;
}
