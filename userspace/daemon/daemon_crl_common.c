// SPDX-License-Identifier: GPL-2.0
/*
 * What the CRL manager's parts (daemon_crl*.c) share: counting without
 * waiting for the state lock, and the trusted CAs CRLs are verified with.
 */
#include <errno.h>
#include <syslog.h>

#include <openssl/x509.h>

#include "lib/counters.h"
#include "daemon.h"
#include "daemon_crl_int.h"
#include "pki/held_revs.h"
#include "pki/import_trust.h"

/* ---- counters: never wait for the state lock (svrcertctl may hold it
 * across a TPM operation); what cannot be counted now is counted later. */

void crl_count(struct crl_mgr *crl, enum svrcert_counter c)
{
	crl->pending[c]++;
}

void crl_flush_counters(struct crl_mgr *crl)
{
	struct svrcert_store *st = &crl->d->env.st;
	unsigned int c;

	for (c = 0; c < CNT__MAX; c++) {
		while (crl->pending[c]) {
			if (store_trylock(st))
				return;
			if (counters_inc(st, (enum svrcert_counter)c, NULL))
				crl->pending[c] = 1;	/* give up this one */
			store_unlock(st);
			crl->pending[c]--;
		}
	}
}

/* ---- trusted CAs: the installed bundles, read at each use so a bundle
 * added with "svrcertctl trusted-ca add" counts from the next fetch on. */

STACK_OF(X509) *crl_trusted_certs(const struct crl_mgr *crl)
{
	X509_STORE *store = NULL;
	STACK_OF(X509) *certs;
	char err[512];

	if (trust_store_build(&crl->d->env.st, crl->d->env.have_cfg ?
			      &crl->d->env.cfg : NULL, &store, err,
			      sizeof(err))) {
		syslog(LOG_WARNING, "CRL: no trusted CA to verify CRLs with: %s",
		       err);
		return sk_X509_new_null();
	}
	certs = X509_STORE_get1_all_certs(store);
	X509_STORE_free(store);
	return certs ? certs : sk_X509_new_null();
}

/* ---- the held revocations the judges check (pki/held_revs.h): lent, so
 * that a change of the list costs them no parsing of the CRLs again. */

/* The master list now in force; the files written so far are read by the
 * judges again until the next publish vouches for them. */
void crl_held_lend(struct crl_mgr *crl)
{
	if (crl->have_master)
		svrcert_held_lend(&crl->d->held, crl->master.keys, crl->master.n);
	else
		svrcert_held_unlend(&crl->d->held);
}

/* After a publish: the files it wrote, each vouched for only if all of its
 * keys are in the lent list (a source's CRL whose commit failed is not,
 * nor the entries a delta CRL removes from its base: both read). */
void crl_held_vouch(struct crl_mgr *crl)
{
	struct svrcert_held *h = &crl->d->held;
	const struct svrcert_store *st = &crl->d->env.st;
	char name[160], prev[96];

	if (!crl->have_master)
		return;
	svrcert_held_vouch(h, st, SVRCERT_MASTER_FILE, crl->master.keys,
			   crl->master.n);
	for (size_t i = 0; i < crl->n; i++) {
		const struct svrcert_crl_source *s = &crl->src[i].s;

		snprintf(name, sizeof(name), SVRCERT_MASTER_CRL_DIR "/%s.crl",
			 s->name);
		if (s->has_good)
			svrcert_held_vouch(h, st, name, s->crl.keys, s->crl.nkeys);
		for (size_t j = 0; j < s->nprev; j++) {
			svrcert_crl_source_prev_file(s, &s->prev[j], prev,
						     sizeof(prev));
			snprintf(name, sizeof(name), SVRCERT_MASTER_CRL_DIR
				 "/%s", prev);
			svrcert_held_vouch(h, st, name, s->prev[j].crl.keys,
					   s->prev[j].crl.nkeys);
		}
	}
}
