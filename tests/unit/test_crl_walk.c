// SPDX-License-Identifier: GPL-2.0
/*
 * crl_walk against real CRLs: ones made by `openssl ca -gencrl` from a real
 * OpenSSL CA with revoked certificates, and bigger or odd ones made by
 * build/tools/mkcrl (the X509_CRL API). Every accepted CRL's keys are
 * compared with an independent computation from OpenSSL's full X509_CRL
 * parse; every rejected one must fail with its own error and message.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crl/crl_master.h"
#include "crl/crl_revkey.h"
#include "crl/crl_walk.h"
#include "pki/pki.h"

static char dir[256];
static char mkcrl[PATH_MAX];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[4096], full[PATH_MAX + 4200];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && { %s ; } >>log 2>&1", dir, cmd);
	rc = system(full);
	if (rc)
		fail_msg("command failed (%d): %s (see %s/log)", rc, cmd, dir);
}

static uint8_t *load(const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static X509 *load_cert(const char *name)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	free(buf);
	assert_non_null(x);
	return x;
}

/* A trusted stack holding CA.pem */
static STACK_OF(X509) *trust(const char *ca)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	char name[64];

	snprintf(name, sizeof(name), "%s.pem", ca);
	sk_X509_push(sk, load_cert(name));
	return sk;
}

static void ref_key(const X509_NAME *issuer, const ASN1_INTEGER *serial,
		    uint8_t out[32])
{
	unsigned char *n = NULL, *s = NULL;
	size_t nl = 0;
	int sl = i2d_ASN1_INTEGER(serial, &s);
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	/* The name's canonical form is crl_revkey's (test_revkey_canon checks
	 * it against OpenSSL); what is independent here is the entry walk. */
	assert_int_equal(svrcert_name_canon_der(issuer, &n, &nl), 0);
	assert_true(sl > 0);
	assert_true(EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		    EVP_DigestUpdate(c, n, (size_t)nl) &&
		    EVP_DigestUpdate(c, s, (size_t)sl) &&
		    EVP_DigestFinal_ex(c, out, NULL));
	EVP_MD_CTX_free(c);
	OPENSSL_free(n);
	OPENSSL_free(s);
}

static int cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Independent keys: full X509_CRL parse, certificateIssuer carried forward
 * (RFC 5280 5.3.3), i2d of name and serial, SHA-256, sort, dedupe. */
static svrcert_revkey_t *reference_keys(const char *name, size_t *n,
					size_t *entries)
{
	size_t len, i, out = 0;
	uint8_t *buf = load(name, &len);
	const unsigned char *p = buf;
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509_CRL *crl = buf[0] == '-' ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)
				      : d2i_X509_CRL(NULL, &p, (long)len);
	STACK_OF(X509_REVOKED) *rev;
	const X509_NAME *issuer;
	X509_NAME *held = NULL;
	svrcert_revkey_t *keys;

	assert_non_null(crl);
	rev = X509_CRL_get_REVOKED(crl);
	issuer = X509_CRL_get_issuer(crl);
	*entries = rev ? (size_t)sk_X509_REVOKED_num(rev) : 0;
	keys = calloc(*entries + 1, sizeof(*keys));
	for (i = 0; i < *entries; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, (int)i);
		GENERAL_NAMES *gns = X509_REVOKED_get_ext_d2i(r, NID_certificate_issuer,
							      NULL, NULL);
		uint8_t k2[32];

		for (int j = 0; gns && j < sk_GENERAL_NAME_num(gns); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);

			if (gn->type == GEN_DIRNAME) {
				X509_NAME_free(held);
				held = X509_NAME_dup(gn->d.directoryName);
				issuer = held;
				break;
			}
		}
		GENERAL_NAMES_free(gns);
		ref_key(issuer, X509_REVOKED_get0_serialNumber(r), keys[i]);
		/* the certificate side's definition must agree */
		assert_int_equal(svrcert_revkey_from_issuer_serial(issuer,
					X509_REVOKED_get0_serialNumber(r), k2), 0);
		assert_memory_equal(k2, keys[i], 32);
	}
	qsort(keys, *entries, sizeof(*keys), cmp32);
	for (i = 0; i < *entries; i++)
		if (!out || memcmp(keys[out - 1], keys[i], 32))
			memcpy(keys[out++], keys[i], 32);
	*n = out;
	X509_NAME_free(held);
	X509_CRL_free(crl);
	BIO_free(bio);
	free(buf);
	return keys;
}

