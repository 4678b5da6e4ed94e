// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for what a router reads from its conductor
 * (userspace/crl/crl_gendoc.h, Documentation/conductor.md): the CMS
 * SignedData around an update, the update's DER content, applying it to a
 * held state, and the held state's file.
 *
 * A mutated document almost never keeps a valid signature, so the input is
 * also fed straight to the content decoder (what runs on signed data only)
 * and, decoded, applied to a held state of a few keys, as a delta would be.
 * An input that starts like a key delta (crl_keydelta.h) is read as the
 * conductor-held.delta beside a held base of three keys: once as it is,
 * and once with the base's checksum and its own checksum put right, so
 * that the checks after them (sizes, order, the fit to the base) are
 * reached too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl/crl_gendoc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char held_path[64], delta_path[80];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(held_path, sizeof(held_path), "/tmp/fuzz_gendoc.%d.bin", getpid());
	svrcert_keydelta_path(held_path, delta_path, sizeof(delta_path));
	return 0;
}

/* A held state the update may apply to: generation 1 of an all-zero
 * epoch, three keys. */
static void held_init(struct svrcert_gen_held *h)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->keys = calloc(3, sizeof(*h->keys));
	if (!h->keys)
		return;
	for (i = 0; i < 3; i++)
		memset(&h->keys[i], (int)(i + 1) * 0x11, sizeof(h->keys[i]));
	h->have = true;
	h->gen = 1;
	h->n = 3;
}

static void decode_apply(const uint8_t *der, size_t len)
{
	struct svrcert_gen_update u;
	struct svrcert_gen_held h;
	char err[256];

	memset(&u, 0, sizeof(u));
	if (svrcert_gendoc_decode(der, len, &u, err, sizeof(err)))
		return;
	held_init(&h);
	svrcert_gen_held_apply(&h, &u, err, sizeof(err));
	svrcert_gen_held_release(&h);
	svrcert_gen_update_release(&u);
}

static void open_doc(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = NULL;
	X509 *signer = NULL;
	uint8_t *content = NULL;
	size_t clen = 0;
	char err[256];

	if (!svrcert_gendoc_open(data, size, &content, &clen, &signer, &certs,
				 err, sizeof(err)))
		decode_apply(content, clen);
	free(content);
	X509_free(signer);
	sk_X509_pop_free(certs, X509_free);
}

/* The held-state file as a restarted router reads it. */
static void load_held(const uint8_t *data, size_t size)
{
	struct svrcert_gen_held h;
	char err[256];
	FILE *f = fopen(held_path, "w");

	if (!f)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
	memset(&h, 0, sizeof(h));
	if (!svrcert_gen_held_load(held_path, &h, err, sizeof(err)))
		svrcert_gen_held_release(&h);
	unlink(held_path);
}

/* Read back the held base (three keys, written here) and DATA as its
 * delta. */
static void load_with_delta(const uint8_t *data, size_t size)
{
	struct svrcert_gen_held h;
	char err[256];
	FILE *f;

	held_init(&h);
	if (svrcert_gen_held_save(held_path, &h, err, sizeof(err)) ||
	    !(f = fopen(delta_path, "w"))) {
		svrcert_gen_held_release(&h);
		return;
	}
	svrcert_gen_held_release(&h);
	fwrite(data, 1, size, f);
	fclose(f);
	if (!svrcert_gen_held_load(held_path, &h, err, sizeof(err)))
		svrcert_gen_held_release(&h);
	unlink(delta_path);
	unlink(held_path);
}

/* DATA with bytes 16..47 the held base's checksum and 104..135 its own:
 * past the two checks a mutation almost never passes. */
static void load_fixed_delta(const uint8_t *data, size_t size)
{
	uint8_t *b, base[96];
	struct svrcert_gen_held h;
	EVP_MD_CTX *c;
	char err[256];
	FILE *f;

	if (size < SVRCERT_KEYDELTA_HDR_LEN || !(b = malloc(size)))
		return;
	memcpy(b, data, size);
	held_init(&h);
	svrcert_gen_held_save(held_path, &h, err, sizeof(err));
	svrcert_gen_held_release(&h);
	f = fopen(held_path, "r");
	if (f && fread(base, 1, sizeof(base), f) == sizeof(base))
		memcpy(b + 16, base + 56, 32);	/* the held file's checksum */
	if (f)
		fclose(f);
	c = EVP_MD_CTX_new();
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, b, 104) &&
	    EVP_DigestUpdate(c, b + SVRCERT_KEYDELTA_HDR_LEN,
			     size - SVRCERT_KEYDELTA_HDR_LEN) &&
	    EVP_DigestFinal_ex(c, b + 104, NULL))
		load_with_delta(b, size);
	EVP_MD_CTX_free(c);
	unlink(held_path);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_doc(data, size);
	decode_apply(data, size);
	if (size >= 8 && !memcmp(data, SVRCERT_GEN_HELD_MAGIC, 8))
		load_held(data, size);
	if (size >= 8 && !memcmp(data, SVRCERT_KEYDELTA_MAGIC, 8)) {
		load_with_delta(data, size);
		load_fixed_delta(data, size);
	}
	return 0;
}
