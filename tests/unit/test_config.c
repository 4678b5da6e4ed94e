// SPDX-License-Identifier: GPL-2.0
/*
 * svrcert.conf: the documented example loads with the documented values,
 * defaults are the seed's, and every kind of bad input fails with a message
 * naming file, line, section and key, leaving the previous config alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/config.h"
#include "lib/util.h"

#define MIN "[router]\nname = r1\n"

static int load(const char *text, struct svrcert_config *cfg, char *err, size_t len)
{
	return svrcert_config_load_string(text, "t.conf", cfg, err, len);
}

static void test_example_file(void **state)
{
	const char *src = getenv("SVRCERT_SRCDIR");
	char path[4096], err[600];
	struct svrcert_config c;
	const struct svrcert_peer *p;
	char a[64];

	snprintf(path, sizeof(path), "%s/Documentation/svrcert.conf.example", src ? src : ".");
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.router_name, "router1");
	assert_string_equal(c.peering_common_name, "router1");
	assert_true(c.peer_validation);
	assert_int_equal(c.failure_mode, SVRCERT_FAIL_SOFT);
	assert_int_equal(c.svr_port_min, 1280);
	assert_int_equal(c.svr_port_max, 1283);
	assert_int_equal(c.key_storage, SVRCERT_KEY_TPM_BLOB);
	assert_string_equal(c.key_file, "/var/lib/svrcert/key.pem");
	assert_int_equal(c.n_cas, 1);
	assert_string_equal(c.cas[0].name, "svrv2-root-of-trust");
	assert_string_equal(c.cas[0].file, "/etc/svrcert/ca/svrv2-root-of-trust.pem");
	assert_int_equal(c.cas[0].mode, SVRCERT_MODE_STRICT);
	assert_int_equal(c.n_crl_urls, 2);
	assert_string_equal(c.crl_urls[1], "https://ca.example.net/crl/root.crl");
	assert_int_equal(c.crl_polling_s, 86400);
	assert_int_equal(c.crl_backoff_s, 60);
	assert_int_equal(c.crl_max_size, 256ull << 20);
	assert_int_equal(c.n_peers, 2);
	p = svrcert_config_peer(&c, "router2");
	assert_non_null(p);
	assert_int_equal(p->n_addrs, 2);
	assert_int_equal(p->addrs[0].family, AF_INET);
	assert_int_equal(p->addrs[1].family, AF_INET6);
	inet_ntop(AF_INET6, &p->addrs[1].v6, a, sizeof(a));
	assert_string_equal(a, "2001:db8::2");
	assert_string_equal(p->authenticate.host, "192.0.2.2");
	assert_int_equal(p->authenticate.port, 4480);
	assert_null(svrcert_config_peer(&c, "router3")->authenticate.host);
	assert_null(svrcert_config_peer(&c, "router4"));
	assert_non_null(svrcert_config_trusted_ca(&c, "svrv2-root-of-trust"));
	assert_string_equal(c.control_group, "svrcert");
	assert_string_equal(c.listen.host, "0.0.0.0");
	assert_int_equal(c.listen.port, 4480);
	svrcert_config_free(&c);
	assert_null(c.router_name);
}

/* The man page's EXAMPLE is a valid file too (kept true to the code). */
static void test_man_page_example(void **state)
{
	const char *src = getenv("SVRCERT_SRCDIR");
	char cmd[4200], text[8192], err[600];
	struct svrcert_config c;
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "sed -n '/^\\.SH EXAMPLE/,/^\\.fi/p' '%s/Documentation/man/svrcert.conf.5' | sed '1,2d;$d'",
		 src ? src : ".");
	f = popen(cmd, "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	assert_int_equal(pclose(f), 0);
	text[len] = '\0';
	assert_true(len > 500);
	assert_int_equal(load(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.router_name, "router1");
	assert_int_equal(c.n_peers, 2);
	assert_int_equal(c.n_crl_urls, 2);
	svrcert_config_free(&c);
}

static void test_defaults(void **state)
{
	struct svrcert_config c;
	char err[600];

	assert_int_equal(load(MIN, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_false(c.peer_validation);
	assert_int_equal(c.failure_mode, SVRCERT_FAIL_SOFT);
	assert_int_equal(c.crl_polling_s, 24 * 3600);
	assert_int_equal(c.crl_backoff_s, 60);
	assert_int_equal(c.crl_timeout_s, 60);
	assert_int_equal(c.crl_connect_timeout_s, 10);
	assert_int_equal(c.key_storage, SVRCERT_KEY_TPM_BLOB);
	assert_string_equal(c.key_file, "/var/lib/svrcert/key.pem");
	assert_null(c.peering_common_name);
	assert_int_equal(c.svr_port_min, 0);
	assert_string_equal(c.state_dir, "/var/lib/svrcert");
	assert_string_equal(c.uuid_file, "/var/lib/svrcert/router-uuid");
	assert_string_equal(c.control_socket, "/run/svrcert/control.sock");
	assert_string_equal(c.audit_log, "/var/log/svrcert/audit.log");
	assert_null(c.control_group);
	assert_null(c.listen.host);
	assert_null(c.rest_listen.host);
	assert_int_equal(c.rest_token_lifetime_s, 3600);
	assert_int_equal(c.rest_body_max, 64 * 1024);
	assert_int_equal(c.rest_connections, 1024);
	assert_int_equal(c.rest_per_address, 64);
	assert_int_equal(c.rest_request_timeout_s, 30);
	assert_int_equal(c.n_peers + c.n_cas + c.n_crl_urls, 0);
	svrcert_config_free(&c);

	/* [rest]: listen with the web certificate and key */
	assert_int_equal(load(MIN "[rest]\nlisten = [::1]:8443\ncertificate = /c.pem\n"
			      "key = /k.pem\ntoken-lifetime = 15m\nbody-max = 16K\n"
			      "connection-limit = 200\nper-address-limit = 200\n"
			      "request-timeout = 2m\n",
			      &c, err, sizeof(err)), 0);
	assert_string_equal(c.rest_listen.host, "::1");
	assert_int_equal(c.rest_listen.port, 8443);
	assert_string_equal(c.rest_certificate, "/c.pem");
	assert_string_equal(c.rest_key, "/k.pem");
	assert_int_equal(c.rest_token_lifetime_s, 900);
	assert_int_equal(c.rest_body_max, 16 * 1024);
	assert_int_equal(c.rest_connections, 200);
	assert_int_equal(c.rest_per_address, 200);
	assert_int_equal(c.rest_request_timeout_s, 120);
	svrcert_config_free(&c);

	/* uuid-file follows state-dir; validation-mode defaults to strict */
	assert_int_equal(load(MIN "[daemon]\nstate-dir = /srv/x\n[trusted-ca:a]\nfile = /a\n",
			      &c, err, sizeof(err)), 0);
	assert_string_equal(c.uuid_file, "/srv/x/router-uuid");
	assert_string_equal(c.key_file, "/srv/x/key.pem");
	assert_int_equal(c.cas[0].mode, SVRCERT_MODE_STRICT);
	svrcert_config_free(&c);
}

struct bad {
	const char *text;
	const char *err;
};

static const struct bad bad_configs[] = {
	{ "", "t.conf: missing required section [router]" },
	{ "[router]\n", "t.conf:1: [router] name: required" },
	{ "name = r1\n", "t.conf:1: name: key outside any section" },
	{ MIN "bogus = 1\n", "t.conf:3: [router] bogus: unknown key" },
	{ MIN "name = r2\n", "t.conf:3: [router] name: set twice in this section" },
	{ MIN "[router]\n", "t.conf:3: duplicate section [router] (first at line 1)" },
	{ MIN "[routers]\n", "t.conf:3: unknown section [routers]" },
	{ MIN "[peer]\n", "t.conf:3: [peer] needs a name: [peer \"NAME\"]" },
	{ MIN "[crl \"x\"]\n", "t.conf:3: [crl] takes no name" },
	{ MIN "[peer \"a b\"]\n",
	  "t.conf:3: [peer \"a b\"]: name must be 1-63 characters of A-Z a-z 0-9 . _ -" },
	{ MIN "[peer \"r2\n", "t.conf:3: section header without ']'" },
	{ MIN "[peer \"r2]\n",
	  "t.conf:3: bad section header: expected [kind \"NAME\"] or [kind:NAME]" },
	{ MIN "[crl] x\n", "t.conf:3: text after section header" },
	{ MIN "[crl] # x\n", "t.conf:3: text after section header" },
	{ MIN "[crl];x\n", "t.conf:3: text after section header" },
	{ MIN "just words\n",
	  "t.conf:3: syntax error: expected \"key = value\", [section] or a comment" },
	{ MIN "peer-validation =\n", "t.conf:3: [router] peer-validation: empty value" },
	{ MIN "peer-validation = maybe\n",
	  "t.conf:3: [router] peer-validation: \"maybe\" must be true or false" },
	{ MIN "invalid-certificate-behavior = fail-loud\n",
	  "t.conf:3: [router] invalid-certificate-behavior: \"fail-loud\" must be fail-soft or fail-hard" },
	{ MIN "svr-ports = 2000-1000\n",
	  "t.conf:3: [router] svr-ports: \"2000-1000\" must be PORT or MIN-MAX, 1-65535, MIN <= MAX" },
	{ MIN "uuid-file = relative/path\n",
	  "t.conf:3: [router] uuid-file: \"relative/path\" must be an absolute path" },
	{ MIN "[crl]\npolling-interval = 0\n",
	  "t.conf:4: [crl] polling-interval: \"0\" must be a duration of 1s to 365d (bare number: hours), e.g. 24h, 90m, 1d" },
	{ MIN "[crl]\nbackoff-interval = 60 parsecs\n",
	  "t.conf:4: [crl] backoff-interval: \"60 parsecs\" must be a duration of 1s to 365d (bare number: seconds), e.g. 60s, 5m" },
	{ MIN "[crl]\npolling-interval = 366d\n",
	  "t.conf:4: [crl] polling-interval: \"366d\" must be a duration of 1s to 365d (bare number: hours), e.g. 24h, 90m, 1d" },
	{ MIN "[rest]\nlisten = 127.0.0.1:8443\n",
	  "t.conf:3: [rest] certificate: required with listen (the REST API serves HTTPS only)" },
	{ MIN "[rest]\nlisten = 127.0.0.1:8443\ncertificate = /c.pem\n",
	  "t.conf:3: [rest] key: required with listen (the REST API serves HTTPS only)" },
	{ MIN "[rest]\ntoken-lifetime = 30s\n", "t.conf:3: [rest] token-lifetime: must be 60s to 7d" },
	{ MIN "[rest]\nbody-max = 2M\n", "t.conf:3: [rest] body-max: must be 1K to 1M" },
	{ MIN "[rest]\nrequest-timeout = 61m\n", "t.conf:3: [rest] request-timeout: must be 1s to 1h" },
	{ MIN "[rest]\nconnection-limit = 8\n",
	  "t.conf:3: [rest] connection-limit: must be 16 to 16384" },
	{ MIN "[rest]\nconnection-limit = 100\nper-address-limit = 101\n",
	  "t.conf:3: [rest] per-address-limit: must not exceed connection-limit (100)" },
	{ MIN "[rest]\nper-address-limit = 0\n",
	  "t.conf:4: [rest] per-address-limit: \"0\" must be a whole number of 1 to 1000000" },
	{ MIN "[rest]\nconnection-limit = 1e3\n",
	  "t.conf:4: [rest] connection-limit: \"1e3\" must be a whole number of 1 to 1000000" },
	{ MIN "[rest]\nlisten = 8443\n",
	  "t.conf:4: [rest] listen: \"8443\" must be HOST:PORT or [IPV6]:PORT" },
	{ MIN "[crl]\nmax-size = 17G\n",
	  "t.conf:4: [crl] max-size: \"17G\" must be a size of 1 byte to 16G, e.g. 4096, 64K, 256M" },
	{ MIN "[crl]\nurl = ftp://ca/x.crl\n",
	  "t.conf:4: [crl] url: \"ftp://ca/x.crl\" must be an http:// or https:// URL without spaces, at most 2048 bytes" },
	{ MIN "[crl]\nurl = http:///x.crl\n",
	  "t.conf:4: [crl] url: \"http:///x.crl\" must be an http:// or https:// URL without spaces, at most 2048 bytes" },
	{ MIN "[crl]\nurl = http://a/x\nurl = http://a/x\n",
	  "t.conf:5: [crl] url: \"http://a/x\" is listed twice" },
	{ MIN "[trusted-ca \"root\"]\nvalidation-mode = lenient\n",
	  "t.conf:4: [trusted-ca \"root\"] validation-mode: \"lenient\" must be strict or warn" },
	{ MIN "[trusted-ca \"root\"]\nvalidation-mode = warn\n",
	  "t.conf:3: [trusted-ca \"root\"] file: required" },
	{ MIN "[trusted-ca:a]\nfile = /a\n[trusted-ca \"a\"]\n",
	  "t.conf:5: duplicate section [trusted-ca \"a\"] (first at line 3)" },
	{ MIN "[peer \"r2\"]\n", "t.conf:3: [peer \"r2\"] address: required" },
	{ MIN "[peer \"r2\"]\naddress = 10.0.0.2, 10.0.0.256\n",
	  "t.conf:4: [peer \"r2\"] address: \"10.0.0.256\" is not an IPv4 or IPv6 address" },
	{ MIN "[peer \"r2\"]\naddress = 10.0.0.2\naddress = 10.0.0.2\n",
	  "t.conf:5: [peer \"r2\"] address: \"10.0.0.2\" is listed twice" },
	{ MIN "[peer \"r2\"]\naddress = fd00::2\n[peer \"r3\"]\naddress = fd00:0::2\n",
	  "t.conf:5: [peer \"r3\"] address: also an address of peer \"r2\"" },
	{ MIN "[peer \"r2\"]\naddress = 10.0.0.2\nauthenticate = 10.0.0.2\n",
	  "t.conf:5: [peer \"r2\"] authenticate: \"10.0.0.2\" must be HOST:PORT or [IPV6]:PORT" },
	{ MIN "[daemon]\nlisten = [::]:0\n",
	  "t.conf:4: [daemon] listen: \"[::]:0\" port must be 1-65535" },
	{ MIN "[daemon]\ncontrol-group = 0wheel\n",
	  "t.conf:4: [daemon] control-group: \"0wheel\" must be a group name" },
	{ MIN "[key]\nstorage = file\n",
	  "t.conf:3: [key] key-file: required with storage = file" },
	{ MIN "[key]\nstorage = tpm\nkey-file = /k\n",
	  "t.conf:5: [key] key-file: only used with storage = tpm-blob or file" },
	{ MIN "[key]\ntpm-handle = 0x81000002\n",
	  "t.conf:4: [key] tpm-handle: only used with storage = tpm" },
	{ MIN "[key]\nstorage = tpm-blob\nkey-file = /k\ntpm-handle = 0x81000002\n",
	  "t.conf:6: [key] tpm-handle: only used with storage = tpm" },
	{ MIN "[key]\ntpm-handle = 0x80000001\n",
	  "t.conf:4: [key] tpm-handle: \"0x80000001\" must be a persistent TPM handle 0x81000000-0x81ffffff" },
	{ MIN "[key]\nstorage = hsm\n",
	  "t.conf:4: [key] storage: \"hsm\" must be tpm, tpm-blob or file" },
	{ MIN "[router]\nname = r1\n[peer:r2]\naddress = 10.0.0.2\n",
	  "t.conf:3: duplicate section [router] (first at line 1)" },
	{ MIN "peer-validation = true\x01\n",
	  "t.conf:3: [router] peer-validation: control characters in value" },
	{ MIN "  name = r2\n", "t.conf:3: [router] name: set twice in this section" },
};

static void test_bad_configs(void **state)
{
	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(bad_configs); i++) {
		struct svrcert_config c;
		char err[600];

		memset(&c, 0x5a, sizeof(c));
		assert_int_equal(load(bad_configs[i].text, &c, err, sizeof(err)), -EINVAL);
		if (strcmp(err, bad_configs[i].err))
			print_message("case %zu: got  %s\n         want %s\n", i, err,
				      bad_configs[i].err);
		assert_string_equal(err, bad_configs[i].err);
		/* *out untouched on error */
		for (size_t b = 0; b < sizeof(c); b++)
			assert_int_equal(((unsigned char *)&c)[b], 0x5a);
	}
}

/* A failed reload leaves the running configuration exactly as it was. */
static void test_reload_keeps_previous(void **state)
{
	struct svrcert_config c;
	char err[600];
	char *name;

	assert_int_equal(load(MIN "[peer:r2]\naddress = 10.0.0.2\n", &c, err, sizeof(err)), 0);
	name = c.router_name;
	assert_int_equal(load("[router]\nname = r9\n[peer:r2]\naddress = x\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_ptr_equal(c.router_name, name);
	assert_string_equal(c.router_name, "r1");
	assert_int_equal(c.n_peers, 1);
	assert_string_equal(c.peers[0].name, "r2");
	svrcert_config_free(&c);
}

static void test_names_and_lines(void **state)
{
	char name63[64], text[512], err[600];
	struct svrcert_config c;

	memset(name63, 'n', 63);
	name63[63] = '\0';
	snprintf(text, sizeof(text), MIN "[peer \"%s\"]\naddress = 10.0.0.2\n[peer:%s1]\naddress = ::1\n",
		 name63, "x");
	assert_int_equal(load(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.peers[0].name, name63);
	assert_string_equal(c.peers[1].name, "x1");
	svrcert_config_free(&c);
	snprintf(text, sizeof(text), MIN "[peer:%sn]\naddress = 10.0.0.2\n", name63);
	assert_int_equal(load(text, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:3: [peer \"nnnn"));
	/* comments, blank lines, CRLF, inline comments, a BOM */
	assert_int_equal(load("\xef\xbb\xbf# c\r\n; c\r\n\r\n[router] ; r\r\nname = r1 ; comment\r\n"
			      "peer-validation = YES\r\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.router_name, "r1");
	assert_true(c.peer_validation);
	svrcert_config_free(&c);
	/* a BOM right before the first section header */
	assert_int_equal(load("\xef\xbb\xbf[router]\nname = r1\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.router_name, "r1");
	svrcert_config_free(&c);
	/* a 5000-byte line */
	{
		char *big = malloc(6000);

		snprintf(big, 6000, MIN "[crl]\nurl = http://a/%05000d\n", 0);
		assert_int_equal(load(big, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "t.conf:4: line longer than 4096 bytes");
		free(big);
	}
}

static void test_file_errors(void **state)
{
	char path[] = "/tmp/svrcert-conf.XXXXXX", err[600];
	struct svrcert_config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, MIN "x\0y = 1\n", 22), 22);
	close(fd);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: NUL byte in line"));
	unlink(path);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, ": No such file or directory"));
	assert_int_equal(svrcert_config_load("/tmp", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/tmp: not a regular file");
}

/* A configuration others could change is refused, naming file and mode. */
static void test_permissions(void **state)
{
	char path[] = "/tmp/svrcert-conf.XXXXXX", err[600];
	struct svrcert_config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, MIN, strlen(MIN)), (ssize_t)strlen(MIN));
	close(fd);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0666: writable by group and others; chmod go-w"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0602: writable by others"));
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0664: writable by group; chmod g-w"));
	/* readable by all is fine: it holds no secret */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), 0);
	svrcert_config_free(&c);
	/* another user's file (the tests run as root) */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
		assert_int_equal(svrcert_config_load(path, &c, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
	unlink(path);
}

/* Peer keys (issue 14): defaults, ranges, "never", protect names. */
static void test_peer_key_settings(void **state)
{
	static const struct {
		const char *text, *err;	/* err NULL: loads */
	} bad[] = {
		{ MIN "[daemon]\npeer-key-rekey-interval = 30m\n",
		  "t.conf:4: [daemon] peer-key-rekey-interval: \"30m\" must be never or a duration of 1h to 720h" },
		{ MIN "[daemon]\npeer-key-rekey-interval = 721\n", "peer-key-rekey-interval: \"721\"" },
		{ MIN "[daemon]\npeer-key-timeout = 5s\n", "[daemon] peer-key-timeout: must be 10s to 1d" },
		{ MIN "[daemon]\npeer-keys = maybe\n", "[daemon] peer-keys: \"maybe\" must be true or false" },
		{ MIN "[peer \"r2\"]\naddress = 10.0.0.2\nprotect = esp\n", "[peer \"r2\"] protect: \"esp\" must be all" },
		{ MIN "[peer \"r2\"]\naddress = 10.0.0.2\nprotect = 50\n", "but 50 (ESP)" },
		{ MIN "[peer \"r2\"]\naddress = 10.0.0.2\nprotect = 256\n", "protect: \"256\"" },
	};
	struct svrcert_config c;
	char err[600];

	assert_int_equal(load(MIN "[peer \"r2\"]\naddress = 10.0.0.2\n", &c, err, sizeof(err)), 0);
	assert_false(c.peer_keys);
	assert_int_equal(c.peer_key_rekey_s, 86400);
	assert_int_equal(c.peer_key_timeout_s, 3600);
	assert_int_equal(c.peers[0].protect, 0);
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[daemon]\npeer-keys = yes\npeer-key-rekey-interval = never\n"
			      "peer-key-timeout = 2m\n[peer \"r2\"]\naddress = 10.0.0.2\n"
			      "protect = udp\n[peer \"r3\"]\naddress = 10.0.0.3\nprotect = 89\n",
			      &c, err, sizeof(err)), 0);
	assert_true(c.peer_keys);
	assert_int_equal(c.peer_key_rekey_s, 0);
	assert_int_equal(c.peer_key_timeout_s, 120);
	assert_int_equal(c.peers[0].protect, 17);
	assert_int_equal(c.peers[1].protect, 89);
	assert_string_equal(svrcert_protect_name(17), "udp");
	assert_null(svrcert_protect_name(89));
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[daemon]\npeer-key-rekey-interval = 720\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.peer_key_rekey_s, 720 * 3600);
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[daemon]\npeer-key-rekey-interval = 1h\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.peer_key_rekey_s, 3600);
	svrcert_config_free(&c);
	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(bad); i++) {
		assert_int_equal(load(bad[i].text, &c, err, sizeof(err)), -EINVAL);
		print_message("%s\n", err);
		assert_non_null(strstr(err, bad[i].err));
	}
}

