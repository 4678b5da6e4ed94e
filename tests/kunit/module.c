// SPDX-License-Identifier: GPL-2.0
/*
 * svrcert_kunit.ko: the KUnit suites of svrcert.ko, in a module of their
 * own so that they run once, when this module is loaded after svrcert.ko,
 * and not at every insmod of svrcert.ko itself.
 */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for svrcert.ko");
MODULE_SOFTDEP("pre: svrcert");
