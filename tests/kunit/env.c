// SPDX-License-Identifier: GPL-2.0
/*
 * What the suites need of the module's global state.
 *
 * Linux 6.1 runs the KUnit suites of a module at MODULE_STATE_COMING, that
 * is before svrcert_init() has created the key slab cache and the
 * workqueue. A suite that needs them brings them up itself and takes them
 * down again, so svrcert_init() later starts from scratch. Kernels that run
 * suites after init find them there and leave them alone.
 */
#include <kunit/test.h>

#include "env.h"
#include "main.h"
#include "revset.h"

static bool svrcert_kunit_owns_env;

int svrcert_kunit_env_init(struct kunit_suite *suite)
{
	int err;

	if (svrcert_wq)
		return 0;
	err = svrcert_revset_module_init();
	if (err)
		return err;
	svrcert_wq = alloc_workqueue("svrcert-kunit", WQ_UNBOUND, 0);
	if (!svrcert_wq) {
		svrcert_revset_module_exit();
		return -ENOMEM;
	}
	svrcert_events_worker = kthread_create_worker(0, "svrcert-kunit-ev");
	if (IS_ERR(svrcert_events_worker)) {
		err = PTR_ERR(svrcert_events_worker);
		svrcert_events_worker = NULL;
		destroy_workqueue(svrcert_wq);
		svrcert_wq = NULL;
		svrcert_revset_module_exit();
		return err;
	}
	svrcert_kunit_owns_env = true;
	return 0;
}

void svrcert_kunit_env_exit(struct kunit_suite *suite)
{
	if (!svrcert_kunit_owns_env)
		return;
	rcu_barrier();		/* queue_rcu_work() callbacks have queued */
	destroy_workqueue(svrcert_wq);	/* ... and the work has run */
	svrcert_wq = NULL;
	kthread_destroy_worker(svrcert_events_worker);
	svrcert_events_worker = NULL;
	svrcert_revset_module_exit();
	svrcert_kunit_owns_env = false;
}
