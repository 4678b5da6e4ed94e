// SPDX-License-Identifier: GPL-2.0
/*
 * Starting, replacing and stopping the REST server: libmicrohttpd over TLS
 * (GnuTLS inside libmicrohttpd), one thread per connection, on a listening
 * socket of our own so that a reload can hand it from one server to the
 * next and so that a bind failure is reported by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rest_int.h"
#include "lib/fileperm.h"
#include "lib/util.h"

/* TLS 1.2 and 1.3 only, GnuTLS's default ("NORMAL") suites otherwise. */
#define REST_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define REST_LISTEN_BACKLOG	1024
#define REST_DRAIN_POLL_US	(100 * 1000)

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	vsyslog(LOG_WARNING, fmt, ap);
}

/* ARGS points into SRV so that it outlives the caller's strings. */
static void copy_args(struct rest_server *srv, const struct svrcert_env_args *a)
{
	if (a && a->config) {
		snprintf(srv->config_path, sizeof(srv->config_path), "%s",
			 a->config);
		srv->args.config = srv->config_path;
	}
	if (a && a->state_dir) {
		snprintf(srv->state_dir, sizeof(srv->state_dir), "%s",
			 a->state_dir);
		srv->args.state_dir = srv->state_dir;
	}
}

/* rc.state_dir as svrcert_env_open() finds it, unless the caller said. */
static int find_state_dir(struct rest_server *srv, char *err, size_t errlen)
{
	struct svrcert_env env;
	int ret;

	if (srv->rc.state_dir[0])
		return 0;
	ret = svrcert_env_open(&env, &srv->args, err, errlen);
	if (ret)
		return ret;
	snprintf(srv->rc.state_dir, sizeof(srv->rc.state_dir), "%s", env.st.dir);
	if (env.audit.path)
		snprintf(srv->rc.audit_path, sizeof(srv->rc.audit_path), "%s",
			 env.audit.path);
	svrcert_env_close(&env);
	return 0;
}

/* The state directory (users, token secret, audit) and this node's name. */
static int learn_state(struct rest_server *srv, char *err, size_t errlen)
{
	char path[4200];
	int ret;

	ret = find_state_dir(srv, err, errlen);
	if (ret)
		return ret;
	ret = store_open(&srv->st, srv->rc.state_dir);
	if (ret) {
		snprintf(err, errlen, "state directory %s: %s",
			 srv->rc.state_dir, strerror(-ret));
		return ret;
	}
	store_path(&srv->st, USERS_FILE, srv->users_path,
		   sizeof(srv->users_path));
	store_path(&srv->st, TOKEN_SECRET_FILE, path, sizeof(path));
	ret = token_secret_load(path, srv->secret);
	if (ret)
		snprintf(err, errlen, "%s: %s", path, ret == -EBADMSG ?
			 "not a 32-byte token secret" : ret == -EPERM ?
			 "another user owns it or group or others may read it "
			 "(chown, chmod 600)" :
			 strerror(-ret));
	if (gethostname(srv->node, sizeof(srv->node)))
		snprintf(srv->node, sizeof(srv->node), "unknown");
	srv->node[sizeof(srv->node) - 1] = '\0';
	return ret;
}

static int read_pem(const char *what, const char *path, char **out, char *err,
		    size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int ret = svrcert_read_file(path, 1u << 20, &buf, &len);

	if (ret) {
		snprintf(err, errlen, "[rest] %s %s: %s", what, path,
			 strerror(-ret));
		return ret;
	}
	*out = (char *)buf;
	return 0;
}

/*
 * Certificate and key must load and belong together. Checked here, with
 * OpenSSL, so that the error names the problem (GnuTLS inside
 * libmicrohttpd only says that setting them up failed).
 */
