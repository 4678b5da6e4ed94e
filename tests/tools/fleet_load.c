// SPDX-License-Identifier: GPL-2.0
/*
 * fleet_load - many light routers at one conductor, for scripts/bench-fleet
 * when N svrcertd do not fit (N = 1 000 routers each holding a 1 M-key
 * list would need ~100 GB).
 *
 *   fleet_load -u URL -n N -a CA.pem -k KEY -c CERTDIR -N NAME -m MASTER
 *              -U UPDATES [-t SECS]
 *
 * Each router is one libcurl easy handle in one curl multi (no thread per
 * router), with its own certificate CERTDIR/r<i>.pem and the shared KEY,
 * TLS 1.3 with the CA as trust anchor. It does what svrcertd's `[crl]
 * conductor` source does per answer, with the same library code: the
 * document checked by svrcert_conductor_verify() (CMS signature, the
 * signer's certificate by the runtime rules, identity NAME) and applied by
 * svrcert_gen_held_apply() to its held state, then the next long-poll
 * `?epoch=E&since=G&wait=60` at once. What it leaves out: the master list
 * and its publication (master.bin), the kernel, the audit; the server
 * certificate is checked by OpenSSL's chain verification in the handshake
 * (svrcertd applies the runtime rules there too).
 *
 * Memory: router 0 fetches and holds the full set; every other router
 * starts holding the same epoch and generation but only the keys that
 * change after it (a delta that adds keys applies to it exactly as to the
 * full set; svrcert_gen_held_apply checks removed keys against what is
 * held, so a delta removing a key of the base would be refused: the
 * benchmark only adds).
 *
 * Routers connect in batches of 25 (each batch's requests sent before the
 * next); then "ready N" is printed. The conductor's MASTER (its
 * master.bin, and master.delta beside it: shared/publist.h) is watched:
 * the k-th change of its list (count and XOR of the keys) after ready is
 * generation G0 + k, and its publish time (the newer file's mtime) the
 * ingest time. For each generation every
 * router's apply is timed from the ingest; "applied gen=G routers=N" is
 * printed when all have it. After UPDATES generations (or SECS, default
 * 900, without progress) one line per router and generation:
 *   router r<i> latency_s=L gen=G recv_s=R check_s=C
 * (R: the answer complete, read by curl; L: verified and applied; C: that
 * router's check and apply alone. The routers share this process's CPU:
 * L - R - C is waiting for the others' checks, which N real routers would
 * make at once, each on its own CPU: R + C is what one of them would see.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <openssl/pem.h>

#include "crl/crl_gendoc.h"
#include "crl/crl_master.h"
#include "pki/conductor_doc.h"
#include "pki/validate.h"
#include "shared/publist.h"

#define MAX_GENS 64

struct router {
	CURL *h;
	char cert[4200];
	unsigned char *body;
	size_t len, cap;
	struct svrcert_gen_held held;
	double recv[MAX_GENS], applied[MAX_GENS], check[MAX_GENS];
};

static struct {
	const char *url, *ca, *key, *certdir, *name, *master;
	int n, updates;
	double timeout;
	struct router *r;
	X509_STORE *store;
	uint64_t g0;
	double ingest[MAX_GENS];
	int seen;		/* list changes seen since ready */
	struct publist list;	/* the conductor's */
	struct publist_cache cache;
	uint64_t count;		/* its last list */
	uint8_t fold[PUBLIST_KEY];
} L;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static size_t body_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct router *r = arg;
	size_t n = sz * nm;

	if (r->len + n > r->cap) {
		size_t cap = (r->len + n) * 2;
		unsigned char *b = realloc(r->body, cap);

		if (!b)
			return 0;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, n);
	r->len += n;
	return n;
}

/* The conductor's list, when it can be read: true when it is not the one
 * seen last. */
static bool master_changed(void)
{
	publist_poll(&L.list, &L.cache, true);
	if (!L.list.known || (L.list.count == L.count &&
			      !memcmp(L.list.fold, L.fold, PUBLIST_KEY)))
		return false;
	L.count = L.list.count;
	memcpy(L.fold, L.list.fold, PUBLIST_KEY);
	return true;
}

static void watch_master(void)
{
	if (L.seen < MAX_GENS - 1 && master_changed())
		L.ingest[++L.seen] = L.list.published;
}

