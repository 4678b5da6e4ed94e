// SPDX-License-Identifier: GPL-2.0
/* Key generation in a real swtpm and CSRs signed there (tpm.c, csr.c),
 * SAN rules and SANs in the CSR (csr_san.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "swtpm_fixture.h"

#include "lib/audit.h"
#include "lib/counters.h"
#include "pki/csr.h"
#include "lib/store.h"
#include "tpm/tpm.h"

struct fx {
	struct swtpm_fixture tpm;
	char dir[64];
	struct svrcert_store st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(fixture_tempdir(f->dir, "state"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(&f->st);
	swtpm_stop(&f->tpm);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static mode_t mode_of(struct fx *f, const char *name)
{
	char path[4200];
	struct stat sb;

	assert_int_equal(store_path(&f->st, name, path, sizeof(path)), 0);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void generate_key(struct fx *f)
{
	struct tpm_ctx t;

	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate(&t, &f->st, false), 0);
	tpm_ctx_close(&t);
}

static void test_key_generate_tpm(void **state)
{
	struct fx *f = *state;
	enum tpm_key_storage kind;
	struct tpm_ctx t;
	EVP_PKEY *pub = NULL;
	char *pem = NULL;

	generate_key(f);
	assert_int_equal(store_read(&f->st, STORE_KEY, &pem, NULL), 0);
	assert_non_null(strstr(pem, "-----BEGIN TSS2 PRIVATE KEY-----"));
	assert_null(strstr(pem, "BEGIN PRIVATE KEY"));
	free(pem);
	assert_int_equal(mode_of(f, STORE_KEY), 0600);
	assert_int_equal(mode_of(f, STORE_PUBKEY), 0644);
	assert_int_equal(tpm_key_storage_of(&f->st, &kind), 0);
	assert_int_equal(kind, TPM_KEY_STORAGE_TPM);
	assert_int_equal(tpm_pubkey_load(&f->st, &pub), 0);
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 256);
	EVP_PKEY_free(pub);

	/* A second generate must not silently replace the key. */
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate(&t, &f->st, false), -EEXIST);
	assert_non_null(strstr(t.err, "already exists"));
	tpm_ctx_close(&t);
}

static void csr_default(struct csr_request *r)
{
	memset(r, 0, sizeof(*r));
	r->name = "TestCertificate";
	r->country = "US";
	r->state = "California";
	r->locality = "San Francisco";
	r->organization = "ExampleOrg";
	r->org_unit = "IT";
	r->email = "admin@example.com";
	r->validity_days = 365;
}

static json_t *last_audit_line(struct fx *f)
{
	char *text = NULL, *last;
	json_error_t jerr;
	json_t *ev;

	assert_int_equal(store_read(&f->st, STORE_AUDIT_LOG, &text, NULL), 0);
	text[strlen(text) - 1] = '\0';
	last = strrchr(text, '\n');
	ev = json_loads(last ? last + 1 : text, 0, &jerr);
	free(text);
	assert_non_null(ev);
	return ev;
}

static void test_csr_uuid_cn_verifies(void **state)
{
	struct fx *f = *state;
	char uuid[STORE_UUID_LEN + 1], path[4200], expect[1024];
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	json_t *ev, *cnt;

	generate_key(f);
	csr_default(&r);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	tpm_ctx_close(&t);
	assert_int_equal(store_router_uuid(&f->st, uuid), 0);
	assert_string_equal(res.common_name, uuid);
	free(res.pem);

	/* The OpenSSL CLI must accept the self-signature, and the AlgId must
	 * carry no NULL parameter (the tpm2-openssl quirk, fixed up). */
	store_path(&f->st, STORE_CSR, path, sizeof(path));
	assert_int_equal(fixture_sh("openssl req -in %s -verify -noout 2>/dev/null", path), 0);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -subject | "
				    "grep -q 'CN = %s'", path, uuid), 0);
	assert_int_equal(fixture_sh("openssl asn1parse -in %s | tail -3 | "
				    "grep -q NULL", path), 1);
	assert_int_equal(fixture_sh("openssl asn1parse -in %s | grep -q "
				    "ecdsa-with-SHA256", path), 0);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -text | "
				    "grep -q 'ASN1 OID: prime256v1'", path), 0);

	ev = last_audit_line(f);
	assert_string_equal(json_string_value(json_object_get(ev, "type")),
			    "system.generate_csr");
	assert_true(json_is_true(json_object_get(ev, "permitted")));
	assert_string_equal(json_string_value(json_object_get(ev, "description")),
			    "Generated CSR for: TestCertificate");
	snprintf(expect, sizeof(expect),
		 "{\"name\": \"TestCertificate\", \"common_name\": \"%s\", "
		 "\"country_name\": \"US\", \"state_province_name\": "
		 "\"California\", \"locality_name\": \"San Francisco\", "
		 "\"organization_name\": \"ExampleOrg\", "
		 "\"organizational_unit_name\": \"IT\", \"email_address\": "
		 "\"admin@example.com\", \"validity_period_days\": 365}", uuid);
	{
		json_t *want = json_loads(expect, 0, NULL);

		assert_non_null(want);
		assert_true(json_equal(want, json_object_get(ev, "detail")));
		json_decref(want);
	}
	json_decref(ev);

	assert_int_equal(counters_load(&f->st, &cnt), 0);
	assert_int_equal(counters_get(cnt, "csr.success"), 1);
	assert_int_equal(counters_get(cnt, "csr.failure"), 0);
	json_decref(cnt);
}

