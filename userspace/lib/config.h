/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcert.conf(5): the INI configuration of svrcertd and svrcertctl.
 *
 * Parsed with inih. Sections:
 *   [router]                      this router (name required)
 *   [key]                         where the private key lives
 *   [trusted-ca "NAME"]           one per trusted CA bundle (also [trusted-ca:NAME])
 *   [crl]                         CRL sources and polling
 *   [peer "NAME"]                 one per SVR peer (also [peer:NAME])
 *   [daemon]                      state dir, control socket, audit log, listen
 *   [rest]                        svrcertd's HTTPS REST API (rest.h)
 *   [conductor]                   svrcertd serving the revocation state
 *                                 (Documentation/conductor.md)
 *
 * Every error (syntax, unknown section or key, duplicate key, bad value,
 * missing required item) fails the whole load with one message of the form
 * "FILE:LINE: [SECTION] KEY: what is wrong"; the caller's configuration is
 * left untouched, so a reload that fails keeps the previous one in force.
 * Documentation/man/svrcert.conf.5 describes every key.
 */
#ifndef SVRCERT_CONFIG_H
#define SVRCERT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/svrcert.h>

/* Longest name of a router, trusted CA or peer (as the kernel's limit). */
#define SVRCERT_CONF_NAME_MAX	SVRCERT_PEER_NAME_MAX

/* Defaults (see svrcert.conf(5)). */
#define SVRCERT_DEF_POLLING_S		(24u * 3600u)
#define SVRCERT_DEF_BACKOFF_S		60u
#define SVRCERT_DEF_CRL_TIMEOUT_S	60u
#define SVRCERT_DEF_CRL_CONNECT_S	10u
#define SVRCERT_DEF_CRL_MAX_SIZE	(256ull << 20)
#define SVRCERT_DEF_TPM_HANDLE		0x81000001u
#define SVRCERT_DEF_STATE_DIR		"/var/lib/svrcert"
#define SVRCERT_DEF_CONTROL_SOCKET	"/run/svrcert/control.sock"
#define SVRCERT_DEF_AUDIT_LOG		"/var/log/svrcert/audit.log"
#define SVRCERT_DEF_LISTEN_PORT		4480
#define SVRCERT_DEF_REST_TOKEN_S	3600u		/* [rest] token-lifetime */
#define SVRCERT_DEF_REST_BODY_MAX	(64u << 10)	/* [rest] body-max */
#define SVRCERT_DEF_REST_CONNECTIONS	1024u	/* [rest] connection-limit */
#define SVRCERT_DEF_REST_PER_ADDRESS	64u	/* [rest] per-address-limit */
#define SVRCERT_DEF_REST_REQUEST_S	30u	/* [rest] request-timeout */
#define SVRCERT_DEF_CONDUCTOR_CONNS	10000u	/* [conductor] max-connections */
#define SVRCERT_CONDUCTOR_CONNS_MAX	65536u
#define SVRCERT_DEF_CONDUCTOR_WAIT_S	60u	/* [conductor] max-wait */
#define SVRCERT_CONDUCTOR_WAIT_MAX_S	120u
#define SVRCERT_DEF_METRICS_INTERVAL_S	60u	/* [daemon] metrics-interval */
#define SVRCERT_DEF_CHECK_INTERVAL_S	3600u	/* [daemon] check-interval */
#define SVRCERT_DEF_PEER_KEY_REKEY_S	86400u	/* [daemon] peer-key-rekey-interval */
#define SVRCERT_PEER_KEY_REKEY_MAX_S	(720u * 3600u)
#define SVRCERT_DEF_PEER_KEY_TIMEOUT_S	3600u	/* [daemon] peer-key-timeout */
#define SVRCERT_DEF_CONFIG_PATH		"/etc/svrcert/svrcert.conf"
#define SVRCERT_DEF_KEY_FILE_NAME	"key.pem"	/* in state-dir */

/* validation-mode of a trusted CA bundle: governs config-time checks only. */
enum svrcert_validation_mode {
	SVRCERT_MODE_STRICT,	/* default: any problem rejects the bundle */
	SVRCERT_MODE_WARN,	/* problems are reported, the bundle is used */
};