static void test_value_parsers(void **state)
{
	static const struct {
		const char *s;
		uint32_t bare, want;	/* want 0: error */
	} d[] = {
		{ "24h", 1, 86400 }, { "24hrs", 1, 86400 }, { "60sec", 3600, 60 },
		{ "60s", 1, 60 }, { "90m", 1, 5400 }, { "1d", 1, 86400 },
		{ "2 days", 1, 172800 }, { "24", 3600, 86400 }, { "60", 1, 60 },
		{ "365d", 1, 365 * 86400 }, { "366d", 1, 0 }, { "0", 1, 0 },
		{ "-1s", 1, 0 }, { "+1s", 1, 0 }, { " 1s", 1, 0 }, { "1.5h", 1, 0 },
		{ "1 h", 1, 3600 }, { "1  h", 1, 0 }, { "h", 1, 0 }, { "", 1, 0 },
		{ "99999999999999999999", 1, 0 }, { "8761", 3600, 0 },
	};
	uint64_t sz;
	bool b;
	struct svrcert_addr a;

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(d); i++) {
		uint32_t s = 0;
		int ret = svrcert_parse_duration(d[i].s, d[i].bare, &s);

		print_message("duration \"%s\" -> %d %u\n", d[i].s, ret, s);
		if (d[i].want) {
			assert_int_equal(ret, 0);
			assert_int_equal(s, d[i].want);
		} else {
			assert_true(ret < 0);
		}
	}
	assert_int_equal(svrcert_parse_size("64K", &sz), 0);
	assert_int_equal(sz, 65536);
	assert_int_equal(svrcert_parse_size("256MiB", &sz), 0);
	assert_int_equal(sz, 256ull << 20);
	assert_int_equal(svrcert_parse_size("16G", &sz), 0);
	assert_true(svrcert_parse_size("16T", &sz) < 0);
	assert_true(svrcert_parse_size("0", &sz) < 0);
	assert_int_equal(svrcert_parse_bool("Off", &b), 0);
	assert_false(b);
	assert_true(svrcert_parse_bool("2", &b) < 0);
	assert_int_equal(svrcert_parse_addr("::ffff:1.2.3.4", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_true(svrcert_parse_addr("1.2.3", &a) < 0);
	assert_string_equal(svrcert_failure_mode_name(SVRCERT_FAIL_HARD), "fail-hard");
	assert_string_equal(svrcert_validation_mode_name(SVRCERT_MODE_WARN), "warn");
}

/* [crl] discover (issue 15 item 5): default yes, the usual boolean words. */
static void test_crl_discover(void **state)
{
	static const struct {
		const char *word;
		bool want;
	} words[] = { { "no", false }, { "off", false }, { "false", false },
		      { "0", false }, { "Yes", true }, { "on", true },
		      { "enabled", true }, { "1", true } };
	struct svrcert_config c;
	char text[200], err[600];

	assert_int_equal(load(MIN, &c, err, sizeof(err)), 0);
	assert_true(c.crl_discover);
	svrcert_config_free(&c);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(text, sizeof(text), MIN "[crl]\ndiscover = %s\n",
			 words[i].word);
		assert_int_equal(load(text, &c, err, sizeof(err)), 0);
		assert_int_equal(c.crl_discover, words[i].want);
		svrcert_config_free(&c);
	}
	assert_int_not_equal(load(MIN "[crl]\ndiscover = sometimes\n", &c, err,
				  sizeof(err)), 0);
	assert_non_null(strstr(err, "[crl] discover: \"sometimes\" must be "
			       "true or false"));
}