static void test_csr_peering_name_san(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	char path[4200];

	generate_key(f);
	csr_default(&r);
	r.peering_name = "east-1";
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	tpm_ctx_close(&t);
	assert_string_equal(res.common_name, "east-1");
	free(res.pem);
	store_path(&f->st, STORE_CSR, path, sizeof(path));
	assert_int_equal(fixture_sh("openssl req -in %s -verify -noout 2>/dev/null", path), 0);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -text | grep -q "
				    "'URI:urn:ssr:peering:east-1'", path), 0);
}

static void test_csr_peering_name_cannot_inject(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;

	generate_key(f);
	csr_default(&r);
	r.peering_name = "east,DNS:evil.example";
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	tpm_ctx_close(&t);
	assert_non_null(strstr(res.err, "bad peering name"));
	assert_false(store_exists(&f->st, STORE_CSR));
}

static void test_key_file_and_uuid_file_elsewhere(void **state)
{
	struct fx *f = *state;
	char other[64], uuid[STORE_UUID_LEN + 1];
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;

	/* [key] key-file and [router] uuid-file outside the state dir. */
	assert_int_equal(fixture_tempdir(other, "keydir"), 0);
	snprintf(f->st.key_file, sizeof(f->st.key_file), "%s/router.key", other);
	snprintf(f->st.uuid_file, sizeof(f->st.uuid_file), "%s/uuid", other);
	generate_key(f);
	assert_false(store_exists(&f->st, STORE_KEY));
	assert_int_equal(fixture_sh("grep -q 'BEGIN TSS2 PRIVATE KEY' %s/router.key", other), 0);
	csr_default(&r);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	tpm_ctx_close(&t);
	free(res.pem);
	assert_int_equal(store_router_uuid(&f->st, uuid), 0);
	assert_string_equal(res.common_name, uuid);
	assert_false(store_exists(&f->st, STORE_ROUTER_UUID));
	assert_int_equal(fixture_sh("grep -qx %s %s/uuid", uuid, other), 0);
	fixture_rm_rf(other);
}

/* storage = tpm: a persistent key the administrator made with tpm2-tools
 * (flushing transient objects after each tool: no resource manager). */
static void test_persistent_handle(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	char path[4200];

	assert_int_equal(fixture_sh(
		"export TPM2TOOLS_TCTI='%s'; cd %s && F='tpm2_flushcontext -t' && "
		"tpm2_createprimary -Q -C o -G ecc -c p.ctx && $F && "
		"tpm2_create -Q -C p.ctx -G ecc256:ecdsa -u k.pub -r k.priv && $F && "
		"tpm2_load -Q -C p.ctx -u k.pub -r k.priv -c k.ctx && $F && "
		"tpm2_evictcontrol -Q -C o -c k.ctx 0x81000001 && $F && "
		"rm -f p.ctx k.pub k.priv k.ctx", f->tpm.tcti, f->dir), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_HANDLE, NULL), 0);
	t.handle = 0x81000001;
	assert_int_equal(tpm_key_generate(&t, &f->st, true), -EOPNOTSUPP);
	assert_non_null(strstr(t.err, "tpm-blob"));
	csr_default(&r);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	free(res.pem);
	t.handle = 0x81000002;	/* nothing there */
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -ENOENT);
	assert_non_null(strstr(res.err, "0x81000002"));
	tpm_ctx_close(&t);
	store_path(&f->st, STORE_CSR, path, sizeof(path));
	assert_int_equal(fixture_sh("openssl req -in %s -verify -noout 2>/dev/null", path), 0);
	/* The public key was stored for import, and is the CSR's. */
	assert_int_equal(fixture_sh("cd %s && openssl req -in csr.pem -pubkey -noout | "
				    "cmp -s - key.pub.pem", f->dir), 0);
	assert_false(store_exists(&f->st, STORE_KEY));
}

