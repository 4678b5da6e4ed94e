// SPDX-License-Identifier: GPL-2.0
/*
 * mkcrl -- write a signed CRL with N revoked entries, quickly, through
 * OpenSSL's X509_CRL API (`openssl ca -gencrl` needs an index file and is
 * far too slow for a million entries). Test and benchmark input only.
 *
 *   mkcrl -k CAKEY -c CACERT -n N -o OUT [options]
 *     --pem              write PEM instead of DER
 *     --md NAME          digest (sha256 default; sha1 to make a rejected CRL)
 *     --pss              RSA-PSS padding (RSA keys)
 *     --number N         cRLNumber extension (decimal)
 *     --reasons          reasonCode keyCompromise on every entry
 *     --delta N          deltaCRLIndicator with base N (a delta CRL)
 *     --indirect CERT    indirect CRL: every other entry gets certificateIssuer
 *                        = CERT's subject
 *     --no-idp           with --indirect: omit the indirectCRL marker (a
 *                        malformed CRL the walker must reject)
 *     --this OFF --next OFF   thisUpdate/nextUpdate as seconds from now
 *                        (defaults -3600 and +86400)
 *     --seed S           serial number PRNG seed (default 1)
 *     --remove N         N more entries, reasonCode removeFromCRL (a delta
 *                        CRL's un-revocations), their serials from
 *     --remove-seed S    seed S (default 1: the first serials --seed 1 gave)
 *     --freshest URL     freshestCRL extension naming URL (where the delta
 *                        CRLs of this base CRL are)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

struct opts {
	const char *key, *cert, *out, *md, *indirect, *freshest;
	long n, this_off, next_off, number, delta, remove;
	unsigned long long seed, remove_seed;
	int pem, pss, reasons, no_idp;
};

static void die(const char *what)
{
	fprintf(stderr, "mkcrl: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static unsigned long long xorshift(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 16 random octets with the top bit clear: what real CAs issue. */
static ASN1_INTEGER *random_serial(unsigned long long *s)
{
	unsigned char b[16];
	BIGNUM *bn;
	ASN1_INTEGER *ai;
	int i;

	for (i = 0; i < 16; i += 8) {
		unsigned long long r = xorshift(s);

		memcpy(b + i, &r, 8);
	}
	b[0] = (b[0] & 0x7f) | 0x01;
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

static void add_ext_int(X509_CRL *crl, int nid, long v, int crit)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();

	if (!ai || !ASN1_INTEGER_set(ai, v) ||
	    !X509_CRL_add1_ext_i2d(crl, nid, ai, crit, 0))
		die("cannot add CRL extension");
	ASN1_INTEGER_free(ai);
}

static void add_indirect_idp(X509_CRL *crl)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

	idp->indirectCRL = 1;
	if (!X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0))
		die("cannot add issuingDistributionPoint");
	ISSUING_DIST_POINT_free(idp);
}

static void add_cert_issuer(X509_REVOKED *r, const X509_NAME *name)
{
	GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();

	gn->type = GEN_DIRNAME;
	gn->d.directoryName = X509_NAME_dup(name);
	sk_GENERAL_NAME_push(gns, gn);
	if (!X509_REVOKED_add1_ext_i2d(r, NID_certificate_issuer, gns, 1, 0))
		die("cannot add certificateIssuer");
	GENERAL_NAMES_free(gns);
}

static X509_REVOKED *make_entry(const struct opts *o, unsigned long long *s,
				const ASN1_TIME *when, const X509_NAME *other,
				long i)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *serial = random_serial(s);

	if (!r || !serial || !X509_REVOKED_set_serialNumber(r, serial) ||
	    !X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when))
		die("cannot build entry");
	ASN1_INTEGER_free(serial);
	if (o->reasons) {
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

		ASN1_ENUMERATED_set(e, CRL_REASON_KEY_COMPROMISE);
		X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
		ASN1_ENUMERATED_free(e);
	}
	/* Alternate issuers so both the carried-forward and explicit rules run. */
	if (other && i % 4 == 1)
		add_cert_issuer(r, other);
	return r;
}

static void add_entries(X509_CRL *crl, const struct opts *o, X509 *ca)
{
	unsigned long long s = o->seed ? o->seed : 1;
	unsigned long long rs = o->remove_seed ? o->remove_seed : 1;
	ASN1_TIME *when = ASN1_TIME_adj(NULL, time(NULL), 0, (long)o->this_off - 60);
	X509_NAME *other = NULL;
	long i;

	if (o->indirect) {
		FILE *f = fopen(o->indirect, "r");
		X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

		if (!x)
			die("cannot read --indirect certificate");
		fclose(f);
		other = X509_NAME_dup(X509_get_subject_name(x));
		X509_free(x);
		if (!o->no_idp)
			add_indirect_idp(crl);
	}
	for (i = 0; i < o->n; i++) {
		X509_REVOKED *r = make_entry(o, &s, when, other, i);

		if (other && i % 4 == 3)
			add_cert_issuer(r, X509_get_subject_name(ca));
		if (!X509_CRL_add0_revoked(crl, r))
			die("cannot add entry");
	}
	for (i = 0; i < o->remove; i++) {
		X509_REVOKED *r = make_entry(o, &rs, when, NULL, i);
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

		if (!e || !ASN1_ENUMERATED_set(e, CRL_REASON_REMOVE_FROM_CRL) ||
		    !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0,
					       X509V3_ADD_REPLACE) ||
		    !X509_CRL_add0_revoked(crl, r))
			die("cannot add removeFromCRL entry");
		ASN1_ENUMERATED_free(e);
	}
	X509_NAME_free(other);
	ASN1_TIME_free(when);
}