/* [crl] conductor (issue 15 item 2): https://HOST[:PORT] only, kept
 * without a trailing slash; conductor-name defaults to a host name and is
 * required for an address; refusals with their messages. */
static void test_crl_conductor(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "conductor = http://c1:4481\n", "[crl] conductor: \"http://c1:4481\" must be https://HOST or https://HOST:PORT" },
		{ "conductor = https://c1:4481/v1\n", "must be https://HOST or https://HOST:PORT (no path" },
		{ "conductor = https://u@c1:4481\n", "must be https://HOST" },
		{ "conductor = https://c1:4481?x=1\n", "must be https://HOST" },
		{ "conductor = https://\n", "must be https://HOST" },
		{ "conductor = https://c1:0\n", "port must be 1-65535" },
		{ "conductor = https://c1:4481\nconductor = https://c2\n", "[crl] conductor: set twice" },
		{ "conductor = https://10.0.0.1:4481\n", "[crl] conductor-name: required when conductor's host is an address" },
		{ "conductor = https://[::1]:4481\n", "[crl] conductor-name: required when conductor's host is an address" },
		{ "conductor-name = r1\n", "[crl] conductor-name: only used with conductor" },
		{ "conductor = https://c123456789012345678901234567890123456789012345678901234567890123\n", "[crl] conductor-name: required when conductor's host is an address or longer than a name (63)" },
		{ "conductor = https://c1\nconductor-name = bad name\n", "[crl] conductor-name: \"bad name\" must be 1-63 characters" },
	};
	struct svrcert_config c;
	char text[400], err[600];

	assert_int_equal(load(MIN, &c, err, sizeof(err)), 0);
	assert_null(c.crl_conductor);
	assert_null(c.crl_conductor_name);
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[crl]\nconductor = https://c1.example.net:4481/\n",
			      &c, err, sizeof(err)), 0);
	assert_string_equal(c.crl_conductor, "https://c1.example.net:4481");
	assert_string_equal(c.crl_conductor_name, "c1.example.net");
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[crl]\nconductor = https://[::1]:4481\n"
			      "conductor-name = r1\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.crl_conductor, "https://[::1]:4481");
	assert_string_equal(c.crl_conductor_name, "r1");
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[crl]\nconductor = https://c1\n", &c, err,
			      sizeof(err)), 0);
	assert_string_equal(c.crl_conductor_name, "c1");
	svrcert_config_free(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), MIN "[crl]\n%s", bad[i].text);
		assert_int_not_equal(load(text, &c, err, sizeof(err)), 0);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].text,
				 err, bad[i].msg);
	}
}

