/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy of one network namespace. Readers see it through an RCU pointer;
 * a change publishes a new copy (the struct is small and changes rarely).
 */
#ifndef _SVRCERT_POLICY_H
#define _SVRCERT_POLICY_H

#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/svrcert.h>

struct svrcert_net;

struct svrcert_policy {
	bool peer_validation;	/* off: peers' packets are not judged */
	u8 failure_mode;	/* enum svrcert_failure_mode */
	u8 self_state;		/* enum svrcert_cert_state */
	u16 port_min;		/* destination port window judged */
	u16 port_max;
	struct rcu_head rcu;
};

void svrcert_policy_defaults(struct svrcert_policy *pol);
int svrcert_policy_init(struct svrcert_net *sn);
void svrcert_policy_exit(struct svrcert_net *sn);
/* Publish a copy of @pol; caller holds sn->lock. */
int svrcert_policy_replace(struct svrcert_net *sn,
			   const struct svrcert_policy *pol);

static inline bool svrcert_policy_all_ports(const struct svrcert_policy *pol)
{
	return pol->port_min == 0 && pol->port_max == U16_MAX;
}

#endif /* _SVRCERT_POLICY_H */
