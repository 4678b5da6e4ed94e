/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A router's requests to a conductor for the conductor tests: libcurl over
 * mutual TLS, the body and ETag kept; the document checked as a router
 * checks it (svrcert_conductor_verify). Header-only.
 */
#ifndef SVRCERT_TEST_CONDUCTOR_FIXTURE_H
#define SVRCERT_TEST_CONDUCTOR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "crl/crl_gendoc.h"
#include "pki/conductor_doc.h"

struct resp {
	long code;
	uint8_t *body;
	size_t len;
	char etag[80];
	double secs;
	CURLcode rc;
};

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	uint8_t *b = realloc(r->body, r->len + sz * n + 1);

	if (!b)
		return 0;
	memcpy(b + r->len, p, sz * n);
	r->body = b;
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;

	if (n * sz > 6 && !strncasecmp(p, "ETag: ", 6))
		snprintf(r->etag, sizeof(r->etag), "%.*s",
			 (int)strcspn(p + 6, "\r\n"), p + 6);
	return sz * n;
}

/* METHOD https://127.0.0.1:PORT PATH with the certificate CERT and key
 * KEY; the conductor's chain is checked against CA (its name is not:
 * CN=r1 has no IP SAN). TIMEOUT_S 0: 20 s. HEADER (or NULL): one more
 * request header line, "Name: value". */
static __attribute__((unused)) struct resp
cd_request_hdr(uint16_t port, const char *cert, const char *key,
	       const char *ca, const char *method, const char *path,
	       long timeout_s, const char *header)
{
	struct resp r = { 0 };
	char url[512];
	CURL *h = curl_easy_init();
	struct curl_slist *hl = header ? curl_slist_append(NULL, header) : NULL;

	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s ? timeout_s : 20L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	if (hl)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (getenv("TEST_VERBOSE"))
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	r.rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r.secs);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	return r;
}

static __attribute__((unused)) struct resp
cd_request(uint16_t port, const char *cert, const char *key, const char *ca,
	   const char *method, const char *path, long timeout_s)
{
	return cd_request_hdr(port, cert, key, ca, method, path, timeout_s,
			      NULL);
}

/* R's document as a router takes it: signed by conductor NAME, chained to
 * TRUST; decoded into U (svrcert_gen_update_release). */
static __attribute__((unused)) void cd_verify(const struct resp *r,
					      X509_STORE *trust,
					      const char *name,
					      struct svrcert_gen_update *u)
{
	struct svrcert_validate_params vp = { .store = trust,
					      .expected_name = name };
	char err[400];

	assert_int_equal(r->code, 200);
	if (svrcert_conductor_verify(r->body, r->len, &vp, u, err, sizeof(err)))
		fail_msg("document refused: %s", err);
}

static __attribute__((unused)) void cd_epoch_hex(const uint8_t e[16],
						 char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", e[i]);
}

#endif
