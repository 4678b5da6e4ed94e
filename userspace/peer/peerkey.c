// SPDX-License-Identifier: GPL-2.0
/* The peer key schedule: offers on the wire and the derivation (peerkey.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "peerkey.h"

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void peerkey_offer_encode(const struct peerkey_offer *o, uint8_t out[PEERKEY_OFFER_LEN])
{
	memcpy(out, PEERKEY_MAGIC, 4);
	out[4] = PEERKEY_VERSION;
	out[5] = o->flags;
	put_be(out + 6, 0, 2);	/* reserved */
	put_be(out + 8, o->spi, 4);
	put_be(out + 12, o->index, 8);
}

int peerkey_offer_decode(const uint8_t *in, size_t len, struct peerkey_offer *o,
			 char *err, size_t errlen)
{
	const char *why = NULL;

	if (len != PEERKEY_OFFER_LEN)
		why = "wrong length";
	else if (memcmp(in, PEERKEY_MAGIC, 4))
		why = "not a key offer (magic)";
	else if (in[4] != PEERKEY_VERSION)
		why = "unsupported version";
	else if ((in[5] & ~(PEERKEY_F_READY | PEERKEY_F_REQUEST)) ||
		 in[5] == (PEERKEY_F_READY | PEERKEY_F_REQUEST) || in[6] || in[7])
		why = "unknown flags";
	else if (in[5] == PEERKEY_F_REQUEST && (get_be(in + 8, 4) || get_be(in + 12, 8)))
		why = "a request carries no SPI or index";
	else if (in[5] != PEERKEY_F_REQUEST && get_be(in + 8, 4) < PEERKEY_SPI_MIN)
		why = "reserved SPI";
	else if (get_be(in + 12, 8) == UINT64_MAX)
		why = "no key index left";
	if (why) {
		snprintf(err, errlen, "peer key offer refused: %s", why);
		return -EPROTO;
	}
	o->flags = in[5];
	o->spi = (uint32_t)get_be(in + 8, 4);
	o->index = get_be(in + 12, 8);
	return 0;
}

uint64_t peerkey_agree_index(const struct peerkey_offer *a, const struct peerkey_offer *b)
{
	return a->index > b->index ? a->index : b->index;
}

void peerkey_keys_wipe(struct peerkey_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* Marks a connection whose keys were derived: the exporter would repeat them. */
static int derived_idx = -1;
static pthread_once_t derived_once = PTHREAD_ONCE_INIT;

static void derived_init(void)
{
	derived_idx = SSL_get_ex_new_index(0, "peerkey derived", NULL, NULL, NULL);
}

static int check_args(SSL *ssl, const struct peerkey_offer *mine,
		      const struct peerkey_offer *theirs, uint64_t index)
{
	if (!SSL_is_init_finished(ssl) || SSL_version(ssl) != TLS1_3_VERSION)
		return -EPROTO;
	if (mine->spi < PEERKEY_SPI_MIN || theirs->spi < PEERKEY_SPI_MIN ||
	    index < peerkey_agree_index(mine, theirs))
		return -EINVAL;
	pthread_once(&derived_once, derived_init);
	if (derived_idx < 0)
		return -ENOMEM;
	if (SSL_get_ex_data(ssl, derived_idx))
		return -EALREADY;
	return 0;
}

int peerkey_derive(SSL *ssl, const struct peerkey_offer *mine,
		   const struct peerkey_offer *theirs, uint64_t index,
		   struct peerkey_keys *out)
{
	bool server = SSL_is_server(ssl);
	const struct peerkey_offer *c = server ? theirs : mine;
	const struct peerkey_offer *s = server ? mine : theirs;
	uint8_t ctx[16], k[2 * SVRCERT_XFRM_KEY_LEN];
	const uint8_t *c2s = k, *s2c = k + SVRCERT_XFRM_KEY_LEN;
	int err = check_args(ssl, mine, theirs, index);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	/* Marked first: even a failed export is not tried again on this handshake. */
	if (!SSL_set_ex_data(ssl, derived_idx, (void *)1))
		return -ENOMEM;
	put_be(ctx, c->spi, 4);
	put_be(ctx + 4, s->spi, 4);
	put_be(ctx + 8, index, 8);
	if (SSL_export_keying_material(ssl, k, sizeof(k), PEERKEY_LABEL,
				       strlen(PEERKEY_LABEL), ctx, sizeof(ctx), 1) != 1) {
		OPENSSL_cleanse(k, sizeof(k));
		return -EIO;
	}
	out->index = index;
	out->spi_in = mine->spi;
	out->spi_out = theirs->spi;
	memcpy(out->out, server ? s2c : c2s, SVRCERT_XFRM_KEY_LEN);
	memcpy(out->in, server ? c2s : s2c, SVRCERT_XFRM_KEY_LEN);
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}
