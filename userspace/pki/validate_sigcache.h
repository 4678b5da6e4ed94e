/* SPDX-License-Identifier: GPL-2.0 */
/* The signature cache's part in chain verification (validate_chain.c);
 * its public API is in validate.h. */
#ifndef SVRCERT_VALIDATE_SIGCACHE_H
#define SVRCERT_VALIDATE_SIGCACHE_H

#include <stdbool.h>
#include <openssl/x509_vfy.h>
#include "validate.h"

/*
 * The verify step of X509_verify_cert (X509_STORE_CTX_set_verify): when
 * every link of the built chain is in C, OpenSSL 3's internal walk without
 * the signature computations; otherwise FULL, OpenSSL's own walk, and
 * *FULL_WALK is set (the caller then learns the chain if it verified).
 */
int svrcert_sigcache_walk(struct svrcert_sigcache *c, X509_STORE_CTX *ctx,
			  X509_STORE_CTX_verify_fn full, bool *full_walk);
/* Every link of CHAIN (subject at i, issuer at i + 1), after OpenSSL's walk
 * found no signature problem in it. */
void svrcert_sigcache_learn(struct svrcert_sigcache *c, STACK_OF(X509) *chain);

#endif
