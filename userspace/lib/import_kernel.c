// SPDX-License-Identifier: GPL-2.0
/*
 * Telling svrcert.ko this router's own certificate state. Kept apart from
 * import.c because nl.h and config.h cannot be included together yet
 * (both define struct svrcert_addr).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/svrcert.h>

#include "nl.h"

/* Declared in import.h. */
const char *cert_state_name(enum svrcert_cert_state state);
int kernel_push_self_state(enum svrcert_cert_state state, char *msg,
			   size_t msglen);
int kernel_peer_cert_counters(uint64_t out[3], char *msg, size_t msglen);

const char *cert_state_name(enum svrcert_cert_state state)
{
	static const char *const names[] = {
		[SVRCERT_STATE_UNKNOWN] = "unknown",
		[SVRCERT_STATE_VALID] = "valid",
		[SVRCERT_STATE_INVALID] = "invalid",
		[SVRCERT_STATE_REVOKED] = "revoked",
		[SVRCERT_STATE_EXPIRED] = "expired",
		[SVRCERT_STATE_NOT_YET_VALID] = "not-yet-valid",
	};

	return (unsigned)state <= SVRCERT_STATE_MAX ? names[state] : "?";
}

int kernel_push_self_state(enum svrcert_cert_state state, char *msg,
			   size_t msglen)
{
	struct svrcert_policy pol;
	struct svrcert_nl *nl = NULL;
	int ret;

	ret = svrcert_nl_open(&nl);
	if (ret == -ENOENT) {
		snprintf(msg, msglen, "svrcert.ko is not loaded: the kernel's "
			 "own-certificate state was not updated");
		return ret;
	}
	if (ret) {
		snprintf(msg, msglen, "cannot reach svrcert.ko: %s",
			 svrcert_nl_open_errmsg());
		return ret;
	}
	svrcert_policy_init_keep(&pol);
	pol.self_state = (int)state;
	ret = svrcert_nl_set_policy(nl, &pol);
	if (ret)
		snprintf(msg, msglen, "svrcert.ko refused self-state %s: %s%s%s",
			 cert_state_name(state), strerror(-ret),
			 *svrcert_nl_errmsg(nl) ? ": " : "",
			 svrcert_nl_errmsg(nl));
	else
		snprintf(msg, msglen, "kernel told: own certificate %s",
			 cert_state_name(state));
	svrcert_nl_close(nl);
	return ret;
}


int kernel_peer_cert_counters(uint64_t out[3], char *msg, size_t msglen)
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
	out[0] = ks.peer_cert_expired;
	out[1] = ks.peer_cert_invalid;
	out[2] = ks.peer_cert_revoked;
	svrcert_nl_close(nl);
	return ret;
}
