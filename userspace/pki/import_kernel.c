// SPDX-License-Identifier: GPL-2.0
/*
 * Telling svrcert.ko the policy and this router's own certificate state,
 * and reading its peer certificate counters. Kept apart from
 * import.c because nl.h and config.h cannot be included together yet
 * (both define struct svrcert_addr).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/svrcert.h>

#include "import_kernel.h"
#include "netlink/nl.h"
#include "netlink/nl_util.h"

/* Declared in import.h. */
const char *cert_state_name(enum svrcert_cert_state state);
int kernel_push_self_state(enum svrcert_cert_state state, char *msg,
			   size_t msglen);
int kernel_push_policy(bool peer_validation, int failure_mode, int port_min,
		       int port_max, enum svrcert_cert_state self_state,
		       char *msg, size_t msglen);

/* The UAPI's names, kept in one table (nl_util.c). */
const char *cert_state_name(enum svrcert_cert_state state)
{
	return svrcert_nl_state_name(state);
}

static int push_policy(const struct svrcert_policy *pol, char *msg,
		       size_t msglen)
{
	struct svrcert_nl *nl = NULL;
	int ret;

	ret = svrcert_nl_open(&nl);
	if (ret == -ENOENT) {
		snprintf(msg, msglen, "svrcert.ko is not loaded: the kernel's "
			 "policy and own-certificate state were not updated");
		return ret;
	}
	if (ret) {
		snprintf(msg, msglen, "cannot reach svrcert.ko: %s",
			 svrcert_nl_open_errmsg());
		return ret;
	}
	ret = svrcert_nl_set_policy(nl, pol);
	if (ret)
		snprintf(msg, msglen, "svrcert.ko refused the policy: %s%s%s",
			 strerror(-ret), *svrcert_nl_errmsg(nl) ? ": " : "",
			 svrcert_nl_errmsg(nl));
	else
		snprintf(msg, msglen, "kernel told: own certificate %s",
			 cert_state_name((enum svrcert_cert_state)pol->self_state));
	svrcert_nl_close(nl);
	return ret;
}

int kernel_push_self_state(enum svrcert_cert_state state, char *msg,
			   size_t msglen)
{
	struct svrcert_policy pol;

	svrcert_policy_init_keep(&pol);
	pol.self_state = (int)state;
	return push_policy(&pol, msg, msglen);
}

int kernel_push_policy(bool peer_validation, int failure_mode, int port_min,
		       int port_max, enum svrcert_cert_state self_state,
		       char *msg, size_t msglen)
{
	struct svrcert_policy pol;

	svrcert_policy_init_keep(&pol);
	pol.peer_validation = peer_validation;
	pol.failure_mode = failure_mode;
	pol.self_state = (int)self_state;
	if (port_max) {
		pol.port_min = port_min;
		pol.port_max = port_max;
	}
	return push_policy(&pol, msg, msglen);
}

static uint64_t sum_reasons(const uint64_t *v)
{
	uint64_t sum = 0;
	int r;

	for (r = 0; r <= SVRCERT_REASON_MAX; r++)
		sum += v[r];
	return sum;
}

int kernel_peer_cert_counters(uint64_t out[KPC__MAX], char *msg,
			      size_t msglen)
{
	struct svrcert_kstats ks = { 0 };
	struct svrcert_nl *nl = NULL;
	int ret;

	ret = svrcert_nl_open(&nl);
	if (ret) {
		snprintf(msg, msglen, "%s", ret == -ENOENT ?
			 "svrcert.ko is not loaded: no peer certificate counters" :
			 svrcert_nl_open_errmsg());
		return ret;
	}
	ret = svrcert_nl_stats_get(nl, &ks);
	if (ret)
		snprintf(msg, msglen, "cannot read svrcert.ko's counters: %s",
			 strerror(-ret));
	out[KPC_CERT_EXPIRED] = ks.peer_cert_expired;
	out[KPC_CERT_INVALID] = ks.peer_cert_invalid;
	out[KPC_CERT_REVOKED] = ks.peer_cert_revoked;
	out[KPC_RX_ACCEPTED] = sum_reasons(ks.accepted);
	out[KPC_RX_DROPPED] = sum_reasons(ks.dropped);
	out[KPC_TX_ACCEPTED] = sum_reasons(ks.tx_accepted);
	out[KPC_TX_DROPPED] = sum_reasons(ks.tx_dropped);
	svrcert_nl_close(nl);
	return ret;
}