static int check_tls_pair(const struct rest_server *srv, char *err,
			  size_t errlen)
{
	BIO *cb = BIO_new_mem_buf(srv->cert_pem, -1);
	BIO *kb = BIO_new_mem_buf(srv->key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ret = 0;

	if (!x) {
		snprintf(err, errlen, "[rest] certificate %s: no PEM "
			 "certificate in it", srv->rc.cert_file);
		ret = -EINVAL;
	} else if (!k) {
		snprintf(err, errlen, "[rest] key %s: no PEM private key in it "
			 "(or it is encrypted)", srv->rc.key_file);
		ret = -EINVAL;
	} else if (X509_check_private_key(x, k) != 1) {
		snprintf(err, errlen, "[rest] certificate %s does not match key "
			 "%s", srv->rc.cert_file, srv->rc.key_file);
		ret = -EINVAL;
	}
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return ret;
}

/* A web key others can read is refused, not used (fileperm.h). */
static int key_perm(const char *path, char *err, size_t errlen)
{
	char why[4400];
	int ret = svrcert_key_perm_check(path, why, sizeof(why));

	if (ret == -EPERM)
		snprintf(err, errlen, "[rest] key %s", why);
	return ret == -EPERM ? ret : 0;	/* others: read_pem says */
}

static int read_tls_files(struct rest_server *srv, char *err, size_t errlen)
{
	int ret;

	ret = read_pem("certificate", srv->rc.cert_file, &srv->cert_pem, err,
		       errlen);
	if (!ret)
		ret = key_perm(srv->rc.key_file, err, errlen);
	if (!ret)
		ret = read_pem("key", srv->rc.key_file, &srv->key_pem, err,
			       errlen);
	return ret ? ret : check_tls_pair(srv, err, errlen);
}

static int listen_on(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
			SOCK_NONBLOCK, 0), one = 1, ret;

	if (fd < 0)
		return -errno;
	/* As libmicrohttpd does: restart while old connections linger. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    listen(fd, REST_LISTEN_BACKLOG)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* A listening socket on rc.host:rc.port, or -errno with ERR saying why. */
static int bind_listener(const struct rest_config *rc, char *err,
			 size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	bool v6 = strchr(rc->host, ':') != NULL;
	char port[8];
	int ret;

	snprintf(port, sizeof(port), "%u", rc->port);
	ret = getaddrinfo(rc->host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "[rest] listen %s: %s", rc->host,
			 gai_strerror(ret));
		return -EINVAL;
	}
	ret = listen_on(ai);
	freeaddrinfo(ai);
	if (ret < 0)
		snprintf(err, errlen, "[rest] listen %s%s%s:%u: %s", v6 ? "[" : "",
			 rc->host, v6 ? "]" : "", rc->port, strerror(-ret));
	return ret;
}

/* Serve on FD, which libmicrohttpd owns from here on (it closes it, also
 * when it fails to start). */
static int start_mhd(struct rest_server *srv, int fd, char *err, size_t errlen)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
			     MHD_USE_ITC | MHD_USE_TLS | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	srv->port = srv->rc.port;	/* the bound one, for port 0: */
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		srv->port = ntohs(ss.ss_family == AF_INET6 ?
				  ((struct sockaddr_in6 *)&ss)->sin6_port :
				  ((struct sockaddr_in *)&ss)->sin_port);
	if (strchr(srv->rc.host, ':'))
		flags |= MHD_USE_IPv6;
	srv->deadline = rest_deadline_new(srv->rc.request_timeout_s);
	if (!srv->deadline) {
		close(fd);
		snprintf(err, errlen, "cannot start the REST request watchdog");
		return -ENOMEM;
	}
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL,
		rest_on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,	/* first */
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem,
		MHD_OPTION_HTTPS_PRIORITIES, REST_TLS_PRIORITIES,
		MHD_OPTION_CONNECTION_LIMIT, srv->rc.conn_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->rc.per_ip_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, REST_CONN_TIMEOUT_S,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)REST_THREAD_STACK,
		MHD_OPTION_NOTIFY_COMPLETED, rest_on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, rest_deadline_notify, srv->deadline,
		MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot serve HTTPS on %s port %u with "
			 "certificate %s and key %s (details in syslog)",
			 srv->rc.host, srv->rc.port, srv->rc.cert_file,
			 srv->rc.key_file);
		return -EIO;
	}
	return 0;
}

static struct rest_server *server_new(const struct rest_config *rc,
				      const struct svrcert_env_args *args)
{
	struct rest_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->rc = *rc;
	srv->st.lock_fd = -1;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->hurry, false);
	atomic_init(&srv->drained, false);
	copy_args(srv, args);
	return srv;
}

/* Everything but the listening socket; SRV->throttle must be set. */
static int server_prepare(struct rest_server *srv, char *err, size_t errlen)
{
	int ret;

	if (!srv->throttle) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = learn_state(srv, err, errlen);
	return ret ? ret : read_tls_files(srv, err, errlen);
}

