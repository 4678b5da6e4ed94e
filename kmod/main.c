// SPDX-License-Identifier: GPL-2.0
/*
 * svrcert.ko - certificate-based peer security for SVR routers.
 *
 * Module setup: parameters, the slab cache and workqueue, per-netns state,
 * and the generic netlink family (registered last, so userspace can only
 * reach us once everything below is ready; unregistered first).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "main.h"
#include "netlink.h"
#include "netns.h"
#include "revset.h"

unsigned int svrcert_max_keys = 2097152;
module_param_named(max_keys, svrcert_max_keys, uint, 0444);
MODULE_PARM_DESC(max_keys, "Most keys in one revocation set (default 2097152)");

unsigned int svrcert_max_peers = 65536;
module_param_named(max_peers, svrcert_max_peers, uint, 0444);
MODULE_PARM_DESC(max_peers, "Most peers per network namespace (default 65536)");

struct workqueue_struct *svrcert_wq;
struct kthread_worker *svrcert_events_worker;

/* Kbuild defines SVRCERT_KUNIT when it also builds svrcert_kunit.ko. */
#ifdef SVRCERT_KUNIT
#define SVRCERT_BUILD_NOTE	", internals exported for svrcert_kunit.ko"
#else
#define SVRCERT_BUILD_NOTE	""
#endif

static int __init svrcert_init(void)
{
	int err;

	/* rhashtable counts its elements in an atomic_t. */
	if (svrcert_max_keys > INT_MAX) {
		pr_warn("svrcert: max_keys %u clamped to %d\n", svrcert_max_keys,
			INT_MAX);
		svrcert_max_keys = INT_MAX;
	}
	err = svrcert_revset_module_init();
	if (err)
		return err;
	err = -ENOMEM;
	svrcert_wq = alloc_workqueue("svrcert", WQ_UNBOUND, 0);
	if (!svrcert_wq)
		goto err_cache;
	svrcert_events_worker = kthread_create_worker(0, "svrcert_events");
	if (IS_ERR(svrcert_events_worker)) {
		err = PTR_ERR(svrcert_events_worker);
		goto err_wq;
	}
	err = svrcert_netns_register();
	if (err)
		goto err_worker;
	err = svrcert_genl_register();
	if (err)
		goto err_netns;
	pr_info("svrcert: loaded (max_keys=%u max_peers=%u%s)\n",
		svrcert_max_keys, svrcert_max_peers, SVRCERT_BUILD_NOTE);
	return 0;

err_netns:
	svrcert_netns_unregister();
err_worker:
	kthread_destroy_worker(svrcert_events_worker);
err_wq:
	rcu_barrier();
	destroy_workqueue(svrcert_wq);
err_cache:
	svrcert_revset_module_exit();
	return err;
}

static void __exit svrcert_exit(void)
{
	svrcert_genl_unregister();
	svrcert_netns_unregister();
	/* Every namespace's exit cancelled its event work. */
	kthread_destroy_worker(svrcert_events_worker);
	/* call_rcu() callbacks and queued rcu_work belong to this module. */
	rcu_barrier();
	destroy_workqueue(svrcert_wq);
	svrcert_revset_module_exit();
}

module_init(svrcert_init);
module_exit(svrcert_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Certificate-based peer security for SVR routers");
MODULE_ALIAS_GENL_FAMILY(SVRCERT_GENL_NAME);
