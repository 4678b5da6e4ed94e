// SPDX-License-Identifier: GPL-2.0
/*
 * Peer authentication: authenticate host names are looked up without
 * blocking the loop. The whole program runs in its own mount namespace
 * where /etc/resolv.conf names one DNS server, NS (a loopback address, port
 * 53), that the tests control: nothing listening there (a lookup fails at
 * once), or a UDP socket that never answers (a dead DNS server: the lookup
 * hangs until its timeout). Names in /etc/hosts (localhost) still resolve.
 * Without the privilege to make the namespace, the tests are skipped.
 *
 * The last test runs the real svrcertd in that namespace and shows that its
 * control socket answers at once while the lookup hangs, then reports
 * "cannot resolve HOST: ..." for the peer.
 */
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/ctlsock.h"
#include "test_peerauth_fixture.h"

static bool have_ns;
static char ns_addr[32];		/* the DNS server of the namespace */
static char resolv_conf[64];

/* Private mount namespace with our resolv.conf bind-mounted: the host's
 * file is never touched (MS_PRIVATE first, so nothing propagates). */
static int dns_namespace(void)
{
	FILE *fp;
	int fd;

	snprintf(ns_addr, sizeof(ns_addr), "127.53.%d.1", getpid() % 250 + 1);
	snprintf(resolv_conf, sizeof(resolv_conf), "/tmp/pa-resolv-%d.conf",
		 getpid());
	fp = fopen(resolv_conf, "w");
	if (!fp)
		return -1;
	fprintf(fp, "nameserver %s\noptions timeout:30 attempts:1\n", ns_addr);
	fclose(fp);
	fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	if (unshare(CLONE_NEWNS) ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
	    mount(resolv_conf, "/etc/resolv.conf", "none", MS_BIND, NULL))
		return -1;
	return 0;
}

/* A DNS server that receives queries and never answers. */
static int dead_dns_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ns_addr, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Answer the queries waiting at the DNS server FD (within WAIT_MS for the
 * first): A with 127.0.0.1, AAAA with ::1 (where nobody listens: the
 * other address must be tried), anything else with no data; or every one
 * with NXDOMAIN. Returns how many were answered. */
static int dns_answer(int fd, bool nxdomain, int wait_ms)
{
	static const uint8_t a_rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
					0, 4, 127, 0, 0, 1 };
	static const uint8_t aaaa_rr[] = { 0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60,
					   0, 16, 0, 0, 0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0, 0, 0, 1 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t q[512], r[600];
	int count = 0;

	while (poll(&pfd, 1, count ? 200 : wait_ms) == 1) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0,
				     (struct sockaddr *)&from, &fl);
		size_t off = 12;
		const uint8_t *rr = NULL;
		size_t rrlen = 0;

		while (n > 12 && off < (size_t)n && q[off])
			off += q[off] + 1u;
		off += 5;		/* root label, QTYPE, QCLASS */
		if (n <= 12 || off > (size_t)n)
			continue;
		if (!nxdomain && q[off - 4] == 0 && q[off - 3] == 1) {
			rr = a_rr;
			rrlen = sizeof(a_rr);
		} else if (!nxdomain && q[off - 4] == 0 && q[off - 3] == 28) {
			rr = aaaa_rr;
			rrlen = sizeof(aaaa_rr);
		}
		memcpy(r, q, off);
		r[2] = 0x84 | (q[2] & 0x01);	/* response, AA, RD as asked */
		r[3] = 0x80 | (nxdomain ? 3 : 0);
		memset(r + 6, 0, 6);
		r[7] = rr != NULL;
		if (rr)
			memcpy(r + off, rr, rrlen);
		sendto(fd, r, off + rrlen, 0, (struct sockaddr *)&from, fl);
		count++;
	}
	return count;
}

static int ns_group_setup(void **state)
{
	have_ns = !dns_namespace();
	if (!have_ns)
		fprintf(stderr, "# no private mount namespace (%s): lookup "
			"tests skipped\n", strerror(errno));
	return group_setup(state);
}

static int ns_group_teardown(void **state)
{
	unlink(resolv_conf);
	return group_teardown(state);
}

static json_t *r1_view(struct fx *f, const char *key)
{
	json_t *root = peerauth_status_json(f->r1.pa);
	json_t *v = json_object_get(json_array_get(json_object_get(root,
						   "peers"), 0), key);

	json_incref(v);
	json_decref(root);
	return v;
}

static bool r1_failed_twice(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= 2;
}

/* No DNS server: the lookup fails at once, is reported and retried with
 * the backoff (1 s, then 2 s). */