static int walk(const char *name, const char *ca, struct svrcert_crl *crl,
		char *err, size_t errlen)
{
	char path[PATH_MAX];
	STACK_OF(X509) *sk = trust(ca);
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = svrcert_crl_walk_file(path, sk, crl, err, errlen);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Accepted, and the keys are exactly the reference keys. */
static void expect_keys_match(const char *name, const char *ca)
{
	struct svrcert_crl crl;
	char err[256];
	size_t n, entries;
	svrcert_revkey_t *ref = reference_keys(name, &n, &entries);
	int rc = walk(name, ca, &crl, err, sizeof(err));

	if (rc)
		fail_msg("%s rejected: %s", name, err);
	assert_int_equal(crl.entries, entries);
	assert_int_equal(crl.nkeys, n);
	if (n)
		assert_memory_equal(crl.keys, ref, n * 32);
	svrcert_crl_release(&crl);
	free(ref);
}

static void expect_reject(const char *name, const char *ca, int want_rc,
			  const char *want_msg)
{
	struct svrcert_crl crl;
	char err[256];
	int rc = walk(name, ca, &crl, err, sizeof(err));

	if (rc != want_rc || !strstr(err, want_msg))
		fail_msg("%s: got %d \"%s\", want %d \"...%s...\"", name, rc, err,
			 want_rc, want_msg);
	assert_null(crl.keys);
	assert_int_equal(crl.nkeys, 0);
}

static const char ca_cnf[] =
	"[ ca ]\ndefault_ca = CA_default\n"
	"[ CA_default ]\ndir = .\ndatabase = index.txt\nnew_certs_dir = newcerts\n"
	"certificate = ca.pem\nprivate_key = ca.key\nserial = serial\n"
	"crlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n"
	"default_days = 30\npolicy = pol\nunique_subject = no\n"
	"[ pol ]\ncommonName = supplied\n"
	"[ leaf ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n"
	"[ crlext ]\nauthorityKeyIdentifier = keyid\n";

#define CA_EXT "-addext basicConstraints=critical,CA:TRUE " \
	       "-addext keyUsage=critical,keyCertSign,cRLSign"

static void make_ca(const char *name, const char *subject, const char *keyopt)
{
	run("openssl req -x509 %s -nodes -keyout %s.key -out %s.pem -days 30 "
	    "-subj '%s' " CA_EXT, keyopt, name, name, subject);
}

static void issue_leaf(const char *name)
{
	run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout %s.key -out %s.csr -subj /CN=%s && "
	    "openssl ca -batch -config ca.cnf -extensions leaf -in %s.csr -out %s.pem",
	    name, name, name, name, name);
}

static void find_mkcrl(void)
{
	char self[PATH_MAX] = { 0 };
	const char *env = getenv("SVRCERT_MKCRL");

	if (env) {
		snprintf(mkcrl, sizeof(mkcrl), "%s", env);
		return;
	}
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		fail_msg("readlink /proc/self/exe");
	/* build/tests/test_crl_walk -> build/tools/mkcrl */
	snprintf(mkcrl, sizeof(mkcrl), "%s/../tools/mkcrl", dirname(self));
	if (access(mkcrl, X_OK))
		fail_msg("%s not built (make helpers)", mkcrl);
}

static int setup(void **state)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/svrcert-crlwalk.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	find_mkcrl();
	make_ca("ca", "/C=US/O=svrcert test/CN=CRL Test CA", "-newkey rsa:2048");
	/* same name, other key: a forged CRL must not verify */
	make_ca("twin", "/C=US/O=svrcert test/CN=CRL Test CA", "-newkey rsa:2048");
	make_ca("other", "/C=US/O=svrcert test/CN=Other CA", "-newkey rsa:2048");
	make_ca("ec", "/O=svrcert test/CN=EC CA",
		"-newkey ec -pkeyopt ec_paramgen_curve:P-384");
	f = fopen(strcat(strcpy((char[PATH_MAX]){ 0 }, dir), "/ca.cnf"), "w");
	fputs(ca_cnf, f);
	fclose(f);
	run("mkdir newcerts && touch index.txt && echo 1000 > serial && echo 41 > crlnumber");
	issue_leaf("leaf1");
	issue_leaf("leaf2");
	issue_leaf("leaf3");
	run("openssl ca -config ca.cnf -revoke leaf1.pem -crl_reason keyCompromise");
	run("openssl ca -config ca.cnf -revoke leaf2.pem");
	run("openssl ca -config ca.cnf -gencrl -crlexts crlext -out cli.pem && "
	    "openssl crl -in cli.pem -outform DER -out cli.der");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	if (!getenv("SVRCERT_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		return system(cmd) ? -1 : 0;
	}
	return 0;
}

