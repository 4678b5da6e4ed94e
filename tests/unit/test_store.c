// SPDX-License-Identifier: GPL-2.0
/* The state directory (store.c): atomic writes, modes, the router UUID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "swtpm_fixture.h"

#include "lib/counters.h"
#include "lib/store.h"
#include "lib/store_json.h"

struct fx {
	char dir[64];
	struct svrcert_store st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "store"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(&f->st);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static int count_entries(const char *dir)
{
	char cmd[128], out[32];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atoi(out);
}

static void test_write_read_modes(void **state)
{
	struct fx *f = *state;
	char path[4200], *data;
	struct stat sb;
	size_t len;

	assert_int_equal(store_write(&f->st, STORE_CERT, "abc", 3, STORE_MODE_PUBLIC), 0);
	assert_int_equal(store_write(&f->st, STORE_KEY, "k", 1, STORE_MODE_SECRET), 0);
	assert_int_equal(store_read(&f->st, STORE_CERT, &data, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(data, "abc");
	free(data);
	store_path(&f->st, STORE_CERT, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	store_path(&f->st, STORE_KEY, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	/* Only the two files: no temp file left behind. */
	assert_int_equal(count_entries(f->dir), 2);
	assert_int_equal(store_read(&f->st, "missing", &data, &len), -ENOENT);
}

static uid_t owner_of(const char *dir, const char *name)
{
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_uid;
}

/*
 * Root (svrcertctl) writing into a state directory the daemon's user owns:
 * every file and directory it creates there goes to that user, modes as
 * asked, so the daemon can read its 0600 files. In root's own directory
 * nothing changes hands.
 */
static void test_root_writes_give_files_to_dir_owner(void **state)
{
	struct fx *f = *state;
	const uid_t user = 65534, group = 65534;	/* nobody, nogroup */
	char path[4200];
	struct stat sb;

	if (geteuid() != 0)
		skip();
	assert_int_equal(store_write(&f->st, STORE_KEY, "k", 1, STORE_MODE_SECRET), 0);
	assert_int_equal(owner_of(f->dir, STORE_KEY), 0);

	assert_int_equal(chown(f->dir, user, group), 0);
	assert_int_equal(store_write(&f->st, STORE_KEY, "k2", 2, STORE_MODE_SECRET), 0);
	assert_int_equal(owner_of(f->dir, STORE_KEY), user);
	store_path(&f->st, STORE_KEY, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_gid, group);
	assert_int_equal(sb.st_mode & 07777, 0600);

	/* a subdirectory and a file in it, an appended log, the lock file */
	assert_int_equal(store_write(&f->st, "sub/x.pem", "x", 1, STORE_MODE_PUBLIC), 0);
	assert_int_equal(owner_of(f->dir, "sub"), user);
	assert_int_equal(owner_of(f->dir, "sub/x.pem"), user);
	assert_int_equal(store_append_line(&f->st, STORE_AUDIT_LOG, "{}", 0640), 0);
	assert_int_equal(owner_of(f->dir, STORE_AUDIT_LOG), user);
	assert_int_equal(store_lock(&f->st), 0);
	store_unlock(&f->st);
	assert_int_equal(owner_of(f->dir, ".lock"), user);
}

static void test_failed_write_keeps_old_file(void **state)
{
	struct fx *f = *state;
	struct rlimit old, lim;
	char big[8192], *data;
	size_t len;

	memset(big, 'x', sizeof(big));
	assert_int_equal(store_write(&f->st, STORE_CERT, "old contents", 12, 0644), 0);
	/* A write that fails midway: the file size limit stops it after
	 * 4 KiB (EFBIG; SIGXFSZ ignored). */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(store_write(&f->st, STORE_CERT, big, sizeof(big), 0644), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(store_read(&f->st, STORE_CERT, &data, &len), 0);
	assert_string_equal(data, "old contents");
	free(data);
	assert_int_equal(count_entries(f->dir), 1);
}

static void test_unsafe_names_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_write(&f->st, "../escape", "x", 1, 0644), -EINVAL);
	assert_int_equal(store_write(&f->st, "/abs", "x", 1, 0644), -EINVAL);
	assert_int_equal(store_write(&f->st, "a/b/c", "x", 1, 0644), -EINVAL);
	assert_int_equal(store_write(&f->st, "", "x", 1, 0644), -EINVAL);
	assert_int_equal(store_write(&f->st, "trusted-ca/x.pem", "x", 1, 0644), 0);
}

static void test_router_uuid_once(void **state)
{
	struct fx *f = *state;
	char a[STORE_UUID_LEN + 1], b[STORE_UUID_LEN + 1];

	assert_int_equal(store_router_uuid(&f->st, a), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');	/* version 4 */
	assert_non_null(strchr("89ab", a[19]));
	assert_int_equal(store_router_uuid(&f->st, b), 0);
	assert_string_equal(a, b);
	/* A damaged UUID file is an error, never silently replaced. */
	assert_int_equal(store_write(&f->st, STORE_ROUTER_UUID, "nope\n", 5, 0644), 0);
	assert_int_equal(store_router_uuid(&f->st, b), -EBADMSG);
}

static void test_counters_persist_and_recover(void **state)
{
	struct fx *f = *state;
	json_t *c;

	assert_int_equal(counters_inc(&f->st, CNT_CSR_SUCCESS, NULL), 0);
	assert_int_equal(counters_inc(&f->st, CNT_CSR_SUCCESS, NULL), 0);
	assert_int_equal(counters_inc(&f->st, CNT_IMPORT_FAILURE, "expired"), 0);
	assert_int_equal(counters_load(&f->st, &c), 0);
	assert_int_equal(counters_get(c, "csr.success"), 2);
	assert_int_equal(counters_get(c, "certificate-import.failure"), 1);
	assert_int_equal(counters_get(c, "certificate-import.failure.expired"), 1);
	assert_int_equal(counters_get(c, "csr.failure"), 0);
	json_decref(c);
	/* A corrupt file does not stop counting. */
	assert_int_equal(store_write(&f->st, STORE_COUNTERS, "{bad", 4, 0644), 0);
	assert_int_equal(counters_inc(&f->st, CNT_CSR_FAILURE, NULL), 0);
	assert_int_equal(counters_load(&f->st, &c), 0);
	assert_int_equal(counters_get(c, "csr.failure"), 1);
	json_decref(c);
	assert_int_equal(counters_inc(&f->st, CNT__MAX, NULL), -EINVAL);
}

/* Absent is empty, damaged is an error, and neither is confused with data. */
static void test_read_json(void **state)
{
	struct fx *f = *state;
	json_t *v = (json_t *)1;

	assert_int_equal(store_read_json(&f->st, STORE_ALARMS, &v), 0);
	assert_null(v);
	assert_int_equal(store_write(&f->st, STORE_ALARMS, "[1,", 3, 0644), 0);
	assert_int_equal(store_read_json(&f->st, STORE_ALARMS, &v), -EBADMSG);
	assert_null(v);
	assert_int_equal(store_write(&f->st, STORE_ALARMS, "[1, 2]", 6, 0644), 0);
	assert_int_equal(store_read_json(&f->st, STORE_ALARMS, &v), 0);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
	assert_int_equal(store_read_json(&f->st, "../x", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_writes_give_files_to_dir_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_names_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_router_uuid_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_persist_and_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_json, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