/* [key] storage = ... */
enum svrcert_key_storage {
	SVRCERT_KEY_TPM,	/* TPM persistent object at tpm-handle, made
				 * persistent by the administrator */
	SVRCERT_KEY_TPM_BLOB,	/* default: TPM-wrapped key ("TSS2 PRIVATE KEY")
				 * in key-file (default STATE_DIR/key.pem) */
	SVRCERT_KEY_FILE,	/* plain private key in key-file (required);
				 * warned about */
};

/* One address of a peer; family is AF_INET or AF_INET6. */
struct svrcert_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* An endpoint "host:port" or "[v6]:port"; host is kept as text. */
struct svrcert_endpoint {
	char *host;		/* NULL when not configured */
	uint16_t port;
};

struct svrcert_trusted_ca {
	char *name;		/* from the section header */
	char *file;		/* file = PATH (required) */
	enum svrcert_validation_mode mode; /* validation-mode = strict|warn */
	int line;		/* line of the section header (messages) */
};

struct svrcert_peer {
	char *name;		/* peering name, from the section header */
	struct svrcert_addr *addrs; /* address = ...; required, 1..16 */
	size_t n_addrs;
	struct svrcert_endpoint authenticate; /* authenticate = host:port;
					       * optional: peer auth target */
	bool accept_any_source;	/* accept-any-source = (default false: an
				 * incoming authentication must come from
				 * address or authenticate's host) */
	uint8_t protect;	/* protect = (peer-keys): the IP protocol ESP
				 * protects between the two peer addresses;
				 * 0 (default "all"): all IP traffic */
	int line;
};

struct svrcert_config {
	char *path;			/* file it was loaded from ("<string>") */

	/* [router] */
	char *router_name;		/* name = (required) */
	char *uuid_file;		/* uuid-file = (default STATE_DIR/router-uuid) */
	char *peering_common_name;	/* peering-common-name = (optional; CN
					 * of the CSR instead of the UUID) */
	bool peer_validation;		/* peer-validation = (default false) */
	enum svrcert_failure_mode failure_mode; /* failure-mode (also
						 * invalid-certificate-behavior)
						 * = fail-soft (default) |
						 * fail-hard */
	uint16_t svr_port_min, svr_port_max; /* svr-ports = N or N-M; 0/0 when
					      * unset (kernel keeps its own) */

	/* [key] */
	enum svrcert_key_storage key_storage; /* storage = tpm-blob (default)
					       * | tpm | file */
	uint32_t tpm_handle;		/* tpm-handle = 0x81xxxxxx (tpm) */
	char *key_file;			/* key-file = (tpm-blob: default
					 * STATE_DIR/key.pem; file: required;
					 * tpm: NULL) */
	char *tpm_tcti;			/* tcti = (optional, e.g. swtpm:port=2321) */

	/* [trusted-ca "NAME"] */
	struct svrcert_trusted_ca *cas;
	size_t n_cas;

	/* [crl] */
	char **crl_urls;		/* url = (repeatable; http/https only) */
	size_t n_crl_urls;
	uint32_t crl_polling_s;		/* polling-interval = (default 24h) */
	uint32_t crl_backoff_s;		/* backoff-interval = (default 60s) */
	uint32_t crl_timeout_s;		/* timeout = (default 60s) */
	uint32_t crl_connect_timeout_s;	/* connect-timeout = (default 10s) */
	uint64_t crl_max_size;		/* max-size = bytes, K/M/G suffix
					 * (default 256M) */
	bool crl_discover;		/* discover = (default yes): follow
					 * the certificates' CRL
					 * distribution points */
	char *crl_conductor;		/* conductor = https://HOST[:PORT]
					 * (NULL: none; Documentation/
					 * conductor.md) */
	char *crl_conductor_name;	/* conductor-name = the identity its
					 * certificate must carry (default:
					 * HOST, when a name) */

	/* [peer "NAME"] */
	struct svrcert_peer *peers;
	size_t n_peers;