static void gen(const char *out, const char *ca, long n, const char *opts)
{
	run("'%s' -k %s.key -c %s.pem -n %ld -o %s %s", mkcrl, ca, ca, n, out, opts);
}

/* ---- accepted CRLs ---------------------------------------------------- */

static void cli_crl(const char *name)
{
	struct svrcert_crl crl;
	X509 *l1 = load_cert("leaf1.pem"), *l2 = load_cert("leaf2.pem"),
	     *l3 = load_cert("leaf3.pem");
	uint8_t k1[32], k2[32], k3[32];
	char err[256], hex[48];

	expect_keys_match(name, "ca");
	assert_int_equal(walk(name, "ca", &crl, err, sizeof(err)), 0);
	assert_int_equal(crl.entries, 2);
	assert_int_equal(crl.nkeys, 2);
	/* the keys are those of the revoked certificates, not of leaf3 */
	assert_int_equal(svrcert_revkey_from_cert(l1, k1), 0);
	assert_int_equal(svrcert_revkey_from_cert(l2, k2), 0);
	assert_int_equal(svrcert_revkey_from_cert(l3, k3), 0);
	assert_true(!memcmp(crl.keys[0], k1, 32) || !memcmp(crl.keys[1], k1, 32));
	assert_true(!memcmp(crl.keys[0], k2, 32) || !memcmp(crl.keys[1], k2, 32));
	assert_memory_not_equal(crl.keys[0], k3, 32);
	assert_memory_not_equal(crl.keys[1], k3, 32);
	assert_string_equal(crl.issuer_text, "/C=US/O=svrcert test/CN=CRL Test CA");
	assert_true(crl.has_crl_number);
	svrcert_crl_number_hex(&crl, hex, sizeof(hex));
	assert_string_equal(hex, "41");
	assert_int_equal(crl.next_update - crl.this_update, 7 * 86400);
	assert_true(labs(crl.this_update - time(NULL)) < 600);
	assert_int_equal(crl.sig_nid, NID_sha256WithRSAEncryption);
	assert_false(crl.indirect);
	svrcert_crl_release(&crl);
	X509_free(l1);
	X509_free(l2);
	X509_free(l3);
}

static void test_openssl_ca_crl_der(void **state)
{
	cli_crl("cli.der");
}

static void test_openssl_ca_crl_pem(void **state)
{
	cli_crl("cli.pem");
}

/* A third, CLI-only computation: tests/pki/revkey.sh (asn1parse + dd +
 * sha256sum) of the revoked certificate must be among the walked keys. */
