// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the netlink client's attribute readers (nl_priv.h): every
 * attribute from the kernel is length-checked before use, so a reply with a
 * wrong length or an unterminated string is -EPROTO, never a short read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "netlink/nl_priv.h"

/* A message holding the attributes under test, built with libnl. */
static struct nl_msg *msg;

static int setup(void **state)
{
	msg = nlmsg_alloc();
	return msg ? 0 : -1;
}

static int teardown(void **state)
{
	nlmsg_free(msg);
	return 0;
}

static struct nlattr *put(int type, const void *data, int len)
{
	assert_int_equal(nla_put(msg, type, len, data), 0);
	return nlmsg_find_attr(nlmsg_hdr(msg), 0, type);
}

static void test_fixed_width(void **state)
{
	uint8_t u8 = 7, buf[9] = { 0 };
	uint16_t u16 = 4242;
	uint32_t u32 = 0xdeadbeef, o32 = 0;
	uint64_t u64 = 0x0102030405060708ull, o64 = 0;
	int64_t s64 = -5, os64 = 0;
	int i = 0;

	assert_int_equal(nl_get_u8(put(1, &u8, 1), &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(nl_get_u16(put(2, &u16, 2), &i), 0);
	assert_int_equal(i, 4242);
	assert_int_equal(nl_get_u32(put(3, &u32, 4), &o32), 0);
	assert_int_equal(o32, 0xdeadbeef);
	assert_int_equal(nl_get_u64(put(4, &u64, 8), &o64), 0);
	assert_true(o64 == u64);
	assert_int_equal(nl_get_s64(put(5, &s64, 8), &os64), 0);
	assert_true(os64 == -5);

	/* Wrong widths, both shorter and longer, and absence. */
	i = 99;
	assert_int_equal(nl_get_u8(put(6, buf, 2), &i), -EPROTO);
	assert_int_equal(nl_get_u8(put(7, buf, 0), &i), -EPROTO);
	assert_int_equal(nl_get_u16(put(8, buf, 1), &i), -EPROTO);
	assert_int_equal(nl_get_u16(put(9, buf, 4), &i), -EPROTO);
	assert_int_equal(i, 99);
	assert_int_equal(nl_get_u32(put(10, buf, 2), &o32), -EPROTO);
	assert_int_equal(nl_get_u64(put(11, buf, 4), &o64), -EPROTO);
	assert_int_equal(nl_get_u64(put(12, buf, 9), &o64), -EPROTO);
	assert_int_equal(nl_get_s64(put(13, buf, 7), &os64), -EPROTO);
	assert_int_equal(nl_get_u8(NULL, &i), -EPROTO);
	assert_int_equal(nl_get_u64(NULL, &o64), -EPROTO);
}

static void test_binary(void **state)
{
	uint8_t key[SVRCERT_KEY_LEN], out[SVRCERT_KEY_LEN];

	memset(key, 0xab, sizeof(key));
	memset(out, 0, sizeof(out));
	assert_int_equal(nl_get_bin(put(1, key, 32), out, 32), 0);
	assert_memory_equal(out, key, sizeof(key));
	memset(out, 0, sizeof(out));
	assert_int_equal(nl_get_bin(put(2, key, 31), out, 32), -EPROTO);
	assert_int_equal(nl_get_bin(put(3, key, 16), out, 4), -EPROTO);
	assert_int_equal(out[0], 0);	/* nothing copied on failure */
	assert_int_equal(nl_get_bin(NULL, out, 32), -EPROTO);
}

static void test_name(void **state)
{
	char out[SVRCERT_PEER_NAME_MAX + 1], longname[80];

	memset(out, 'x', sizeof(out));
	assert_int_equal(nl_get_name(put(1, "router-b", 9), out, sizeof(out)), 0);
	assert_string_equal(out, "router-b");

	/* No terminating NUL, a NUL inside, empty, only a NUL. */
	assert_int_equal(nl_get_name(put(2, "router-b", 8), out, sizeof(out)), -EPROTO);
	assert_int_equal(nl_get_name(put(3, "rou\0ter", 8), out, sizeof(out)), -EPROTO);
	assert_int_equal(nl_get_name(put(4, "", 0), out, sizeof(out)), -EPROTO);
	assert_int_equal(nl_get_name(put(5, "", 1), out, sizeof(out)), -EPROTO);

	/* 63 characters fit; 64 do not. */
	memset(longname, 'n', sizeof(longname));
	longname[SVRCERT_PEER_NAME_MAX] = '\0';
	assert_int_equal(nl_get_name(put(6, longname, SVRCERT_PEER_NAME_MAX + 1), out,
				     sizeof(out)), 0);
	assert_int_equal(strlen(out), SVRCERT_PEER_NAME_MAX);
	longname[SVRCERT_PEER_NAME_MAX] = 'n';
	longname[SVRCERT_PEER_NAME_MAX + 1] = '\0';
	assert_int_equal(nl_get_name(put(7, longname, SVRCERT_PEER_NAME_MAX + 2), out,
				     sizeof(out)), -EPROTO);
	assert_int_equal(nl_get_name(NULL, out, sizeof(out)), -EPROTO);
}

static void test_errno_map(void **state)
{
	assert_int_equal(nl_nle_to_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
	assert_int_equal(nl_nle_to_errno(-NLE_PERM), -EPERM);
	assert_int_equal(nl_nle_to_errno(-NLE_BUSY), -EBUSY);
	assert_int_equal(nl_nle_to_errno(-NLE_NOMEM), -ENOMEM);
	assert_int_equal(nl_nle_to_errno(-NLE_DUMP_INTR), -EAGAIN);
	/* Anything libnl-specific without an errno twin is a protocol error. */
	assert_int_equal(nl_nle_to_errno(-NLE_SEQ_MISMATCH), -EPROTO);
	assert_int_equal(nl_nle_to_errno(-1000), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name, setup, teardown),
		cmocka_unit_test(test_errno_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
