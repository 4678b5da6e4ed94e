// SPDX-License-Identifier: GPL-2.0
/*
 * The key types and sizes SSR offers (EC P-256/384/521, RSA 2048/3072/4096),
 * by name, and the digest each one signs with.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>

#include "tpm.h"

static const char *const ec_curves[] = { "P-256", "P-384", "P-521" };
static const int rsa_sizes[] = { 2048, 3072, 4096 };

#define N_CURVES	(sizeof(ec_curves) / sizeof(ec_curves[0]))
#define N_RSA_SIZES	(sizeof(rsa_sizes) / sizeof(rsa_sizes[0]))

/* The static name of CURVE (NIST or SEC 2 spelling), or NULL. */
static const char *curve_name(const char *curve)
{
	static const char *const sec2[] = { "prime256v1", "secp384r1",
					    "secp521r1" };
	size_t i;

	for (i = 0; i < N_CURVES; i++)
		if (!strcasecmp(curve, ec_curves[i]) ||
		    !strcmp(curve, sec2[i]))
			return ec_curves[i];
	return NULL;
}

static int parse_ec(struct tpm_key_spec *spec, const char *curve, long bits,
		    char *err, size_t errlen)
{
	spec->type = TPM_KEY_EC;
	if (bits) {
		snprintf(err, errlen, "EC keys take a curve, not a size in "
			 "bits (curve P-256, P-384 or P-521)");
		return -EINVAL;
	}
	spec->curve = curve ? curve_name(curve) : ec_curves[0];
	if (!spec->curve) {
		snprintf(err, errlen, "EC curve \"%.32s\" is not offered "
			 "(P-256, P-384 or P-521)", curve);
		return -EINVAL;
	}
	return 0;
}

static int parse_rsa(struct tpm_key_spec *spec, const char *curve, long bits,
		     char *err, size_t errlen)
{
	size_t i;

	spec->type = TPM_KEY_RSA;
	if (curve) {
		snprintf(err, errlen, "RSA keys take a size in bits, not a "
			 "curve (2048, 3072 or 4096)");
		return -EINVAL;
	}
	spec->bits = bits ? (int)bits : rsa_sizes[0];
	for (i = 0; i < N_RSA_SIZES && rsa_sizes[i] != bits; i++)
		;
	if (bits && i == N_RSA_SIZES) {
		snprintf(err, errlen, "RSA size %ld bits is not offered (2048, "
			 "3072 or 4096)", bits);
		return -EINVAL;
	}
	return 0;
}

int tpm_key_spec_parse(struct tpm_key_spec *spec, const char *algorithm,
		       const char *curve, long bits, char *err, size_t errlen)
{
	memset(spec, 0, sizeof(*spec));
	if (!algorithm || !strcasecmp(algorithm, "EC") ||
	    !strcasecmp(algorithm, "ECDSA"))
		return parse_ec(spec, curve, bits, err, errlen);
	if (!strcasecmp(algorithm, "RSA"))
		return parse_rsa(spec, curve, bits, err, errlen);
	snprintf(err, errlen, "key algorithm \"%.16s\" is not offered (EC or "
		 "RSA)", algorithm);
	return -EINVAL;
}

void tpm_key_spec_name(const struct tpm_key_spec *spec, char *buf,
		       size_t len)
{
	if (spec->type == TPM_KEY_RSA)
		snprintf(buf, len, "RSA %d", spec->bits);
	else
		snprintf(buf, len, "EC %s", spec->curve);
}

int tpm_key_spec_of(EVP_PKEY *pkey, struct tpm_key_spec *spec)
{
	char group[64];
	size_t i;

	memset(spec, 0, sizeof(*spec));
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		spec->type = TPM_KEY_RSA;
		spec->bits = EVP_PKEY_get_bits(pkey);
		for (i = 0; i < N_RSA_SIZES && rsa_sizes[i] != spec->bits; i++)
			;
		return i < N_RSA_SIZES ? 0 : -EINVAL;
	}
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return -EINVAL;
	spec->type = TPM_KEY_EC;
	/* The tpm2 provider's keys answer the group name like the default
	 * provider's; the size decides when a provider does not. */
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
					   group, sizeof(group), NULL))
		spec->curve = curve_name(group);
	for (i = 0; !spec->curve && i < N_CURVES; i++)
		if (EVP_PKEY_get_bits(pkey) == (i == 2 ? 521 : 256 + 128 * (int)i))
			spec->curve = ec_curves[i];
	return spec->curve ? 0 : -EINVAL;
}

const char *tpm_key_digest(EVP_PKEY *pkey)
{
	struct tpm_key_spec spec;

	if (tpm_key_spec_of(pkey, &spec) || spec.type == TPM_KEY_RSA)
		return "SHA256";
	if (!strcmp(spec.curve, "P-384"))
		return "SHA384";
	return !strcmp(spec.curve, "P-521") ? "SHA512" : "SHA256";
}