static void request(struct router *r)
{
	char url[600], e[2 * SVRCERT_GEN_EPOCH_LEN + 1];
	int i;

	if (r->held.have) {
		for (i = 0; i < SVRCERT_GEN_EPOCH_LEN; i++)
			sprintf(e + 2 * i, "%02x", r->held.epoch[i]);
		snprintf(url, sizeof(url), "%s/v1/revocation?epoch=%s&since=%llu&wait=60",
			 L.url, e, (unsigned long long)r->held.gen);
	} else {
		snprintf(url, sizeof(url), "%s/v1/revocation", L.url);
	}
	r->len = 0;
	curl_easy_setopt(r->h, CURLOPT_URL, url);
}

static void router_init(struct router *r, int i, CURLM *m)
{
	snprintf(r->cert, sizeof(r->cert), "%s/r%d.pem", L.certdir, i);
	r->h = curl_easy_init();
	curl_easy_setopt(r->h, CURLOPT_SSLCERT, r->cert);
	curl_easy_setopt(r->h, CURLOPT_SSLKEY, L.key);
	curl_easy_setopt(r->h, CURLOPT_CAINFO, L.ca);
	curl_easy_setopt(r->h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(r->h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 180L);
	request(r);
	curl_multi_add_handle(m, r->h);
}

/* An answer: verified and applied as svrcertd does; false on a failure
 * (reported; the router then asks again). */
static bool take(struct router *r, long code, double t)
{
	struct svrcert_validate_params vp = { .store = L.store,
					      .expected_name = L.name };
	struct svrcert_gen_update u = { 0 };
	double t0 = now_s();
	char err[512];
	int k;

	if (code == 304)
		return true;
	if (code != 200) {
		fprintf(stderr, "fleet_load: %s: HTTP %ld\n", r->cert, code);
		return false;
	}
	if (svrcert_conductor_verify(r->body, r->len, &vp, &u, err, sizeof(err)) ||
	    svrcert_gen_held_apply(&r->held, &u, err, sizeof(err))) {
		fprintf(stderr, "fleet_load: %s: %s\n", r->cert, err);
		svrcert_gen_update_release(&u);
		return false;
	}
	svrcert_gen_update_release(&u);
	k = (int)(r->held.gen - L.g0);
	if (L.g0 && k > 0 && k < MAX_GENS) {
		r->recv[k] = t;
		r->applied[k] = now_s();
		r->check[k] = r->applied[k] - t0;
	}
	return true;
}

/* Drive until DONE(arg) or SECS pass; false on the timeout. The answers
 * curl completed are collected with their time first, then checked: the
 * checks of 1 000 routers run one after the other in this process, and an
 * answer's time must not include the checks of the answers before it. */
static bool drive(CURLM *m, double secs, bool (*done)(void *), void *arg)
{
	double end = now_s() + secs, t;
	struct router **got = calloc(L.n, sizeof(*got));
	long *code = calloc(L.n, sizeof(*code));
	int running, left, ng, i;
	CURLMsg *msg;
	bool ok = true;

	while (!done(arg)) {
		if (now_s() > end) {
			ok = false;
			break;
		}
		curl_multi_perform(m, &running);
		t = now_s();
		ng = 0;
		while ((msg = curl_multi_info_read(m, &left))) {
			struct router *r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code[ng]);
			if (msg->data.result != CURLE_OK) {
				fprintf(stderr, "fleet_load: %s: %s\n", r->cert,
					curl_easy_strerror(msg->data.result));
				code[ng] = 0;
			}
			got[ng++] = r;
		}
		for (i = 0; i < ng; i++) {
			if (code[i])
				take(got[i], code[i], t);
			curl_multi_remove_handle(m, got[i]->h);
			request(got[i]);
			curl_multi_add_handle(m, got[i]->h);
		}
		if (L.g0)
			watch_master();
		curl_multi_poll(m, NULL, 0, 5, NULL);
	}
	free(got);
	free(code);
	return ok;
}

static bool first_held(void *arg)
{
	return ((struct router *)arg)->held.have;
}

struct upto {
	int from, to;
};

/* Every router of the batch has sent its request (waits at the conductor). */
static bool batch_sent(void *arg)
{
	struct upto *b = arg;
	curl_off_t t;
	int i;

	for (i = b->from; i < b->to; i++)
		if (curl_easy_getinfo(L.r[i].h, CURLINFO_PRETRANSFER_TIME_T, &t) ||
		    t <= 0)
			return false;
	return true;
}

