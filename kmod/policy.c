// SPDX-License-Identifier: GPL-2.0
#include <linux/slab.h>

#include "netns.h"
#include "policy.h"

/* Defaults from the source document: validation off, fail-soft. */
void svrcert_policy_defaults(struct svrcert_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->peer_validation = false;
	pol->failure_mode = SVRCERT_FAIL_SOFT;
	pol->self_state = SVRCERT_STATE_UNKNOWN;
	pol->port_min = 0;
	pol->port_max = U16_MAX;
}

int svrcert_policy_init(struct svrcert_net *sn)
{
	struct svrcert_policy *pol = kmalloc(sizeof(*pol), GFP_KERNEL_ACCOUNT);

	if (!pol)
		return -ENOMEM;
	svrcert_policy_defaults(pol);
	RCU_INIT_POINTER(sn->policy, pol);
	return 0;
}

void svrcert_policy_exit(struct svrcert_net *sn)
{
	kfree(rcu_dereference_protected(sn->policy, true));
	RCU_INIT_POINTER(sn->policy, NULL);
}

int svrcert_policy_replace(struct svrcert_net *sn,
			   const struct svrcert_policy *pol)
{
	struct svrcert_policy *copy, *old;

	copy = kmemdup(pol, sizeof(*pol), GFP_KERNEL_ACCOUNT);
	if (!copy)
		return -ENOMEM;
	old = rcu_replace_pointer(sn->policy, copy, lockdep_is_held(&sn->lock));
	kfree_rcu(old, rcu);
	return 0;
}