int rest_server_start(const struct rest_config *rc,
		      const struct svrcert_env_args *args,
		      struct rest_server **out, char *err, size_t errlen)
{
	struct rest_server *srv = server_new(rc, args);
	int ret, fd;

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	srv->throttle = throttle_new();
	ret = server_prepare(srv, err, errlen);
	fd = ret ? ret : bind_listener(&srv->rc, err, errlen);
	ret = fd < 0 ? fd : start_mhd(srv, fd, err, errlen);
	if (ret) {
		rest_server_stop(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

/* A second descriptor of OLD's listening socket when RC listens on the
 * same address (-ENOENT when it does not). */
static int share_listener(struct rest_server *old, const struct rest_config *rc)
{
	const union MHD_DaemonInfo *info;
	int fd;

	if (!old->mhd || strcmp(old->rc.host, rc->host) ||
	    old->rc.port != rc->port)
		return -ENOENT;
	info = MHD_get_daemon_info(old->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	if (!info || info->listen_fd < 0)
		return -ENOENT;
	fd = fcntl(info->listen_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int rest_server_replace(struct rest_server *old, const struct rest_config *rc,
			const struct svrcert_env_args *args,
			struct rest_server **out, char *err, size_t errlen)
{
	struct rest_server *srv = server_new(rc, args);
	int ret, fd;

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	srv->throttle = throttle_ref(old->throttle);
	ret = server_prepare(srv, err, errlen);
	if (ret) {
		rest_server_stop(srv);
		return ret;
	}
	/* Both servers accept from the shared socket until OLD retires:
	 * nobody is refused while the listener changes hands. */
	fd = share_listener(old, rc);
	if (fd == -ENOENT)
		fd = bind_listener(&srv->rc, err, errlen);
	else if (fd < 0)
		snprintf(err, errlen, "[rest] listening socket: %s",
			 strerror(-fd));
	ret = fd < 0 ? fd : start_mhd(srv, fd, err, errlen);
	if (ret) {
		rest_server_stop(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

/* Does PATH hold exactly TEXT? */
static bool file_holds(const char *path, const char *text)
{
	uint8_t *buf;
	size_t len;
	bool same;

	if (!text || svrcert_read_file(path, 1u << 20, &buf, &len))
		return false;
	same = len == strlen(text) && !memcmp(buf, text, len);
	OPENSSL_cleanse(buf, len);	/* may be the key */
	free(buf);
	return same;
}

bool rest_server_serves(const struct rest_server *srv,
			const struct rest_config *rc)
{
	return rest_config_equal(&srv->rc, rc) &&
	       file_holds(rc->cert_file, srv->cert_pem) &&
	       file_holds(rc->key_file, srv->key_pem);
}

/*
 * A retired server: wait (polling, this is rare and short) until no
 * request is in progress, then stop, which closes the idle keep-alive
 * connections; their clients reconnect to the successor.
 */
static void *drain(void *arg)
{
	struct rest_server *srv = arg;
	unsigned int waited_us = 0;

	while (atomic_load(&srv->in_flight) && !atomic_load(&srv->hurry) &&
	       waited_us < REST_DRAIN_MAX_S * 1000000u) {
		usleep(REST_DRAIN_POLL_US);
		waited_us += REST_DRAIN_POLL_US;
	}
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	atomic_store(&srv->drained, true);
	return NULL;
}

int rest_server_retire(struct rest_server *srv)
{
	MHD_socket fd;
	int ret;

	if (!srv->mhd || srv->retiring)
		return -EINVAL;
	/* No more accepts; the socket lives on in a successor's copy. */
	fd = MHD_quiesce_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	ret = -pthread_create(&srv->drainer, NULL, drain, srv);
	if (ret) {
		MHD_stop_daemon(srv->mhd);
		srv->mhd = NULL;
		atomic_store(&srv->drained, true);
		return ret;
	}
	srv->retiring = true;
	return 0;
}

bool rest_server_drained(struct rest_server *srv)
{
	return atomic_load(&srv->drained);
}

void rest_server_stop(struct rest_server *srv)
{
	if (!srv)
		return;
	atomic_store(&srv->hurry, true);
	if (srv->retiring)
		pthread_join(srv->drainer, NULL);
	else if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	rest_deadline_free(srv->deadline);	/* no connection left */
	throttle_unref(srv->throttle);
	if (srv->key_pem) {
		OPENSSL_cleanse(srv->key_pem, strlen(srv->key_pem));
		free(srv->key_pem);
	}
	free(srv->cert_pem);
	if (srv->st.dir[0])
		store_close(&srv->st);
	OPENSSL_cleanse(srv->secret, sizeof(srv->secret));
	free(srv);
}

uint16_t rest_server_port(const struct rest_server *srv)
{
	return srv->port;
}
