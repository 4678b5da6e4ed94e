// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <net/netns/generic.h>

#include "hooks.h"
#include "main.h"
#include "netns.h"

unsigned int svrcert_net_id __read_mostly;

void svrcert_netns_abort_load(struct svrcert_net *sn)
{
	lockdep_assert_held(&sn->lock);
	/*
	 * Never visible to readers, but freeing millions of keys takes long:
	 * on the module's workqueue, not under the config mutex.
	 */
	svrcert_revset_destroy_rcu(sn->staging);
	sn->staging = NULL;
	/* svrcert_nl_keys_release() peeks at it without the mutex. */
	WRITE_ONCE(sn->staging_portid, 0);
}

/*
 * ipset-style swap: one pointer store, so a reader sees the old set or the
 * new one in full; the old one is freed once every reader is done with it.
 */
void svrcert_netns_swap_revset(struct svrcert_net *sn,
			       struct svrcert_revset *set)
{
	struct svrcert_revset *old;

	old = rcu_replace_pointer(sn->revset, set, lockdep_is_held(&sn->lock));
	sn->keys_gen++;
	svrcert_revset_destroy_rcu(old);
}

static int __net_init svrcert_net_init(struct net *net)
{
	struct svrcert_net *sn = svrcert_pernet(net);
	struct svrcert_revset *set;
	int err;

	sn->net = net;
	mutex_init(&sn->lock);
	sn->keys_gen = 1;
	err = svrcert_policy_init(sn);
	if (err)
		return err;
	err = -ENOMEM;
	set = svrcert_revset_create(0, svrcert_max_keys);
	if (!set)
		goto err_policy;
	RCU_INIT_POINTER(sn->revset, set);
	err = svrcert_peers_init(&sn->peers);
	if (err)
		goto err_set;
	err = svrcert_stats_init(&sn->stats);
	if (err)
		goto err_peers;
	return 0;

err_peers:
	svrcert_peers_exit(&sn->peers);
err_set:
	svrcert_revset_destroy(set);
err_policy:
	svrcert_policy_exit(sn);
	return err;
}

/*
 * The first command that configures svrcert in a namespace brings up its
 * data path: the event ring and the hooks. Until then the namespace (one
 * an unprivileged user made with unshare -Urn, say) costs its packets
 * nothing. Caller holds sn->lock.
 */
int svrcert_netns_activate(struct svrcert_net *sn)
{
	int err;

	lockdep_assert_held(&sn->lock);
	if (sn->active)
		return 0;
	err = svrcert_events_init(sn);
	if (err)
		return err;
	err = svrcert_hooks_register(sn);
	if (err) {
		/*
		 * No hook ran, so the work was never queued: no
		 * kthread_cancel_work_sync() under sn->lock, which the
		 * worker takes.
		 */
		svrcert_events_free(sn);
		return err;
	}
	sn->active = true;
	return 0;
}

/*
 * nf_unregister_net_hooks() does not wait for packets already inside a
 * hook (it frees the old hook blob with call_rcu()). Unregistering here,
 * the core runs synchronize_rcu() before .exit, so by then no CPU is in
 * svrcert_hook_*() and nothing can queue the event work again.
 */
static void __net_exit svrcert_net_pre_exit(struct net *net)
{
	struct svrcert_net *sn = svrcert_pernet(net);

	mutex_lock(&sn->lock);
	if (sn->active)
		svrcert_hooks_unregister(sn);
	mutex_unlock(&sn->lock);
}

static void __net_exit svrcert_net_exit(struct net *net)
{
	struct svrcert_net *sn = svrcert_pernet(net);

	if (sn->active)
		svrcert_events_exit(sn);

	mutex_lock(&sn->lock);
	svrcert_netns_abort_load(sn);
	svrcert_peers_exit(&sn->peers);
	mutex_unlock(&sn->lock);
	/* Peers and address nodes go through call_rcu/kfree_rcu. */
	svrcert_revset_destroy_rcu(rcu_dereference_protected(sn->revset, true));
	RCU_INIT_POINTER(sn->revset, NULL);
	svrcert_policy_exit(sn);
	svrcert_stats_exit(&sn->stats);
	mutex_destroy(&sn->lock);
}

static struct pernet_operations svrcert_net_ops = {
	.init = svrcert_net_init,
	.pre_exit = svrcert_net_pre_exit,
	.exit = svrcert_net_exit,
	.id = &svrcert_net_id,
	.size = sizeof(struct svrcert_net),
};

int svrcert_netns_register(void)
{
	return register_pernet_subsys(&svrcert_net_ops);
}

void svrcert_netns_unregister(void)
{
	unregister_pernet_subsys(&svrcert_net_ops);
}