static void test_csr_without_key_fails_and_counts(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	json_t *cnt;

	csr_default(&r);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -ENOENT);
	tpm_ctx_close(&t);
	assert_non_null(strstr(res.err, "key generate"));
	assert_false(store_exists(&f->st, STORE_CSR));
	{
		json_t *ev = last_audit_line(f);

		assert_true(json_is_false(json_object_get(ev, "permitted")));
		assert_string_equal(json_string_value(json_object_get(
			json_object_get(ev, "detail"), "error")), res.err);
		json_decref(ev);
	}
	assert_int_equal(counters_load(&f->st, &cnt), 0);
	assert_int_equal(counters_get(cnt, "csr.failure"), 1);
	assert_int_equal(counters_get(cnt, "csr.success"), 0);
	json_decref(cnt);
}

static void test_csr_bad_country_rejected(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;

	generate_key(f);
	csr_default(&r);
	r.country = "USA";
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	tpm_ctx_close(&t);
	assert_non_null(strstr(res.err, "two-letter"));
	assert_false(store_exists(&f->st, STORE_CSR));
}

/* Control characters (C0, DEL, C1) in any subject field are refused with
 * the field and position; other UTF-8 is kept. */
static void test_csr_control_characters_rejected(void **state)
{
	static const struct { const char *cn, *o, *want; } cases[] = {
		{ "r1\x1b[2J", NULL, "common name: control character U+001B at byte 3" },
		{ "r1", "Ex\nample", "organization: control character U+000A at byte 3" },
		{ "r1", "Ex\x7f", "organization: control character U+007F at byte 3" },
		{ "\xc2\x9b" "31m", NULL, "common name: control character U+009B at byte 1" },
		{ "r1\t", NULL, "common name: control character U+0009" },
	};
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	size_t i;

	generate_key(f);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		csr_default(&r);
		r.common_name = cases[i].cn;
		if (cases[i].o)
			r.organization = cases[i].o;
		assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
		if (!strstr(res.err, cases[i].want))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, res.err,
				 cases[i].want);
		assert_false(store_exists(&f->st, STORE_CSR));
	}
	/* the same with a peering name and the audit name */
	csr_default(&r);
	r.peering_name = "r1\r";
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	assert_non_null(strstr(res.err, "peering name: control character U+000D"));
	csr_default(&r);
	r.name = "x\x1b";
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	assert_non_null(strstr(res.err, "name: control character U+001B"));
	/* non-ASCII text is not a control character */
	csr_default(&r);
	r.common_name = "r1";
	r.locality = "Z\xc3\xbcrich \xc2\xa0";
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	free(res.pem);
	tpm_ctx_close(&t);
}

static void test_file_key_only_when_asked(void **state)
{
	struct fx *f = *state;
	enum tpm_key_storage kind;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	char *pem;

	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_FILE, NULL), 0);
	assert_int_equal(tpm_key_generate(&t, &f->st, false), 0);
	assert_int_equal(store_read(&f->st, STORE_KEY, &pem, NULL), 0);
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
	free(pem);
	assert_int_equal(tpm_key_storage_of(&f->st, &kind), 0);
	assert_int_equal(kind, TPM_KEY_STORAGE_FILE);
	csr_default(&r);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	free(res.pem);
	tpm_ctx_close(&t);
	/* A file key is never used when the TPM is configured. */
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	assert_non_null(strstr(res.err, "file key"));
	tpm_ctx_close(&t);
}

