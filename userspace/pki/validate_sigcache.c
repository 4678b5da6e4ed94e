// SPDX-License-Identifier: GPL-2.0
/*
 * Signatures already verified (validate.h, "svrcert_sigcache"): a peer
 * judged at every rekey presents the same certificate each time, and the
 * CA's signature on it costs as much as the handshake's own verification.
 *
 * Set-associative: 4 ways per set, the set chosen by the digests' first
 * bytes (SHA-256: uniform), the least recently used way of a full set
 * evicted. Fixed size, allocated once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "validate_sigcache.h"

#define WAYS		4
#define FP_LEN		32
#define CHAIN_MAX	16	/* longer chains: OpenSSL's walk */

struct sig_entry {
	uint8_t subject[FP_LEN], issuer[FP_LEN];
	uint64_t used;			/* LRU stamp; 0: empty */
};

struct svrcert_sigcache {
	struct sig_entry *e;
	size_t sets;
	uint64_t clock;
	EVP_MD *sha256;
	struct svrcert_sigcache_stats st;
};

struct svrcert_sigcache *svrcert_sigcache_new(size_t entries)
{
	struct svrcert_sigcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sets = entries ? (entries + WAYS - 1) / WAYS : 1;
	c->e = calloc(c->sets * WAYS, sizeof(*c->e));
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!c->e || !c->sha256) {
		svrcert_sigcache_free(c);
		return NULL;
	}
	c->st.capacity = c->sets * WAYS;
	return c;
}

void svrcert_sigcache_free(struct svrcert_sigcache *c)
{
	if (!c)
		return;
	free(c->e);
	EVP_MD_free(c->sha256);
	free(c);
}

void svrcert_sigcache_get_stats(const struct svrcert_sigcache *c,
				struct svrcert_sigcache_stats *out)
{
	*out = c->st;
}