static void test_revkey_sh_agrees(void **state)
{
	char script[PATH_MAX + 64], hex[65] = { 0 }, want[65];
	struct svrcert_crl crl;
	size_t len, i;
	uint8_t *buf;
	bool found = false;

	snprintf(script, sizeof(script), "%s/../../tests/pki/revkey.sh",
		 dirname(strcpy((char[PATH_MAX]){ 0 }, mkcrl)));
	if (access(script, X_OK))
		skip();
	run("'%s' cert leaf2.pem > leaf2.revkey", script);
	buf = load("leaf2.revkey", &len);
	assert_true(len >= 64);
	memcpy(want, buf, 64);
	want[64] = '\0';
	free(buf);
	assert_int_equal(walk("cli.der", "ca", &crl, (char[256]){ 0 }, 256), 0);
	for (i = 0; i < crl.nkeys; i++) {
		for (int j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", crl.keys[i][j]);
		found |= !strcmp(hex, want);
	}
	assert_true(found);
	svrcert_crl_release(&crl);
}

static void test_large_with_reasons(void **state)
{
	struct svrcert_crl crl;
	char err[256];

	gen("big.der", "ca", 20000, "--reasons --number 123456");
	expect_keys_match("big.der", "ca");
	assert_int_equal(walk("big.der", "ca", &crl, err, sizeof(err)), 0);
	assert_int_equal(crl.entries, 20000);
	assert_true(crl.has_crl_number);
	assert_int_equal(crl.crl_number_len, 3);	/* 123456 = 0x01E240 */
	assert_int_equal(crl.crl_number[0], 0x01);
	assert_int_equal(crl.crl_number[2], 0x40);
	svrcert_crl_release(&crl);
}

static void test_empty_crl(void **state)
{
	gen("empty.der", "ca", 0, "");
	expect_keys_match("empty.der", "ca");
}

static void test_algorithms(void **state)
{
	gen("ec384.der", "ec", 500, "--md sha384");
	expect_keys_match("ec384.der", "ec");
	gen("ec512.pem", "ec", 10, "--md sha512 --pem");
	expect_keys_match("ec512.pem", "ec");
	gen("pss.der", "ca", 500, "--pss");
	expect_keys_match("pss.der", "ca");
	gen("rsa512.der", "ca", 10, "--md sha512");
	expect_keys_match("rsa512.der", "ca");
}

static void test_indirect(void **state)
{
	struct svrcert_crl crl;
	char err[256];

	gen("indirect.der", "ca", 1000, "--indirect other.pem --reasons");
	expect_keys_match("indirect.der", "ca");
	assert_int_equal(walk("indirect.der", "ca", &crl, err, sizeof(err)), 0);
	assert_true(crl.indirect);
	svrcert_crl_release(&crl);
}

static void test_key_rollover_two_trusted(void **state)
{
	STACK_OF(X509) *sk = trust("twin");
	struct svrcert_crl crl;
	char path[PATH_MAX], err[256];

	/* a same-named certificate with another key comes first: skipped */
	sk_X509_push(sk, load_cert("ca.pem"));
	snprintf(path, sizeof(path), "%s/cli.der", dir);
	assert_int_equal(svrcert_crl_walk_file(path, sk, &crl, err, sizeof(err)), 0);
	assert_int_equal(crl.nkeys, 2);
	svrcert_crl_release(&crl);
	sk_X509_pop_free(sk, X509_free);
}

/* ---- rejected CRLs ---------------------------------------------------- */

static void save(const char *name, const uint8_t *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void test_bad_signature(void **state)
{
	size_t len;
	uint8_t *buf = load("cli.der", &len);

	buf[len - 1] ^= 0x01;		/* last signature octet */
	save("badsig.der", buf, len);
	expect_reject("badsig.der", "ca", -EKEYREJECTED, "bad signature");
	buf[len - 1] ^= 0x01;
	buf[len / 3] ^= 0x01;		/* inside tbsCertList */
	save("badtbs.der", buf, len);
	/* may break the structure or only the signature: never accepted */
	assert_int_not_equal(walk("badtbs.der", "ca", &(struct svrcert_crl){ 0 },
				  (char[256]){ 0 }, 256), 0);
	free(buf);
}

static void test_flipped_serial_bad_signature(void **state)
{
	size_t len;
	uint8_t *buf;

	gen("flip.der", "ca", 100, "");
	buf = load("flip.der", &len);
	buf[len / 2] ^= 0x40;	/* lands in an entry: structure intact */
	save("flip.der", buf, len);
	expect_reject("flip.der", "ca", -EKEYREJECTED, "bad signature");
	free(buf);
}

static void test_truncated(void **state)
{
	size_t len, cut[] = { 1, 4, 40, 0, 0, 0 };
	uint8_t *buf;
	char name[32];
	int i;

	gen("trunc.der", "ca", 1000, "--reasons");
	buf = load("trunc.der", &len);
	cut[3] = len / 2;
	cut[4] = len - 1;
	cut[5] = len - 300;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "trunc%d.der", i);
		save(name, buf, cut[i]);
		expect_reject(name, "ca", -EBADMSG, "truncated");
	}
	free(buf);
}