static void test_lookup_fails(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1 };
	struct peerauth_peer_status s;
	json_t *v;

	if (!have_ns)
		skip();
	f->r1.call_host = "peer-r2.invalid";
	start_r1(f, "r1.pem", "r2");
	assert_true(drive(rs, 1, r1_failed_twice, f, 5000));
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r2", &s), 0);
	assert_int_equal(s.state, SVRCERT_STATE_UNKNOWN);
	assert_true(!strncmp(s.reason, "cannot resolve peer-r2.invalid: ", 32));
	assert_int_equal(f->r1.bound.calls, 0);
	assert_true(peerauth_timeout_ms(f->r1.pa) > 1000);
	v = r1_view(f, "attempt");
	assert_true(!strncmp(json_string_value(v), "next in ", 8));
	json_decref(v);
}

static bool r1_failed_once(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= 1;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A dead DNS server: the loop keeps turning (every peerauth_process is
 * quick) while the peer says "resolving"; after the handshake timeout the
 * lookup is given up with a clear reason. */
static void test_lookup_hangs(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1 };
	struct peerauth_peer_status s;
	struct timespec t0, t;
	int64_t worst = 0;
	json_t *v;
	int dns;

	if (!have_ns)
		skip();
	dns = dead_dns_server();
	f->r1.call_host = "slow.example.test";
	f->r1.handshake_ms = 1500;
	start_r1(f, "r1.pem", "r2");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 1000) {
		struct pollfd fds[8];
		size_t n = peerauth_pollfds(f->r1.pa, fds, 8);

		poll(fds, n, 50);
		clock_gettime(CLOCK_MONOTONIC, &t);
		peerauth_process(f->r1.pa, fds, n);
		if (ms_since(&t) > worst)
			worst = ms_since(&t);
	}
	assert_true(worst < 500);	/* the lookup takes 1500 */
	v = r1_view(f, "attempt");
	assert_string_equal(json_string_value(v), "resolving slow.example.test");
	json_decref(v);
	assert_int_equal(cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED), 0);

	assert_true(drive(rs, 1, r1_failed_once, f, 3000));
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r2", &s), 0);
	assert_string_equal(s.reason, "cannot resolve slow.example.test: "
			    "no answer within 1500 ms");
	close(dns);
}

/* Turn R's loop for MS while asserting that every turn is quick. */
static void turn_quickly(struct router *r, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < ms) {
		struct pollfd fds[8];
		size_t n = peerauth_pollfds(r->pa, fds, 8);

		poll(fds, n, 50);
		clock_gettime(CLOCK_MONOTONIC, &t);
		peerauth_process(r->pa, fds, n);
		assert_true(ms_since(&t) < 500);
	}
}

/* A DNS server that answers after 700 ms: the loop turns meanwhile, then
 * the answers are connected to in turn (::1 refused, 127.0.0.1) and r2
 * authenticated. */
static void test_lookup_slow_answer(void **state)
{
	struct fx *f = *state;
	json_t *v;
	int dns;

	if (!have_ns)
		skip();
	dns = dead_dns_server();
	start_r2(f);
	f->r1.call_host = "r2.example.test";
	start_r1(f, "r1.pem", "r2");
	turn_quickly(&f->r1, 700);
	v = r1_view(f, "attempt");
	assert_string_equal(json_string_value(v), "resolving r2.example.test");
	json_decref(v);
	assert_true(dns_answer(dns, false, 1000) >= 1);
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
	v = r1_view(f, "resolved");
	assert_int_equal(json_array_size(v), 2);
	assert_true(!strcmp(json_string_value(json_array_get(v, 0)), "::1") ||
		    !strcmp(json_string_value(json_array_get(v, 1)), "::1"));
	assert_true(!strcmp(json_string_value(json_array_get(v, 0)), "127.0.0.1") ||
		    !strcmp(json_string_value(json_array_get(v, 1)), "127.0.0.1"));
	json_decref(v);
	/* glibc sorts ::1 first here: refused, the next address is tried
	 * within the same attempt, which therefore did not fail. */
	assert_int_equal(cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED), 0);
	close(dns);
}

/* Freed while glibc still works on the lookup: the lookup is orphaned and
 * freed by its own notification when the answer (NXDOMAIN) comes; nothing
 * touches the freed instance or its closed pipe (run under valgrind or
 * ASan to see it). */
