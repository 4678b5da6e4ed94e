// SPDX-License-Identifier: GPL-2.0
/*
 * A certificate file read once (struct svrcert_input, pki.h): its PEM
 * blocks decoded, or its leading DER certificate, so that the import's
 * private-key scan and its certificate parse share one decode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki.h"
#include "lib/util.h"

static bool pem_eof(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	       ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

static int push_block(struct svrcert_input *in, char *label,
		      unsigned char *der, long len)
{
	struct svrcert_pem_block *v;

	if (in->n == in->cap) {
		size_t ncap = in->cap ? in->cap * 2 : 4;

		v = reallocarray(in->blocks, ncap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		in->blocks = v;
		in->cap = ncap;
	}
	in->blocks[in->n++] = (struct svrcert_pem_block){ label, der, len };
	return 0;
}

/* Every PEM block up to the first that does not read. A failed read
 * always queues its reason last, so the queue is cleared once, not
 * before every block (clearing it is not cheap). */
static int read_pem(struct svrcert_input *in)
{
	BIO *bio = BIO_new_mem_buf(in->buf, (int)in->len);
	int ret = bio ? 0 : -ENOMEM;

	ERR_clear_error();
	while (!ret) {
		char *label = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;

		if (!PEM_read_bio(bio, &label, &header, &data, &dlen)) {
			in->malformed = !pem_eof();
			break;
		}
		OPENSSL_free(header);
		ret = push_block(in, label, data, dlen);
		if (ret) {
			OPENSSL_free(label);
			OPENSSL_free(data);
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	return ret;
}

int svrcert_input_read(struct svrcert_input *in, const uint8_t *buf,
		       size_t len)
{
	const unsigned char *p = buf;
	int ret = 0;

	memset(in, 0, sizeof(*in));
	in->buf = buf;
	in->len = len;
	if (len > INT32_MAX)
		return 0;	/* too large: each step says so */
	in->pem = memmem(buf, len, "-----BEGIN", 10) != NULL;
	if (in->pem) {
		in->text = svrcert_is_text(buf, len);
		ret = read_pem(in);
	} else {
		in->der_cert = d2i_X509(NULL, &p, (long)len);
		in->der_cert_len = in->der_cert ? (size_t)(p - buf) : 0;
		ERR_clear_error();
	}
	if (ret)
		svrcert_input_free(in);
	return ret;
}

void svrcert_input_free(struct svrcert_input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		OPENSSL_free(in->blocks[i].label);
		OPENSSL_free(in->blocks[i].der);
	}
	free(in->blocks);
	X509_free(in->der_cert);
	memset(in, 0, sizeof(*in));
}

/* One PEM block: must be a certificate whose DER is consumed exactly. */
static int pem_block_cert(const char *label, const unsigned char *data,
			  long dlen, int blockno, STACK_OF(X509) *sk,
			  char *msg, size_t msglen)
{
	const unsigned char *p = data;
	X509 *x;

	/* RFC 7468 section 5.3: parsers accept the legacy "X509 CERTIFICATE". */
	if (strcmp(label, PEM_STRING_X509) && strcmp(label, PEM_STRING_X509_OLD)) {
		snprintf(msg, msglen, "PEM block %d is \"%s\", not a CERTIFICATE",
			 blockno, label);
		return -EBADMSG;
	}
	x = d2i_X509(NULL, &p, dlen);
	if (!x || p != data + dlen) {
		X509_free(x);
		snprintf(msg, msglen, "PEM block %d: not a valid X.509 certificate",
			 blockno);
		return -EBADMSG;
	}
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return -ENOMEM;
	}
	return 0;
}

static int certs_from_pem(const struct svrcert_input *in, STACK_OF(X509) *sk,
			  char *msg, size_t msglen)
{
	int ret = 0;
	size_t i;

	for (i = 0; !ret && i < in->n; i++)
		ret = pem_block_cert(in->blocks[i].label, in->blocks[i].der,
				     in->blocks[i].len, (int)i + 1, sk, msg,
				     msglen);
	ERR_clear_error();
	if (!ret && in->malformed) {
		snprintf(msg, msglen, "PEM block %zu is malformed", in->n + 1);
		ret = -EBADMSG;
	}
	if (!ret && !in->text) {
		snprintf(msg, msglen, "binary data in a PEM file");
		ret = -EBADMSG;
	}
	return ret;
}

/* The DER certificate, which must fill the file. */
static int certs_from_der(const struct svrcert_input *in, STACK_OF(X509) *sk,
			  char *msg, size_t msglen)
{
	if (!in->der_cert)
		return 0;
	if (in->der_cert_len != in->len) {
		snprintf(msg, msglen, "trailing data after the DER certificate");
		return -EBADMSG;
	}
	if (!X509_up_ref(in->der_cert))
		return -ENOMEM;
	if (!sk_X509_push(sk, in->der_cert)) {
		X509_free(in->der_cert);
		return -ENOMEM;
	}
	return 0;
}

int svrcert_certs_from_input(const struct svrcert_input *in,
			     STACK_OF(X509) **out, char *msg, size_t msglen)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int ret;

	snprintf(msg, msglen, "no certificate found");
	if (!sk)
		return -ENOMEM;
	if (in->len > INT32_MAX)
		ret = -EFBIG;
	else if (in->pem)
		ret = certs_from_pem(in, sk, msg, msglen);
	else
		ret = certs_from_der(in, sk, msg, msglen);
	if (!ret && sk_X509_num(sk) == 0)
		ret = -ENOENT;
	if (ret < 0) {
		sk_X509_pop_free(sk, X509_free);
		return ret;
	}
	msg[0] = '\0';
	*out = sk;
	return sk_X509_num(sk);
}

int svrcert_certs_from_buf(const uint8_t *buf, size_t len,
			   STACK_OF(X509) **out, char *msg, size_t msglen)
{
	struct svrcert_input in;
	int ret = svrcert_input_read(&in, buf, len);

	if (ret) {
		snprintf(msg, msglen, "no certificate found");
		return ret;
	}
	ret = svrcert_certs_from_input(&in, out, msg, msglen);
	svrcert_input_free(&in);
	return ret;
}
