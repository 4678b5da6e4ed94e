// SPDX-License-Identifier: GPL-2.0
/*
 * Ask the TPM, before generating, whether it makes a key of the requested
 * type and size (TPM2_TestParms), and name the sizes it does make when not.
 *
 * Why ask first: tpm2-openssl 1.1.1 loads a primary key, asks the TPM to
 * create the key under it and, when the TPM refuses the parameters, never
 * flushes that primary. Without a resource manager (swtpm, /dev/tpm0) the
 * object stays loaded; libtpms holds three transient objects, so two
 * refused requests leave too few slots to load the router's own key again
 * until the TPM is reset. TestParms creates nothing.
 *
 * Why dlopen: libtss2-esys is what the tpm2 provider itself runs on, so it
 * is installed wherever the provider is; loading it here at run time keeps
 * svrcert's link line unchanged and the probe optional (without it, the
 * generation is simply tried).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "tpm.h"

struct esys_api {
	void *esys, *ldr;
	__typeof__(Esys_Initialize) *init;
	__typeof__(Esys_Finalize) *finalize;
	__typeof__(Esys_TestParms) *test_parms;
	__typeof__(Tss2_TctiLdr_Initialize) *tcti_init;
	__typeof__(Tss2_TctiLdr_Finalize) *tcti_finalize;
};

static void api_close(struct esys_api *a)
{
	if (a->esys)
		dlclose(a->esys);
	if (a->ldr)
		dlclose(a->ldr);
	memset(a, 0, sizeof(*a));
}

static int api_open(struct esys_api *a)
{
	memset(a, 0, sizeof(*a));
	a->esys = dlopen("libtss2-esys.so.0", RTLD_NOW | RTLD_LOCAL);
	a->ldr = dlopen("libtss2-tctildr.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!a->esys || !a->ldr) {
		api_close(a);
		return -ENOSYS;
	}
	a->init = (__typeof__(a->init))dlsym(a->esys, "Esys_Initialize");
	a->finalize = (__typeof__(a->finalize))dlsym(a->esys, "Esys_Finalize");
	a->test_parms = (__typeof__(a->test_parms))dlsym(a->esys,
							 "Esys_TestParms");
	a->tcti_init = (__typeof__(a->tcti_init))dlsym(a->ldr,
						      "Tss2_TctiLdr_Initialize");
	a->tcti_finalize = (__typeof__(a->tcti_finalize))dlsym(a->ldr,
						"Tss2_TctiLdr_Finalize");
	if (!a->init || !a->finalize || !a->test_parms || !a->tcti_init ||
	    !a->tcti_finalize) {
		api_close(a);
		return -ENOSYS;
	}
	return 0;
}

static const struct { const char *name; TPM2_ECC_CURVE id; } curves[] = {
	{ "P-256", TPM2_ECC_NIST_P256 },
	{ "P-384", TPM2_ECC_NIST_P384 },
	{ "P-521", TPM2_ECC_NIST_P521 },
};
static const int rsa_bits[] = { 2048, 3072, 4096 };

#define N_PROBE_CURVES	(sizeof(curves) / sizeof(curves[0]))
#define N_PROBE_BITS	(sizeof(rsa_bits) / sizeof(rsa_bits[0]))

/* TPM2_TestParms for a signing key of this kind: 0 = made, 1 = refused,
 * -EIO = no answer. */
static int test_one(struct esys_api *a, ESYS_CONTEXT *ectx, bool rsa,
		    int bits, TPM2_ECC_CURVE curve)
{
	TPMT_PUBLIC_PARMS p;
	TSS2_RC rc;

	memset(&p, 0, sizeof(p));
	if (rsa) {
		p.type = TPM2_ALG_RSA;
		p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)bits;
	} else {
		p.type = TPM2_ALG_ECC;
		p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p.parameters.eccDetail.curveID = curve;
		p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
	rc = a->test_parms(ectx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p);
	if (rc == TSS2_RC_SUCCESS)
		return 0;
	/* A response from the TPM itself (layer 0): it refused. */
	return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER ? 1 : -EIO;
}

/* "2048, 3072" / "P-256, P-384": what this TPM makes, of SSR's choices. */
static void list_supported(struct esys_api *a, ESYS_CONTEXT *ectx, bool rsa,
			   char *out, size_t len)
{
	size_t i, n = rsa ? N_PROBE_BITS : N_PROBE_CURVES, used = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (test_one(a, ectx, rsa, rsa ? rsa_bits[i] : 0,
			     rsa ? 0 : curves[i].id))
			continue;
		if (rsa)
			used += (size_t)snprintf(out + used, len - used, "%s%d",
						 used ? ", " : "", rsa_bits[i]);
		else
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "", curves[i].name);
		if (used >= len)
			break;
	}
}

static int probe(struct esys_api *a, ESYS_CONTEXT *ectx,
		 const struct tpm_key_spec *spec, char *err, size_t errlen)
{
	bool rsa = spec->type == TPM_KEY_RSA;
	char name[TPM_KEY_SPEC_NAME_LEN], ok[64];
	TPM2_ECC_CURVE curve = 0;
	size_t i;
	int ret;

	for (i = 0; !rsa && i < N_PROBE_CURVES; i++)
		if (!strcmp(spec->curve, curves[i].name))
			curve = curves[i].id;
	ret = test_one(a, ectx, rsa, spec->bits, curve);
	if (ret <= 0)
		return ret;
	tpm_key_spec_name(spec, name, sizeof(name));
	list_supported(a, ectx, rsa, ok, sizeof(ok));
	snprintf(err, errlen, "this TPM cannot make %s keys (TPM2_TestParms "
		 "refused them); of the %s SSR offers it makes %s", name,
		 rsa ? "RSA sizes" : "EC curves", ok[0] ? ok : "none");
	return -EOPNOTSUPP;
}

int tpm_key_probe(const struct tpm_key_spec *spec, char *err, size_t errlen)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ectx = NULL;
	struct esys_api a;
	int ret;

	if (api_open(&a))
		return -ENOSYS;
	ret = -EIO;
	if (a.tcti_init(getenv("TPM2OPENSSL_TCTI"), &tcti) == TSS2_RC_SUCCESS &&
	    a.init(&ectx, tcti, NULL) == TSS2_RC_SUCCESS)
		ret = probe(&a, ectx, spec, err, errlen);
	if (ectx)
		a.finalize(&ectx);
	if (tcti)
		a.tcti_finalize(&tcti);
	api_close(&a);
	return ret;
}