static void test_lookup_abandoned(void **state)
{
	struct fx *f = *state;
	int dns;

	if (!have_ns)
		skip();
	dns = dead_dns_server();
	f->r1.call_host = "gone.example.test";
	start_r1(f, "r1.pem", "r2");
	turn_quickly(&f->r1, 300);
	peerauth_free(f->r1.pa);
	f->r1.pa = NULL;
	assert_true(dns_answer(dns, true, 1000) >= 1);
	usleep(300000);		/* the notification runs */
	close(dns);
}

/* A name from /etc/hosts resolves and the peer is authenticated. */
static void test_hosts_name(void **state)
{
	struct fx *f = *state;

	if (!have_ns)
		skip();
	start_r2(f);
	f->r1.call_host = "localhost";
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
}

/* svrcertd in this namespace: own certificate and key from the test PKI,
 * one peer called by name, no kernel (the binding fails, which is fine). */
static pid_t daemon_start(struct fx *f, char *sock, size_t socklen)
{
	char exe[PATH_MAX], prog[PATH_MAX + 16], conf[300], text[2048];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;
	FILE *fp;

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(prog, sizeof(prog), "%s/../svrcertd", dirname(exe));
	install(&f->r1, "cert.pem", "r1.pem");
	snprintf(sock, socklen, "%s/ctl.sock", f->r1.dir);
	snprintf(conf, sizeof(conf), "%s/svrcert.conf", f->r1.dir);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n[key]\nstorage = file\nkey-file = %s\n"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[peer \"r2\"]\naddress = 10.0.0.9\n"
		 "authenticate = slow.example.test:4480\n"
		 "[daemon]\nstate-dir = %s\ncontrol-socket = %s\n"
		 "audit-log = %s/audit.log\n",
		 testpki_path("r1.key"), testpki_path("bundle.pem"), f->r1.dir,
		 sock, f->r1.dir);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(prog, prog, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
	return pid;
}

/* {"command": "peers"} on the control socket; the reply and how long it
 * took. */
static json_t *daemon_peers(const char *sock, int64_t *took_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"command\": \"peers\"}\n";
	char *line = NULL;
	struct timespec t0;
	json_t *j;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	assert_int_equal(ctlsock_read_line(fd, 5000, &line), 0);
	*took_ms = ms_since(&t0);
	close(fd);
	j = json_loads(line, 0, NULL);
	free(line);
	assert_non_null(j);
	return j;
}

static const char *peer0(json_t *reply, const char *key)
{
	return json_string_value(json_object_get(json_array_get(
		json_object_get(reply, "peers"), 0), key));
}

static pid_t daemon_pid;

/* Whatever happened to the test: the daemon goes. */
static int daemon_teardown(void **state)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
	return teardown(state);
}

static bool resolving(const char *sock)
{
	int64_t took;
	json_t *j = daemon_peers(sock, &took);
	bool yes = !strcmp(peer0(j, "attempt"), "resolving slow.example.test");

	json_decref(j);
	return yes;
}

static void test_daemon_answers_while_resolving(void **state)
{
	struct fx *f = *state;
	char sock[128];
	int64_t took, waited = 0;
	json_t *j;
	int dns;

	if (!have_ns)
		skip();
	dns = dead_dns_server();
	daemon_pid = daemon_start(f, sock, sizeof(sock));
	/* The first turn of the loop may answer before it starts the
	 * attempt ("next in 0 s"). */
	for (int i = 0; i < 20 && !resolving(sock); i++)
		usleep(100000);
	/* The lookup hangs for 10 s (the handshake timeout); the control
	 * socket answers at once all along. */
	for (int i = 0; i < 5; i++) {
		j = daemon_peers(sock, &took);
		assert_true(took < 1000);
		assert_string_equal(peer0(j, "attempt"),
				    "resolving slow.example.test");
		assert_string_equal(peer0(j, "transport_error"), "");
		json_decref(j);
		usleep(400000);
	}
	for (;;) {
		j = daemon_peers(sock, &took);
		assert_true(took < 1000);
		if (peer0(j, "transport_error")[0] || waited > 15000)
			break;
		json_decref(j);
		usleep(250000);
		waited += 250;
	}
	assert_string_equal(peer0(j, "transport_error"), "cannot resolve "
			    "slow.example.test: no answer within 10000 ms");
	assert_string_equal(peer0(j, "state"), "unknown");
	json_decref(j);
	close(dns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_lookup_fails),
		T(test_lookup_hangs),
		T(test_hosts_name),
		T(test_lookup_slow_answer),
		T(test_lookup_abandoned),
		cmocka_unit_test_setup_teardown(
			test_daemon_answers_while_resolving, setup,
			daemon_teardown),
#undef T
	};

	return cmocka_run_group_tests(tests, ns_group_setup, ns_group_teardown);
}