static void test_garbage(void **state)
{
	static const uint8_t cert_not_crl[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	uint8_t rnd[4096];
	size_t i;

	save("text.der", (const uint8_t *)"hello, world\n", 13);
	expect_reject("text.der", "ca", -EBADMSG, "");
	save("empty.bin", (const uint8_t *)"", 0);
	expect_reject("empty.bin", "ca", -EBADMSG, "truncated");
	save("seq.der", cert_not_crl, sizeof(cert_not_crl));
	expect_reject("seq.der", "ca", -EBADMSG, "expected tbsCertList");
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(i * 2654435761u >> 13);
	save("rnd.der", rnd, sizeof(rnd));
	expect_reject("rnd.der", "ca", -EBADMSG, "");
	save("pemjunk.pem", (const uint8_t *)"-----BEGIN X509 CRL-----\n!!!\n", 29);
	expect_reject("pemjunk.pem", "ca", -EBADMSG, "not a CRL");
	run("cp leaf1.pem cert-as-crl.pem");
	expect_reject("cert-as-crl.pem", "ca", -EBADMSG, "not a CRL");
}

static void test_trailing_data(void **state)
{
	size_t len;
	uint8_t *buf = load("cli.der", &len);

	buf = realloc(buf, len + 2);
	buf[len] = 0x05;
	buf[len + 1] = 0x00;
	save("trailing.der", buf, len + 2);
	expect_reject("trailing.der", "ca", -EBADMSG, "trailing data after the CRL at offset");
	free(buf);
}

static void test_wrong_issuer(void **state)
{
	expect_reject("cli.der", "other", -ENOKEY, "no trusted CA certificate for CRL issuer /C=US/O=svrcert test/CN=CRL Test CA");
	expect_reject("cli.der", "twin", -EKEYREJECTED, "bad signature");
}

static void test_sha1_rejected(void **state)
{
	gen("sha1.der", "ca", 10, "--md sha1");
	expect_reject("sha1.der", "ca", -EPROTONOSUPPORT,
		      "signature algorithm sha1WithRSAEncryption not allowed");
	gen("ecsha1.der", "ec", 10, "--md sha1");
	expect_reject("ecsha1.der", "ec", -EPROTONOSUPPORT, "not allowed");
}

/* A CRL signer whose EC key has explicit curve parameters (RFC 5480 allows
 * named curves only), even though the signature itself verifies. */
static void test_explicit_curve_signer(void **state)
{
	run("openssl ecparam -name prime256v1 -genkey -param_enc explicit -noout "
	    "-out explicit.key && openssl req -x509 -key explicit.key -out explicit.pem "
	    "-days 30 -subj '/O=svrcert test/CN=Explicit CA' " CA_EXT);
	gen("explicit.der", "explicit", 10, "");
	expect_reject("explicit.der", "explicit", -EKEYREJECTED,
		      "explicit EC curve parameters");
}

/* A delta CRL (RFC 5280 5.2.4) walks: its BaseCRLNumber, its keys, and its
 * removeFromCRL entries apart (the same keys its base's entries give);
 * freshestCRL of a base; removeFromCRL outside a delta CRL is malformed. */
static void test_delta_walked(void **state)
{
	struct svrcert_crl base, delta;
	char err[256];
	size_t i;

	gen("base.der", "ca", 6, "--number 4 --seed 3 --freshest http://h/d.crl");
	gen("delta.der", "ca", 10, "--number 5 --delta 4 --remove 2 --remove-seed 3");
	assert_int_equal(walk("base.der", "ca", &base, err, sizeof(err)), 0);
	assert_false(base.delta);
	assert_string_equal(base.freshest, "http://h/d.crl");
	if (walk("delta.der", "ca", &delta, err, sizeof(err)))
		fail_msg("delta: %s", err);
	assert_true(delta.delta);
	assert_int_equal(delta.base_number_len, 1);
	assert_int_equal(delta.base_number[0], 4);
	assert_int_equal(delta.crl_number[0], 5);
	assert_int_equal(delta.entries, 12);
	assert_int_equal(delta.nkeys, 10);
	assert_int_equal(delta.nremoved, 2);
	for (i = 0; i < delta.nremoved; i++) {	/* the base's first two */
		assert_true(svrcert_revkeys_contains(base.keys, base.nkeys,
						     delta.removed[i]));
		assert_false(svrcert_revkeys_contains(delta.keys, delta.nkeys,
						      delta.removed[i]));
	}
	svrcert_crl_release(&base);
	svrcert_crl_release(&delta);
	gen("remove.der", "ca", 3, "--number 6 --remove 1");
	expect_reject("remove.der", "ca", -EBADMSG,
		      "removeFromCRL entry at offset");
}

static void test_dates(void **state)
{
	gen("backwards.der", "ca", 10, "--this 0 --next -60");
	expect_reject("backwards.der", "ca", -ERANGE, "nextUpdate is not after thisUpdate");
}

static void test_cert_issuer_not_indirect(void **state)
{
	gen("noidp.der", "ca", 10, "--indirect other.pem --no-idp");
	expect_reject("noidp.der", "ca", -EBADMSG, "names another issuer in a CRL that is not indirect");
}

/* certificateIssuer naming the CRL issuer itself, in a CRL that is not
 * indirect: accepted, every key the CRL issuer's (as OpenSSL reads it). */
static void test_cert_issuer_self_not_indirect(void **state)
{
	struct svrcert_crl crl;
	char err[256];

	gen("selfci.der", "ca", 12, "--indirect ca.pem --no-idp");
	expect_keys_match("selfci.der", "ca");
	assert_int_equal(walk("selfci.der", "ca", &crl, err, sizeof(err)), 0);
	assert_false(crl.indirect);
	assert_int_equal(crl.nkeys, 12);
	svrcert_crl_release(&crl);
}

/* The first entry of CRL NAME whose certificateIssuer is not byte for
 * byte the CRL issuer's Name: its serial in hex, its Name's DER in *DER. */
static void respelled_entry(const char *name, char *hex, size_t hexlen,
			    unsigned char **der, int *derlen)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	const unsigned char *p = buf;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	STACK_OF(X509_REVOKED) *rev = crl ? X509_CRL_get_REVOKED(crl) : NULL;
	unsigned char *own = NULL;
	int ownlen = i2d_X509_NAME(crl ? X509_CRL_get_issuer(crl) : NULL, &own);

	*der = NULL;
	for (int i = 0; !*der && i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		GENERAL_NAMES *gns = X509_REVOKED_get_ext_d2i(r, NID_certificate_issuer,
							      NULL, NULL);
		GENERAL_NAME *gn = gns ? sk_GENERAL_NAME_value(gns, 0) : NULL;
		BIGNUM *bn;
		char *h;

		if (gn && gn->type == GEN_DIRNAME)
			*derlen = i2d_X509_NAME(gn->d.directoryName, der);
		if (*der && *derlen == ownlen && !memcmp(*der, own, (size_t)ownlen)) {
			OPENSSL_free(*der);
			*der = NULL;
		}
		if (*der) {
			bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
			h = BN_bn2hex(bn);
			snprintf(hex, hexlen, "%s", h);
			OPENSSL_free(h);
			BN_free(bn);
		}
		GENERAL_NAMES_free(gns);
	}
	assert_non_null(*der);
	OPENSSL_free(own);
	X509_CRL_free(crl);
	free(buf);
}