/* Each SAN kind's rule, without a TPM. */
static void test_san_rules(void **state)
{
	static const struct { enum csr_san_kind k; const char *v; int ok; } c[] = {
		{ CSR_SAN_DNS, "r1.example.net", 1 },
		{ CSR_SAN_DNS, "R1-b.Example.NET", 1 },
		{ CSR_SAN_DNS, "localhost", 1 },
		{ CSR_SAN_DNS, "xn--bcher-kva.example", 1 },
		{ CSR_SAN_DNS, "", 0 },
		{ CSR_SAN_DNS, "a..b", 0 },
		{ CSR_SAN_DNS, ".a", 0 },
		{ CSR_SAN_DNS, "a.", 0 },
		{ CSR_SAN_DNS, "-a.b", 0 },
		{ CSR_SAN_DNS, "a-.b", 0 },
		{ CSR_SAN_DNS, "a_b.c", 0 },
		{ CSR_SAN_DNS, "*.example.net", 0 },
		{ CSR_SAN_DNS, "a b", 0 },
		{ CSR_SAN_DNS, "a,DNS:evil", 0 },
		{ CSR_SAN_DNS, "b\xc3\xbc" "cher.example", 0 },
		{ CSR_SAN_DNS, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", 0 },
		{ CSR_SAN_IP, "192.0.2.1", 1 },
		{ CSR_SAN_IP, "2001:db8::1", 1 },
		{ CSR_SAN_IP, "::ffff:192.0.2.1", 1 },
		{ CSR_SAN_IP, "192.0.2", 0 },
		{ CSR_SAN_IP, "192.0.2.256", 0 },
		{ CSR_SAN_IP, "fe80::1%eth0", 0 },
		{ CSR_SAN_IP, "[2001:db8::1]", 0 },
		{ CSR_SAN_IP, "192.0.2.1/24", 0 },
		{ CSR_SAN_URI, "urn:ssr:peering:east-1", 1 },
		{ CSR_SAN_URI, "https://r1.example.net:8443/a?b=c#d", 1 },
		{ CSR_SAN_URI, "spiffe://example.org/router/r1", 1 },
		{ CSR_SAN_URI, "no-scheme", 0 },
		{ CSR_SAN_URI, "1http://x", 0 },
		{ CSR_SAN_URI, "http:", 0 },
		{ CSR_SAN_URI, "http://a b/", 0 },
		{ CSR_SAN_URI, "http://a\n/", 0 },
		{ CSR_SAN_URI, "http://\xc3\xa9.example/", 0 },
		{ CSR_SAN_EMAIL, "ops@example.net", 1 },
		{ CSR_SAN_EMAIL, "first.last+svr@r1.example.net", 1 },
		{ CSR_SAN_EMAIL, "ops", 0 },
		{ CSR_SAN_EMAIL, "@example.net", 0 },
		{ CSR_SAN_EMAIL, "ops@", 0 },
		{ CSR_SAN_EMAIL, "a@b@c", 0 },
		{ CSR_SAN_EMAIL, ".ops@example.net", 0 },
		{ CSR_SAN_EMAIL, "o..ps@example.net", 0 },
		{ CSR_SAN_EMAIL, "o ps@example.net", 0 },
		{ CSR_SAN_EMAIL, "ops@exa_mple.net", 0 },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int ret = csr_san_check(c[i].k, c[i].v, err, sizeof(err));

		if ((ret == 0) != c[i].ok)
			fail_msg("SAN %s \"%s\": %s", csr_san_kind_name(c[i].k),
				 c[i].v, ret ? err : "accepted");
		if (ret)
			assert_non_null(strstr(err, csr_san_kind_name(c[i].k)));
	}
}

static void test_san_add_limits(void **state)
{
	static char names[CSR_SAN_MAX + 1][32];
	struct csr_request r;
	char err[256];
	int i;

	memset(&r, 0, sizeof(r));
	assert_int_equal(csr_san_add(&r, CSR_SAN_IP, "192.0.2.1", err,
				     sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_IP, "192.0.2.1", err,
				     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	for (i = 0; i <= CSR_SAN_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d.example", i);
		assert_int_equal(csr_san_add(&r, CSR_SAN_DNS, names[i], err,
					     sizeof(err)),
				 i < CSR_SAN_MAX ? 0 : -E2BIG);
	}
	assert_int_equal(r.san[CSR_SAN_DNS].n, CSR_SAN_MAX);
	assert_non_null(strstr(err, "more than 16 SAN dns"));
}

/* Every SAN kind in the CSR, exactly and in order, the peering URI first
 * and once; the audit event lists them. */
static void test_csr_all_sans(void **state)
{
	static const char *const want[] = {
		"URI:urn:ssr:peering:east-1", "DNS:east-1.example.net",
		"IP Address:192.0.2.10", "IP Address:2001:DB8:0:0:0:0:0:A",
		"URI:https://east-1.example.net/", "email:noc@example.net",
	};
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	char err[256], path[4200], line[1024];
	json_t *ev, *sans;
	size_t i;

	generate_key(f);
	csr_default(&r);
	r.peering_name = "east-1";
	assert_int_equal(csr_san_add(&r, CSR_SAN_DNS, "east-1.example.net", err, sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_IP, "192.0.2.10", err, sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_IP, "2001:db8::a", err, sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_URI, "urn:ssr:peering:east-1", err, sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_URI, "https://east-1.example.net/", err, sizeof(err)), 0);
	assert_int_equal(csr_san_add(&r, CSR_SAN_EMAIL, "noc@example.net", err, sizeof(err)), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
	tpm_ctx_close(&t);
	free(res.pem);
	store_path(&f->st, STORE_CSR, path, sizeof(path));
	/* OpenSSL's own rendering of the extension, one line. */
	snprintf(line, sizeof(line), "%s", want[0]);
	for (i = 1; i < sizeof(want) / sizeof(want[0]); i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 ", %s", want[i]);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -text | grep -A1 "
				    "'Subject Alternative Name' | tail -1 | "
				    "sed 's/^ *//' | grep -qxF '%s'", path, line), 0);
	ev = last_audit_line(f);
	sans = json_object_get(json_object_get(ev, "detail"), "subject_alt_names");
	assert_int_equal(json_array_size(sans), 6);
	assert_string_equal(json_string_value(json_array_get(sans, 0)),
			    "URI:urn:ssr:peering:east-1");
	assert_string_equal(json_string_value(json_array_get(sans, 3)),
			    "IP:2001:db8::a");
	assert_string_equal(json_string_value(json_array_get(sans, 5)),
			    "email:noc@example.net");
	json_decref(ev);
}

/* A bad value put into the list directly (not through csr_san_add) is
 * still refused when the CSR is built; nothing is stored, it counts. */
static void test_csr_bad_san_rejected(void **state)
{
	struct fx *f = *state;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	json_t *cnt;

	generate_key(f);
	csr_default(&r);
	r.san[CSR_SAN_DNS].v[0] = "evil.example,IP:10.0.0.1";
	r.san[CSR_SAN_DNS].n = 1;
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), -EINVAL);
	tpm_ctx_close(&t);
	assert_non_null(strstr(res.err, "SAN dns \"evil.example,IP:10.0.0.1\""));
	assert_false(store_exists(&f->st, STORE_CSR));
	assert_int_equal(counters_load(&f->st, &cnt), 0);
	assert_int_equal(counters_get(cnt, "csr.failure"), 1);
	json_decref(cnt);
}

