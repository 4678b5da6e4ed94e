// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl's conventions, run as a user would (build/svrcertctl): help
 * on stdout with exit 0 (compared with tests/unit/golden/), --version,
 * COMMAND --help for every command and show topic, the shared options
 * before or after the command, and -b FILE batches that stop at the first
 * failing line (or go on with --force) naming it, with lines that use
 * the TPM (swtpm) and their own options. Needs no kernel module: the
 * commands used work on a throw-away state directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"

#define CTL "build/svrcertctl"
#define GOLDEN "tests/unit/golden/"

struct fx {
	char dir[64];
	char out[128], err[128];	/* the last run's stdout and stderr */
	char conf[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *c;

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "cli"), 0);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	snprintf(f->err, sizeof(f->err), "%s/err", f->dir);
	/* Isolated from the machine's /etc/svrcert/svrcert.conf. */
	snprintf(f->conf, sizeof(f->conf), "%s/svrcert.conf", f->dir);
	c = fopen(f->conf, "w");
	assert_non_null(c);
	fputs("[router]\nname = cli\n", c);
	fclose(c);
	unsetenv("SVRCERT_CONFIG");
	unsetenv("SVRCERT_STATE_DIR");
	setenv("SVRCERT_CONTROL_SOCKET", "/nonexistent/svrcert.sock", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

/* svrcertctl ARGS (a shell fragment) with output to f->out / f->err. */
static int ctl(struct fx *f, const char *fmt, ...)
{
	char args[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return fixture_sh(CTL " %s >%s 2>%s", args, f->out, f->err);
}

/* A whole file, NUL-terminated (free it). */
static char *slurp(const char *path)
{
	FILE *in = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(in);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, in);
	fclose(in);
	buf[n] = '\0';
	return buf;
}

static void assert_file_has(const char *path, const char *want)
{
	char *s = slurp(path);

	if (!strstr(s, want))
		fail_msg("%s lacks \"%s\"; it holds:\n%s", path, want, s);
	free(s);
}

static void assert_file_empty(const char *path)
{
	char *s = slurp(path);

	if (*s)
		fail_msg("%s is not empty:\n%s", path, s);
	free(s);
}

/* --help, -h and help: the same text on stdout, as the golden file. */
static void test_help_stdout(void **state)
{
	struct fx *f = *state;
	const char *forms[] = { "--help", "-h", "help", "-j --help" };
	char *want = slurp(GOLDEN "svrcertctl-help.txt"), *got;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(ctl(f, "%s", forms[i]), 0);
		assert_file_empty(f->err);
		got = slurp(f->out);
		if (strcmp(got, want))
			fail_msg("svrcertctl %s differs from " GOLDEN
				 "svrcertctl-help.txt:\n%s", forms[i], got);
		free(got);
	}
	free(want);
	/* The forms the help once missed. */
	assert_file_has(f->out, "crl status");
	assert_file_has(f->out, "peer state NAME STATE");
	assert_file_has(f->out, "show alarms [--check]");
	assert_file_has(f->out, "--config FILE");
	assert_file_has(f->out, "--state-dir DIR");
	/* No command: the help on stderr, a usage error. */
	assert_int_equal(ctl(f, ""), 2);
	assert_file_empty(f->out);
	assert_file_has(f->err, "usage: svrcertctl");
}

static void test_version(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ctl(f, "--version"), 0);
	assert_file_has(f->out, "svrcertctl 0.1.0");
	assert_file_empty(f->err);
	assert_int_equal(ctl(f, "-V"), 0);
	assert_file_has(f->out, "svrcertctl 0.1.0");
}

static void test_command_help(void **state)
{
	static const char *const cmds[] = {
		"show", "show policy", "show peers", "show revoked", "show events",
		"show stats", "show certificate", "show alarms", "set", "peer",
		"revoked", "clear", "monitor", "key", "csr", "import",
		"trusted-ca", "daemon", "crl", "user",
	};
	struct fx *f = *state;
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "usage: svrcertctl %s", cmds[i]);
		assert_int_equal(ctl(f, "%s --help", cmds[i]), 0);
		assert_file_has(f->out, want);
		assert_file_empty(f->err);
		assert_int_equal(ctl(f, "help %s", cmds[i]), 0);
		assert_file_has(f->out, want);
	}
	assert_int_equal(ctl(f, "peer --help"), 0);
	assert_file_has(f->out, "peer state NAME STATE");
	assert_int_equal(ctl(f, "show alarms -h"), 0);
	assert_file_has(f->out, "show alarms [--check] [-j]");
	/* golden: one command's help */
	assert_int_equal(ctl(f, "crl --help"), 0);
	assert_int_equal(fixture_sh("cmp -s %s " GOLDEN "svrcertctl-crl-help.txt",
				    f->out), 0);
	/* Mistakes are usage errors on stderr. */
	assert_int_equal(ctl(f, "no-such-command"), 2);
	assert_file_has(f->err, "unknown command 'no-such-command'");
	assert_int_equal(ctl(f, "help no-such-command"), 2);
	assert_int_equal(ctl(f, "--force user list"), 2);
	assert_file_has(f->err, "--force");
}