/*
 * certificateIssuer spelling the CRL issuer's name differently, equal
 * after RFC 5280 7.1 canonicalisation (crl_revkey's form): CA "C=US,
 * O=svrcert test, CN=CRL Test CA" written with other case and white space
 * in UTF8Strings ("SVRCERT   test", "  crl test ca "), and as
 * PrintableStrings ("us", "svrcert Test", "CRL  TEST  CA"). A CRL that is
 * not indirect is accepted, and the entry's revocation key is that of a
 * certificate the CA issued with the entry's serial.
 */
static void cert_issuer_respelled(const char *tag, const char *cnf,
				  const char *subj)
{
	char crl_name[64], hex[80], pem[64];
	struct svrcert_crl crl;
	unsigned char *der;
	uint8_t key[32];
	char err[256];
	int derlen = 0;
	X509 *leaf;

	snprintf(crl_name, sizeof(crl_name), "ci-%s.der", tag);
	snprintf(pem, sizeof(pem), "ci-%s-leaf.pem", tag);
	run("openssl req %s -x509 -key ca.key -out ci-%s.pem -days 30 -subj '%s'",
	    cnf, tag, subj);
	run("'%s' -k ca.key -c ca.pem -n 12 -o %s --indirect ci-%s.pem --no-idp",
	    mkcrl, crl_name, tag);
	respelled_entry(crl_name, hex, sizeof(hex), &der, &derlen);
	OPENSSL_free(der);
	expect_keys_match(crl_name, "ca");
	if (walk(crl_name, "ca", &crl, err, sizeof(err)))
		fail_msg("%s rejected: %s", crl_name, err);
	assert_false(crl.indirect);
	assert_int_equal(crl.nkeys, 12);
	run("openssl x509 -req -in leaf3.csr -CA ca.pem -CAkey ca.key "
	    "-set_serial 0x%s -days 1 -out %s 2>/dev/null", hex, pem);
	leaf = load_cert(pem);
	assert_int_equal(svrcert_revkey_from_cert(leaf, key), 0);
	assert_true(svrcert_revkeys_contains(crl.keys, crl.nkeys, key));
	X509_free(leaf);
	svrcert_crl_release(&crl);
}

