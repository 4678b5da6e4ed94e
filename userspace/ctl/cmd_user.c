// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl user add NAME [--role admin|operator] [--password-stdin]
 * svrcertctl user passwd NAME [--password-stdin]
 * svrcertctl user del NAME
 * svrcertctl user revoke-tokens NAME
 * svrcertctl user list [-j]
 *     (each also takes --config FILE / --state-dir DIR)
 *
 * Users of svrcertd's REST API (users.h). The password is read from the
 * terminal without echo (asked twice), or as one line from standard input
 * with --password-stdin for scripts; it is never taken from the command
 * line, where other users could read it in /proc. Changes are written
 * atomically under the state lock and take effect on the next request:
 * the tokens of a deleted user, of one whose password changed, and those
 * ended by revoke-tokens stop working at once (token.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ctl.h"
#include "pki/store_env.h"
#include "rest/users.h"

struct user_opts {
	const char *op, *name;
	enum user_role role;
	bool role_given, from_stdin, json;
};

static int user_usage(void)
{
	fprintf(stderr, "usage: svrcertctl user add NAME [--role admin|operator] "
		"[--password-stdin]\n"
		"       svrcertctl user passwd NAME [--password-stdin]\n"
		"       svrcertctl user del NAME\n"
		"       svrcertctl user revoke-tokens NAME\n"
		"       svrcertctl user list [-j]\n"
		"       (also --config FILE, --state-dir DIR)\n");
	return CTL_USAGE;
}

/* One line from F without its newline; -EMSGSIZE when too long. */
static int read_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, f))
		return -EIO;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(f))
		return -EMSGSIZE;
	return 0;
}

static int prompt(FILE *tty, const char *what, char *buf, size_t len)
{
	struct termios old, quiet;
	int ret;

	fprintf(stderr, "%s", what);
	if (tcgetattr(fileno(tty), &old))
		return -errno;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet))
		return -errno;
	ret = read_line(tty, buf, len);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	return ret;
}

static int get_password(const struct user_opts *o, char *pw, size_t len)
{
	char again[USER_PASSWORD_MAX + 2];
	FILE *tty;
	int ret;

	if (o->from_stdin)
		return read_line(stdin, pw, len);
	tty = fopen("/dev/tty", "r+e");
	if (!tty) {
		fprintf(stderr, "svrcertctl user: no terminal to ask the password "
			"on (use --password-stdin)\n");
		return -ENOTTY;
	}
	ret = prompt(tty, "Password: ", pw, len);
	if (!ret)
		ret = prompt(tty, "Password again: ", again, sizeof(again));
	if (!ret && strcmp(pw, again)) {
		fprintf(stderr, "svrcertctl user: the passwords differ\n");
		ret = -EINVAL;
	}
	OPENSSL_cleanse(again, sizeof(again));
	fclose(tty);
	return ret;
}

static int list_users(const struct user_db *db, bool json)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < db->n; i++) {
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s}",
				"name", db->v[i].name,
				"role", users_role_name(db->v[i].role)));
		else
			printf("%-32s %s\n", db->v[i].name,
			       users_role_name(db->v[i].role));
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return CTL_OK;
}

/* add / passwd / del on the loaded DB; the caller saves it. */
static int change(struct user_db *db, const struct user_opts *o)
{
	char pw[USER_PASSWORD_MAX + 2];
	int ret;

	if (!strcmp(o->op, "del"))
		return users_del(db, o->name);
	if (!strcmp(o->op, "revoke-tokens"))
		return users_revoke_tokens(db, o->name);
	if (!strcmp(o->op, "passwd") && !users_find(db, o->name))
		return -ENOENT;
	if (!strcmp(o->op, "add") && users_find(db, o->name))
		return -EEXIST;
	ret = get_password(o, pw, sizeof(pw));
	if (!ret && !strcmp(o->op, "add"))
		ret = users_set(db, o->name, o->role, pw);
	else if (!ret)
		ret = users_set_password(db, o->name, pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	return ret;
}

static const char *change_error(int ret, const struct user_opts *o)
{
	switch (ret) {
	case -ENOENT: return "no such user";
	case -EEXIST: return "the user exists already (use passwd to change "
			     "the password)";
	case -ERANGE: return "the password must have 8 to 1024 characters";
	case -EINVAL: return "bad user name (1-32 of A-Z a-z 0-9 . _ -) or "
			     "password";
	case -EMSGSIZE: return "the password line is too long";
	default: return strerror(-ret);
	}
}

static int run(struct svrcert_env *env, const struct user_opts *o)
{
	struct user_db db;
	char path[4200], err[512];
	int ret;

	store_path(&env->st, USERS_FILE, path, sizeof(path));
	ret = store_lock(&env->st);
	if (!ret)
		ret = users_load(path, &db, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "state lock: %s", strerror(-ret));
	if (ret) {
		fprintf(stderr, "svrcertctl user: %s\n", err);
		return CTL_FAIL;
	}
	if (!strcmp(o->op, "list")) {
		ret = list_users(&db, o->json);
		users_free(&db);
		return ret;
	}
	ret = change(&db, o);
	if (ret)
		fprintf(stderr, "svrcertctl user %s %s: %s\n", o->op, o->name,
			change_error(ret, o));
	else if ((ret = users_save(path, &db)))
		fprintf(stderr, "svrcertctl user: %s: %s\n", path, strerror(-ret));
	users_free(&db);
	return ret ? CTL_FAIL : CTL_OK;
}

static int parse_opts(int argc, char **argv, struct user_opts *o)
{
	int i;

	o->json = ctl_take_json_flag(&argc, argv);
	o->role = USER_ROLE_OPERATOR;
	if (argc < 2)
		return -EINVAL;
	o->op = argv[1];
	if (!strcmp(o->op, "list"))
		return argc == 2 ? 0 : -EINVAL;
	if (strcmp(o->op, "add") && strcmp(o->op, "del") &&
	    strcmp(o->op, "passwd") && strcmp(o->op, "revoke-tokens"))
		return -EINVAL;
	if (argc < 3 || argv[2][0] == '-')
		return -EINVAL;
	o->name = argv[2];
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--password-stdin") &&
		    (!strcmp(o->op, "add") || !strcmp(o->op, "passwd")))
			o->from_stdin = true;
		else if (!strcmp(argv[i], "--role") && i + 1 < argc &&
			 !strcmp(o->op, "add") && !o->role_given) {
			if (users_role_parse(argv[++i], &o->role))
				return -EINVAL;
			o->role_given = true;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

int cmd_user(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	struct user_opts o = { 0 };
	char err[512];
	int ret;

	if (svrcert_env_take_args(&argc, argv, &ea) ||
	    parse_opts(argc, argv, &o))
		return user_usage();
	if (o.name && !users_name_ok(o.name)) {
		fprintf(stderr, "svrcertctl user: bad user name \"%s\" (1-32 of "
			"A-Z a-z 0-9 . _ -, not starting with . or -)\n", o.name);
		return CTL_FAIL;
	}
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = run(&env, &o);
	svrcert_env_close(&env);
	return ret;
}