/* [conductor]: defaults, every key read, the checks with their messages. */
static void test_conductor(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "enable = yes\n", "[conductor] listen: required with enable = yes" },
		{ "listen = 127.0.0.1\n", "[conductor] listen: \"127.0.0.1\" must be HOST:PORT" },
		{ "max-connections = 0\n", "[conductor] max-connections: \"0\" must be a whole number" },
		{ "max-connections = 70000\n", "[conductor] max-connections: must be 1 to 65536" },
		{ "max-wait = 121\n", "[conductor] max-wait: must be 1s to 120s" },
		{ "max-wait = 0\n", "[conductor] max-wait: \"0\" must be a duration" },
		{ "enable = maybe\n", "[conductor] enable: \"maybe\" must be true or false" },
		{ "port = 1\n", "[conductor] port: unknown key" },
	};
	struct svrcert_config c;
	char text[300], err[600];

	assert_int_equal(load(MIN, &c, err, sizeof(err)), 0);
	assert_false(c.conductor);
	assert_null(c.conductor_listen.host);
	assert_int_equal(c.conductor_conns, 10000);
	assert_int_equal(c.conductor_wait_s, 60);
	svrcert_config_free(&c);
	assert_int_equal(load(MIN "[conductor]\nenable = yes\nlisten = [::1]:4481\n"
			      "max-connections = 20000\nmax-wait = 2m\n", &c, err,
			      sizeof(err)), 0);
	assert_true(c.conductor);
	assert_string_equal(c.conductor_listen.host, "::1");
	assert_int_equal(c.conductor_listen.port, 4481);
	assert_int_equal(c.conductor_conns, 20000);
	assert_int_equal(c.conductor_wait_s, 120);
	svrcert_config_free(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), MIN "[conductor]\n%s", bad[i].text);
		assert_int_not_equal(load(text, &c, err, sizeof(err)), 0);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got \"%s\"", bad[i].text, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_man_page_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_reload_keeps_previous),
		cmocka_unit_test(test_names_and_lines),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_peer_key_settings),
		cmocka_unit_test(test_crl_discover),
		cmocka_unit_test(test_conductor),
		cmocka_unit_test(test_crl_conductor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