static void test_cert_issuer_respelled_not_indirect(void **state)
{
	run("printf '[req]\\ndistinguished_name = dn\\nstring_mask = default\\n"
	    "[dn]\\n' > printable.cnf");
	cert_issuer_respelled("utf8", "", "/C=US/O=SVRCERT   test/CN=  crl test ca ");
	cert_issuer_respelled("printable", "-config printable.cnf",
			      "/C=us/O=svrcert Test/CN=CRL  TEST  CA");
	/* a name canonicalisation does not fold is another issuer */
	run("openssl req -x509 -key ca.key -out ci-near.pem -days 30 "
	    "-subj '/C=US/O=svrcert test/CN=CRL-Test CA'");
	gen("ci-near.der", "ca", 12, "--indirect ci-near.pem --no-idp");
	expect_reject("ci-near.der", "ca", -EBADMSG,
		      "names another issuer in a CRL that is not indirect");
}

static void test_missing_file(void **state)
{
	expect_reject("does-not-exist.der", "ca", -ENOENT, "cannot read");
}

/* ---- helpers ---------------------------------------------------------- */

static void test_sort_unique(void **state)
{
	svrcert_revkey_t *k = calloc(5000, sizeof(*k));
	size_t i, n;

	for (i = 0; i < 5000; i++) {
		uint32_t v = (uint32_t)((i % 1234) * 2654435761u);

		memcpy(k[i], &v, 4);
		k[i][31] = (uint8_t)(i % 1234);
	}
	n = svrcert_revkeys_sort_unique(k, 5000);
	assert_int_equal(n, 1234);
	for (i = 1; i < n; i++)
		assert_true(memcmp(k[i - 1], k[i], 32) < 0);
	assert_int_equal(svrcert_revkeys_sort_unique(k, 0), 0);
	/* Sorted already (the sort is skipped), with duplicates: still
	 * made unique; one key out of order at the end: still sorted. */
	memcpy(k[n], k[n - 1], 32);
	memcpy(k[n + 1], k[n - 1], 32);
	assert_int_equal(svrcert_revkeys_sort_unique(k, n + 2), n);
	memset(k[n], 0, 32);		/* k[0] is 0...0 00: this one second */
	k[n][31] = 1;
	assert_int_equal(svrcert_revkeys_sort_unique(k, n + 1), n + 1);
	assert_int_equal(k[1][31], 1);
	for (i = 1; i <= n; i++)
		assert_true(memcmp(k[i - 1], k[i], 32) < 0);
	free(k);
}

static void test_crl_number_cmp(void **state)
{
	struct svrcert_crl a = { 0 }, b = { 0 };

	assert_int_equal(svrcert_crl_number_cmp(&a, &b), 0);
	b.has_crl_number = true;
	b.crl_number_len = 1;
	b.crl_number[0] = 9;
	assert_true(svrcert_crl_number_cmp(&a, &b) < 0);
	a = b;
	a.crl_number_len = 2;
	a.crl_number[0] = 1;
	assert_true(svrcert_crl_number_cmp(&a, &b) > 0);	/* 0x01xx > 0x09 */
	b.crl_number_len = 2;
	b.crl_number[0] = 1;
	b.crl_number[1] = 0;
	a.crl_number[1] = 0;
	assert_int_equal(svrcert_crl_number_cmp(&a, &b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openssl_ca_crl_der),
		cmocka_unit_test(test_openssl_ca_crl_pem),
		cmocka_unit_test(test_revkey_sh_agrees),
		cmocka_unit_test(test_large_with_reasons),
		cmocka_unit_test(test_empty_crl),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_key_rollover_two_trusted),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_flipped_serial_bad_signature),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_wrong_issuer),
		cmocka_unit_test(test_sha1_rejected),
		cmocka_unit_test(test_delta_walked),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_cert_issuer_not_indirect),
		cmocka_unit_test(test_cert_issuer_self_not_indirect),
		cmocka_unit_test(test_cert_issuer_respelled_not_indirect),
		cmocka_unit_test(test_explicit_curve_signer),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_sort_unique),
		cmocka_unit_test(test_crl_number_cmp),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