/* --state-dir, --config and -j work before and after the command. */
static void test_options_before_after(void **state)
{
	struct fx *f = *state;
	char other[128];

	assert_int_equal(fixture_sh("echo secret-pass-1 | " CTL " --state-dir "
				    "%s/st -c %s user add alice --password-stdin",
				    f->dir, f->conf), 0);
	assert_int_equal(fixture_sh("echo secret-pass-2 | " CTL " user add bob "
				    "--password-stdin --state-dir %s/st --config %s",
				    f->dir, f->conf), 0);
	assert_int_equal(ctl(f, "-j --state-dir %s/st --config %s user list",
			     f->dir, f->conf), 0);
	assert_file_has(f->out, "\"name\": \"alice\"");
	assert_file_has(f->out, "\"name\": \"bob\"");
	assert_int_equal(ctl(f, "user list --state-dir %s/st -j -c %s",
			     f->dir, f->conf), 0);
	assert_file_has(f->out, "\"name\": \"bob\"");
	/* Another state directory holds neither. */
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(ctl(f, "user list -j --state-dir %s -c %s", other,
			     f->conf), 0);
	assert_file_has(f->out, "[]");
	/* -j is ignored by a command without JSON output... */
	assert_int_equal(ctl(f, "--state-dir %s -c %s -j user del alice",
			     other, f->conf), 1);
	assert_file_has(f->err, "alice");
	/* ...and an option without its value is a usage error. */
	assert_int_equal(ctl(f, "user list --state-dir"), 2);
	assert_file_has(f->err, "--state-dir needs a value");
}

/* -n NETNS, before the command: a namespace by name or path; a bad one
 * is named and nothing runs. (The guest tests run every kernel command
 * through -n, on two routers' namespaces with exact counters.) */
static void test_netns(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ctl(f, "-n"), 2);
	assert_file_has(f->err, "-n needs a NETNS");
	assert_int_equal(ctl(f, "-n svrcert-no-such-ns -c %s --state-dir %s/st "
			     "user list", f->conf, f->dir), 1);
	assert_file_has(f->err, "/run/netns/svrcert-no-such-ns");
	assert_file_empty(f->out);
	assert_int_equal(ctl(f, "--netns .. user list"), 1);
	assert_file_has(f->err, "'..' is not a namespace name");
	/* a path: this process's own namespace, entered again (root) */
	assert_int_equal(ctl(f, "-n /proc/self/ns/net -j -c %s --state-dir %s/st "
			     "user list", f->conf, f->dir), 0);
	assert_file_has(f->out, "[]");
	/* not a namespace file */
	assert_int_equal(ctl(f, "-n %s user list", f->conf), 1);
	assert_file_has(f->err, "Invalid argument");
	/* only run options: the usage */
	assert_int_equal(ctl(f, "-n /proc/self/ns/net"), 2);
	assert_file_has(f->err, "usage: svrcertctl");
}

static void write_batch(struct fx *f, const char *name, const char *text)
{
	char path[160];
	FILE *b;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	b = fopen(path, "w");
	assert_non_null(b);
	fputs(text, b);
	fclose(b);
}

static const char batch_text[] =
	"# users for the test\n"
	"\n"
	"user list -j\n"
	"   # an indented comment\n"
	"user del 'no such user'   # fails: line 5\n"
	"user list -j\n";

