/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SVRCERT_KUNIT_ENV_H
#define _SVRCERT_KUNIT_ENV_H

struct kunit_suite;

/* suite_init/suite_exit for suites that use the key cache or workqueue. */
int svrcert_kunit_env_init(struct kunit_suite *suite);
void svrcert_kunit_env_exit(struct kunit_suite *suite);

#endif /* _SVRCERT_KUNIT_ENV_H */