/* The CSR's signature digest follows the key: SHA-384 for P-384, SHA-512
 * for P-521, SHA-256 for RSA; no NULL parameter in the ECDSA AlgIds. */
static void test_csr_digest_by_key(void **state)
{
	static const struct { const char *alg, *curve, *sig; } c[] = {
		{ "EC", "P-384", "ecdsa-with-SHA384" },
		{ "EC", "P-521", "ecdsa-with-SHA512" },
		{ "RSA", NULL, "sha256WithRSAEncryption" },
	};
	struct fx *f = *state;
	struct tpm_key_spec spec;
	struct csr_request r;
	struct csr_result res;
	struct tpm_ctx t;
	char err[256], path[4200];
	size_t i;

	store_path(&f->st, STORE_CSR, path, sizeof(path));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(tpm_key_spec_parse(&spec, c[i].alg, c[i].curve, 0,
						    err, sizeof(err)), 0);
		assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
		assert_int_equal(tpm_key_generate_spec(&t, &f->st, &spec, true), 0);
		csr_default(&r);
		assert_int_equal(csr_generate(&t, &f->st, NULL, &r, &res), 0);
		tpm_ctx_close(&t);
		free(res.pem);
		assert_int_equal(fixture_sh("openssl req -in %s -verify -noout "
					    "2>/dev/null", path), 0);
		assert_int_equal(fixture_sh("openssl req -in %s -noout -text | grep "
					    "-q 'Signature Algorithm: %s'", path,
					    c[i].sig), 0);
		if (!strcmp(c[i].alg, "EC"))
			assert_int_equal(fixture_sh("openssl asn1parse -in %s | "
						    "tail -3 | grep -q NULL", path), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_generate_tpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_uuid_cn_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_peering_name_san, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_peering_name_cannot_inject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_and_uuid_file_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_without_key_fails_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_bad_country_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_control_characters_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_key_only_when_asked, setup, teardown),
		cmocka_unit_test(test_san_rules),
		cmocka_unit_test(test_san_add_limits),
		cmocka_unit_test_setup_teardown(test_csr_all_sans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_bad_san_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_digest_by_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