static int gen_done;

static bool all_applied(void *arg)
{
	int k = *(int *)arg, i;

	for (i = 0; i < L.n; i++)
		if (!L.r[i].applied[k])
			return false;
	return true;
}

static X509_STORE *ca_store(const char *path)
{
	X509_STORE *s = svrcert_store_new();
	FILE *f = fopen(path, "r");
	X509 *x;

	while (s && f && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		X509_STORE_add_cert(s, x);
		X509_free(x);
	}
	if (f)
		fclose(f);
	return s;
}

static void report(void)
{
	int i, k;

	for (k = 1; k <= gen_done; k++)
		for (i = 0; i < L.n; i++) {
			double l = L.r[i].applied[k] - L.ingest[k];
			double rc = L.r[i].recv[k] - L.ingest[k];

			printf("router r%d latency_s=%.4f gen=%llu recv_s=%.4f check_s=%.4f\n",
			       i, l < 0 ? 0 : l, (unsigned long long)(L.g0 + k),
			       rc < 0 ? 0 : rc, L.r[i].check[k]);
		}
}

static int run(void)
{
	CURLM *m = curl_multi_init();
	struct upto b;
	int i, k;

	L.r = calloc(L.n, sizeof(*L.r));
	router_init(&L.r[0], 0, m);
	if (!drive(m, 120, first_held, &L.r[0])) {
		fprintf(stderr, "fleet_load: no full set within 120 s\n");
		return 1;
	}
	for (i = 1; i < L.n; i++) {	/* the same state, without the base's keys */
		L.r[i].held = L.r[0].held;
		L.r[i].held.keys = NULL;
		L.r[i].held.n = 0;
	}
	for (i = 1; i < L.n; i++) {
		router_init(&L.r[i], i, m);
		if (i % 25 == 0 || i == L.n - 1) {
			b.from = i - (i - 1) % 25;
			b.to = i + 1;
			if (!drive(m, 120, batch_sent, &b)) {
				fprintf(stderr, "fleet_load: routers %d-%d not connected\n",
					b.from, b.to - 1);
				return 1;
			}
		}
	}
	L.g0 = L.r[0].held.gen;
	if (publist_init(&L.list, L.master, L.master))
		return 1;
	for (i = 0; i < 200 && !master_changed(); i++)
		usleep(5000);
	if (!L.list.known) {
		fprintf(stderr, "fleet_load: cannot read %s\n", L.master);
		return 1;
	}
	printf("ready %d gen=%llu\n", L.n, (unsigned long long)L.g0);
	fflush(stdout);
	for (k = 1; k <= L.updates && k < MAX_GENS; k++) {
		if (!drive(m, L.timeout, all_applied, &k)) {
			fprintf(stderr, "fleet_load: generation %llu not applied by every router\n",
				(unsigned long long)(L.g0 + k));
			break;
		}
		gen_done = k;
		printf("applied gen=%llu routers=%d\n", (unsigned long long)(L.g0 + k), L.n);
		fflush(stdout);
	}
	report();
	return gen_done == L.updates ? 0 : 1;
}

int main(int argc, char **argv)
{
	int c;

	L.timeout = 900;
	while ((c = getopt(argc, argv, "u:n:a:k:c:N:m:U:t:")) != -1) {
		switch (c) {
		case 'u': L.url = optarg; break;
		case 'n': L.n = atoi(optarg); break;
		case 'a': L.ca = optarg; break;
		case 'k': L.key = optarg; break;
		case 'c': L.certdir = optarg; break;
		case 'N': L.name = optarg; break;
		case 'm': L.master = optarg; break;
		case 'U': L.updates = atoi(optarg); break;
		case 't': L.timeout = atof(optarg); break;
		default: return 2;
		}
	}
	if (!L.url || L.n < 1 || !L.ca || !L.key || !L.certdir || !L.name ||
	    !L.master || L.updates < 1 || L.updates >= MAX_GENS) {
		fprintf(stderr, "usage: fleet_load -u URL -n N -a CA -k KEY -c CERTDIR -N NAME -m MASTER -U UPDATES [-t SECS]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	L.store = ca_store(L.ca);
	return L.store ? run() : 2;
}