/* Stops at the first failing line, naming it; the lines before ran. */
static void test_batch_stops(void **state)
{
	struct fx *f = *state;
	char *out;

	write_batch(f, "b1", batch_text);
	assert_int_equal(ctl(f, "--state-dir %s/st -c %s -b %s/b1", f->dir,
			     f->conf, f->dir), 1);
	out = slurp(f->out);
	assert_string_equal(out, "[]\n");	/* line 3 only */
	free(out);
	assert_file_has(f->err, "b1:5: failed (exit 1): user del 'no such user'");
	/* --force: every line, the failure reported again at the end. */
	assert_int_equal(ctl(f, "--state-dir %s/st -c %s -b %s/b1 --force",
			     f->dir, f->conf, f->dir), 1);
	out = slurp(f->out);
	assert_string_equal(out, "[]\n[]\n");
	free(out);
	assert_file_has(f->err, "b1:5: failed (exit 1)");
	assert_file_has(f->err, "1 of 3 commands failed");
}

/* From stdin; the options before -b hold for every line. */
static void test_batch_stdin(void **state)
{
	struct fx *f = *state;

	write_batch(f, "b2", "user add carol --password-stdin\n");
	assert_int_equal(ctl(f, "--state-dir %s/st -c %s -b %s/b2 </dev/null",
			     f->dir, f->conf, f->dir), 1);
	assert_int_equal(fixture_sh("printf 'user list\\nuser list -j\\n' | "
				    CTL " -c %s --state-dir %s/st -b - >%s 2>%s",
				    f->conf, f->dir, f->out, f->err), 0);
	assert_file_empty(f->err);
	assert_file_has(f->out, "[]");
	/* A line's own option is that line's only. */
	assert_int_equal(fixture_sh("printf 'user list --state-dir /nonexistent/x\\n"
				    "user list -j\\n' | " CTL " -c %s --state-dir "
				    "%s/st -b - >%s 2>%s", f->conf, f->dir, f->out,
				    f->err), 1);
	assert_file_has(f->err, "<stdin>:1: failed");
	assert_int_equal(fixture_sh("printf 'user list -j\\nuser \"open\\n' | "
				    CTL " -c %s --state-dir %s/st -b - >%s 2>%s",
				    f->conf, f->dir, f->out, f->err), 2);
	assert_file_has(f->err, "<stdin>:2: unclosed quote");
	assert_int_equal(ctl(f, "-b %s/no-such-file", f->dir), 1);
	assert_file_has(f->err, "No such file");
	assert_int_equal(ctl(f, "-b - user list </dev/null"), 2);
}

/*
 * Lines that need the TPM and parse options (getopt): each line sees its
 * own options and what the lines before it wrote (the key, then CSRs).
 */
static void test_batch_lifecycle(void **state)
{
	struct fx *f = *state;
	struct swtpm_fixture tpm;
	char *out;

	assert_int_equal(swtpm_start(&tpm), 0);
	write_batch(f, "b3",
		    "key generate --curve P-384\n"
		    "csr --cn first -o first.csr --san-dns a.example.net\n"
		    "csr --cn second --country US -o second.csr\n"
		    "key generate --bits 2048    # a key exists: fails, line 4\n"
		    "csr --cn never -o never.csr\n");
	assert_int_equal(fixture_sh("cd %s && " "%s/" CTL " --state-dir %s/st -c "
				    "%s -b b3 >%s 2>%s", f->dir,
				    getenv("SVRCERT_SRCDIR") ? getenv("SVRCERT_SRCDIR") : ".",
				    f->dir, f->conf, f->out, f->err), 1);
	swtpm_stop(&tpm);
	assert_file_has(f->out, "P-384");
	assert_file_has(f->err, "b3:4: failed (exit 1): key generate --bits 2048");
	assert_int_equal(fixture_sh("openssl req -in %s/first.csr -noout -subject "
				    "-text | grep -q 'CN *= *first' && openssl req "
				    "-in %s/first.csr -noout -text | grep -q "
				    "DNS:a.example.net && openssl req -in "
				    "%s/first.csr -noout -text | grep -q "
				    "secp384r1", f->dir, f->dir, f->dir), 0);
	/* the second csr: its own options, none of the first's */
	assert_int_equal(fixture_sh("openssl req -in %s/second.csr -noout -subject "
				    "| grep -q 'C *= *US, CN *= *second'", f->dir), 0);
	assert_int_equal(fixture_sh("openssl req -in %s/second.csr -noout -text "
				    "| grep -q DNS:", f->dir), 1);
	assert_int_equal(fixture_sh("test -e %s/never.csr", f->dir), 1);
	out = slurp(f->err);
	assert_null(strstr(out, "b3:5"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_help_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_before_after, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_lifecycle, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