static int digest(struct svrcert_sigcache *c, X509 *x, uint8_t out[FP_LEN])
{
	unsigned int n = 0;

	if (X509_digest(x, c->sha256, out, &n) != 1 || n != FP_LEN) {
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

static struct sig_entry *set_of(struct svrcert_sigcache *c, const uint8_t *s,
				const uint8_t *i)
{
	uint64_t a, b;

	memcpy(&a, s, sizeof(a));
	memcpy(&b, i, sizeof(b));
	return &c->e[((a ^ b) % c->sets) * WAYS];
}

/* The entry of the pair, its use stamped; NULL if not known. */
static struct sig_entry *lookup(struct svrcert_sigcache *c, const uint8_t *s,
				const uint8_t *i)
{
	struct sig_entry *set = set_of(c, s, i);

	for (int w = 0; w < WAYS; w++)
		if (set[w].used && !memcmp(set[w].subject, s, FP_LEN) &&
		    !memcmp(set[w].issuer, i, FP_LEN)) {
			set[w].used = ++c->clock;
			return &set[w];
		}
	return NULL;
}

static void insert(struct svrcert_sigcache *c, const uint8_t *s, const uint8_t *i)
{
	struct sig_entry *set = set_of(c, s, i), *victim = &set[0];

	if (lookup(c, s, i))
		return;
	for (int w = 1; w < WAYS; w++)
		if (set[w].used < victim->used)
			victim = &set[w];
	if (victim->used)
		c->st.evicted++;
	else
		c->st.used++;
	memcpy(victim->subject, s, FP_LEN);
	memcpy(victim->issuer, i, FP_LEN);
	victim->used = ++c->clock;
	c->st.added++;
}

int svrcert_sigcache_add(struct svrcert_sigcache *c, X509 *subject, X509 *issuer)
{
	uint8_t s[FP_LEN], i[FP_LEN];

	if (digest(c, subject, s) || digest(c, issuer, i))
		return -EINVAL;
	insert(c, s, i);
	return 0;
}

void svrcert_sigcache_learn(struct svrcert_sigcache *c, STACK_OF(X509) *chain)
{
	for (int d = 0; d + 1 < sk_X509_num(chain); d++)
		svrcert_sigcache_add(c, sk_X509_value(chain, d),
				     sk_X509_value(chain, d + 1));
}

/* ---- the walk ---------------------------------------------------------- */

/* OpenSSL's verify_cb_cert (crypto/x509/x509_vfy.c): report ERR at DEPTH
 * to the callback, which decides whether verification goes on. */
static int cb_fail(X509_STORE_CTX *ctx, X509 *x, int depth, int err)
{
	X509_STORE_CTX_set_error_depth(ctx, depth);
	X509_STORE_CTX_set_current_cert(ctx, x);
	X509_STORE_CTX_set_error(ctx, err);
	return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx);
}

/* ossl_x509_check_cert_time, depth >= 0. */
static int dates_ok(X509_STORE_CTX *ctx, X509 *x, int depth)
{
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	unsigned long flags = X509_VERIFY_PARAM_get_flags(vp);
	time_t t, *pt = NULL;
	int i;

	if (flags & X509_V_FLAG_USE_CHECK_TIME) {
		t = X509_VERIFY_PARAM_get_time(vp);
		pt = &t;
	} else if (flags & X509_V_FLAG_NO_CHECK_TIME) {
		return 1;
	}
	i = X509_cmp_time(X509_get0_notBefore(x), pt);
	if ((i == 0 && !cb_fail(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD)) ||
	    (i > 0 && !cb_fail(ctx, x, depth, X509_V_ERR_CERT_NOT_YET_VALID)))
		return 0;
	i = X509_cmp_time(X509_get0_notAfter(x), pt);
	if ((i == 0 && !cb_fail(ctx, x, depth, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD)) ||
	    (i < 0 && !cb_fail(ctx, x, depth, X509_V_ERR_CERT_HAS_EXPIRED)))
		return 0;
	return 1;
}

/*
 * The walk can skip OpenSSL's: the chain ends in a self-signed anchor whose
 * own signature OpenSSL would not check either (no CHECK_SS_SIGNATURE), no
 * proxy certificate, and every link is known. (No DANE: only libssl sets
 * it, on contexts of its own.)
 */
static bool known_chain(struct svrcert_sigcache *c, X509_STORE_CTX *ctx,
			STACK_OF(X509) *chain, int n)
{
	uint8_t fp[2][FP_LEN];

	if (n < 1 || n >= CHAIN_MAX ||
	    (X509_VERIFY_PARAM_get_flags(X509_STORE_CTX_get0_param(ctx)) &
	     X509_V_FLAG_CHECK_SS_SIGNATURE) ||
	    X509_self_signed(sk_X509_value(chain, n), 0) != 1)
		return false;
	if (digest(c, sk_X509_value(chain, n), fp[n % 2]))
		return false;
	for (int d = n - 1; d >= 0; d--) {
		X509 *xs = sk_X509_value(chain, d);

		if ((X509_get_extension_flags(xs) & EXFLAG_PROXY) ||
		    digest(c, xs, fp[d % 2]) || !lookup(c, fp[d % 2], fp[(d + 1) % 2]))
			return false;
	}
	return true;
}

/*
 * internal_verify of OpenSSL 3 (crypto/x509/x509_vfy.c) for a known chain:
 * from the anchor down, the issuer's key usage, the dates and the
 * callback's "ok" at each depth, in its order and with its error codes;
 * only X509_verify() is left out.
 */
int svrcert_sigcache_walk(struct svrcert_sigcache *c, X509_STORE_CTX *ctx,
			  X509_STORE_CTX_verify_fn full, bool *full_walk)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = sk_X509_num(chain) - 1;

	if (!known_chain(c, ctx, chain, n)) {
		c->st.misses++;
		*full_walk = true;
		return full(ctx);
	}
	c->st.hits++;
	X509_STORE_CTX_set_error_depth(ctx, n);
	for (int d = n; d >= 0; d--) {
		X509 *xs = sk_X509_value(chain, d), *xi;

		if (d < n) {
			xi = sk_X509_value(chain, d + 1);
			if (!(X509_get_key_usage(xi) & KU_KEY_CERT_SIGN) &&
			    !cb_fail(ctx, xi, d + 1, X509_V_ERR_KEYUSAGE_NO_CERTSIGN))
				return 0;
		}
		if (!dates_ok(ctx, xs, d))
			return 0;
		X509_STORE_CTX_set_current_cert(ctx, xs);
		X509_STORE_CTX_set_error_depth(ctx, d);
		if (!X509_STORE_CTX_get_verify_cb(ctx)(1, ctx))
			return 0;
	}
	return 1;
}