static void add_freshest(X509_CRL *crl, const char *url)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *uri = ASN1_IA5STRING_new();

	if (!dps || !dp || !gn || !uri || !ASN1_STRING_set(uri, url, -1))
		die("cannot build freshestCRL");
	GENERAL_NAME_set0_value(gn, GEN_URI, uri);
	dp->distpoint = DIST_POINT_NAME_new();
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn);
	sk_DIST_POINT_push(dps, dp);
	if (!X509_CRL_add1_ext_i2d(crl, NID_freshest_crl, dps, 0, 0))
		die("cannot add freshestCRL");
	CRL_DIST_POINTS_free(dps);
}

static void sign(X509_CRL *crl, EVP_PKEY *key, const struct opts *o)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = EVP_get_digestbyname(o->md);

	if (!md || !EVP_DigestSignInit(mctx, &pctx, md, NULL, key))
		die("cannot set up signing");
	if (o->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
		die("cannot set RSA-PSS");
	if (!X509_CRL_sign_ctx(crl, mctx))
		die("signing failed");
	EVP_MD_CTX_free(mctx);
}

static void write_out(X509_CRL *crl, const struct opts *o)
{
	FILE *f = fopen(o->out, "wb");
	int ok;

	if (!f)
		die("cannot open output");
	ok = o->pem ? PEM_write_X509_CRL(f, crl) : i2d_X509_CRL_fp(f, crl);
	if (!ok || fclose(f))
		die("cannot write output");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "pem", no_argument, NULL, 'P' }, { "md", required_argument, NULL, 'm' },
		{ "pss", no_argument, NULL, 'S' }, { "number", required_argument, NULL, 'N' },
		{ "reasons", no_argument, NULL, 'R' }, { "delta", required_argument, NULL, 'D' },
		{ "indirect", required_argument, NULL, 'I' },
		{ "this", required_argument, NULL, 'T' }, { "next", required_argument, NULL, 'X' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-idp", no_argument, NULL, 'U' },
		{ "remove", required_argument, NULL, 'r' },
		{ "remove-seed", required_argument, NULL, 'e' },
		{ "freshest", required_argument, NULL, 'F' }, { 0 }
	};
	int c;

	*o = (struct opts){ .md = "sha256", .this_off = -3600, .next_off = 86400,
			    .number = -1, .delta = -1, .seed = 1 };
	while ((c = getopt_long(argc, argv, "k:c:n:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'n': o->n = atol(optarg); break;
		case 'o': o->out = optarg; break;
		case 'P': o->pem = 1; break;
		case 'm': o->md = optarg; break;
		case 'S': o->pss = 1; break;
		case 'N': o->number = atol(optarg); break;
		case 'R': o->reasons = 1; break;
		case 'D': o->delta = atol(optarg); break;
		case 'I': o->indirect = optarg; break;
		case 'T': o->this_off = atol(optarg); break;
		case 'X': o->next_off = atol(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'U': o->no_idp = 1; break;
		case 'r': o->remove = atol(optarg); break;
		case 'e': o->remove_seed = strtoull(optarg, NULL, 0); break;
		case 'F': o->freshest = optarg; break;
		default: die("usage: mkcrl -k KEY -c CERT -n N -o OUT [options]");
		}
	}
	if (!o->key || !o->cert || !o->out || o->n < 0)
		die("usage: mkcrl -k KEY -c CERT -n N -o OUT [options]");
}

int main(int argc, char **argv)
{
	struct opts o;
	X509_CRL *crl = X509_CRL_new();
	FILE *kf, *cf;
	EVP_PKEY *key;
	X509 *ca;
	ASN1_TIME *t;

	parse_args(argc, argv, &o);
	kf = fopen(o.key, "r");
	cf = fopen(o.cert, "r");
	key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	ca = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	if (!key || !ca)
		die("cannot read CA key or certificate");
	fclose(kf);
	fclose(cf);
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	t = ASN1_TIME_adj(NULL, time(NULL), 0, o.this_off);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_adj(t, time(NULL), 0, o.next_off);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_TIME_free(t);
	if (o.number >= 0)
		add_ext_int(crl, NID_crl_number, o.number, 0);
	if (o.delta >= 0)
		add_ext_int(crl, NID_delta_crl, o.delta, 1);
	if (o.freshest)
		add_freshest(crl, o.freshest);
	add_entries(crl, &o, ca);
	sign(crl, key, &o);
	write_out(crl, &o);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	return 0;
}