	/* [daemon] */
	char *state_dir;		/* state-dir = (default /var/lib/svrcert) */
	char *control_socket;		/* control-socket = */
	char *control_group;		/* control-group = (NULL: root only) */
	char *audit_log;		/* audit-log = */
	char *metrics_file;		/* metrics-file = *.prom (NULL: none) */
	uint32_t metrics_interval_s;	/* metrics-interval = (5s..1h, 60s) */
	uint32_t check_interval_s;	/* check-interval = (1s..7d, 1h): the
					 * own-certificate check; svrcertd's
					 * --check-interval wins */
	struct svrcert_endpoint listen;	/* listen = host:port (peer auth);
					 * default host NULL = not listening */
	bool peer_keys;			/* peer-keys = (default false): agree
					 * ESP keys with authenticated peers */
	uint32_t peer_key_rekey_s;	/* peer-key-rekey-interval = (1h..720h,
					 * 24h; 0 = never) */
	uint32_t peer_key_timeout_s;	/* peer-key-timeout = (10s..1d, 3600s) */
	/* [rest] (REST API over HTTPS; off unless listen is set) */
	struct svrcert_endpoint rest_listen;	/* listen = host:port */
	char *rest_certificate;		/* certificate = PEM (+ chain) */
	char *rest_key;			/* key = PEM private key file */
	uint32_t rest_token_lifetime_s;	/* token-lifetime = (60s..7d, 1h) */
	uint64_t rest_body_max;		/* body-max = (1K..1M, 64K) */
	uint32_t rest_connections;	/* connection-limit = (16..16384, 1024) */
	uint32_t rest_per_address;	/* per-address-limit = (1..connection-
					 * limit, 64) */
	uint32_t rest_request_timeout_s; /* request-timeout = (1s..1h, 30s):
					 * whole request, headers and body */
	/* [conductor] (Documentation/conductor.md) */
	bool conductor;			/* enable = (default no) */
	struct svrcert_endpoint conductor_listen; /* listen = host:port
					 * (required with enable) */
	uint32_t conductor_conns;	/* max-connections = (1..65536, 10000) */
	uint32_t conductor_wait_s;	/* max-wait = (1s..120s, 60s): longest
					 * hold of a long-poll */
};

/*
 * Load PATH into *out. Returns 0, or a negative errno with a one-line
 * message in err ("PATH:LINE: [section] key: reason"). *out is written only
 * on success; free it with svrcert_config_free(). Not thread-safe (inih's
 * options are process-global).
 */
int svrcert_config_load(const char *path, struct svrcert_config *out,
			char *err, size_t errlen);

/* As svrcert_config_load(), from a NUL-terminated string; NAME is used as
 * the file name in messages. */
int svrcert_config_load_string(const char *text, const char *name,
			       struct svrcert_config *out,
			       char *err, size_t errlen);

/* Free everything a successful load allocated; *cfg is zeroed. */
void svrcert_config_free(struct svrcert_config *cfg);

/* Find a peer / trusted CA by name, or NULL. */
const struct svrcert_peer *svrcert_config_peer(const struct svrcert_config *cfg,
					       const char *name);
const struct svrcert_trusted_ca *
svrcert_config_trusted_ca(const struct svrcert_config *cfg, const char *name);

/*
 * Value parsers, exposed for svrcertctl (same rules as the file):
 * duration: "90s", "15m", "24h", "1d"; also the seed's spellings "24hrs",
 * "60sec", "min", "hours", "days"; a bare number is in units of BARE_UNIT_S
 * seconds (polling-interval: hours, backoff-interval: seconds, as the seed
 * documents them). Range 1 s .. 365 d.
 */
int svrcert_parse_duration(const char *s, uint32_t bare_unit_s,
			   uint32_t *seconds);
/* "4096", "64K", "256M", "1G" (binary units); 1 .. 16G bytes. */
int svrcert_parse_size(const char *s, uint64_t *bytes);
/* "yes/no/true/false/on/off/1/0" */
int svrcert_parse_bool(const char *s, bool *out);
/* "never" (0) or a duration of 1 h .. 720 h; a bare number is in hours. */
int svrcert_parse_rekey_interval(const char *s, uint32_t *seconds);
/* "all" (0), a protocol name (tcp, udp, icmp, icmpv6, sctp, gre) or 1-255. */
int svrcert_parse_protect(const char *s, uint8_t *proto);
/* The name svrcert_parse_protect reads for PROTO, or NULL for a bare number. */
const char *svrcert_protect_name(uint8_t proto);
/* IPv4 or IPv6 literal */
int svrcert_parse_addr(const char *s, struct svrcert_addr *out);

const char *svrcert_validation_mode_name(enum svrcert_validation_mode m);
const char *svrcert_failure_mode_name(enum svrcert_failure_mode m);

#endif
