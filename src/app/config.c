/* Configuration loading: one setter per key, shared by the file parser, the environment and
 * the flags, so a value means the same wherever it comes from; only the error message
 * says where it came from. Values are echoed in errors, except smtp_password's: the one
 * secret held here (the server key is a path to a file). */
#include "app/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/limits.h"
#include "util/str.h"

extern char **environ;

#define CONFIG_LINE_MAX 4096

bool config_db_is_url(const char *db)
{
	return strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	str_copy(cfg->listen, sizeof(cfg->listen), "127.0.0.1:7070");
	str_copy(cfg->db, sizeof(cfg->db), "./data/roster.db");
	cfg->log_level = LOG_INFO;
	cfg->body_max = RS_BODY_MAX_DEFAULT;
	cfg->threads = 32;
	cfg->job_lease_ms = 10000;
	cfg->job_poll_ms = 1000;
	cfg->purge_every_s = 3600;
	cfg->sync = 0;
	cfg->smtp_starttls = 1; /* try: use TLS whenever the relay offers it */
	cfg->delivery_max_attempts = 5;
	cfg->delivery_backoff_ms = 2000;
	cfg->delivery_timeout_ms = 10000;
	cfg->jobs = true;
	cfg->login_per_minute = 20;
	cfg->access_token_ttl_s = 300;
}

bool config_parse_size(const char *s, size_t *out)
{
	char digits[32];
	size_t n = strlen(s), mult = 1;
	long long v;

	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, s, n + 1);
	switch (digits[n - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		digits[--n] = '\0';
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		digits[--n] = '\0';
		break;
	default:
		break;
	}
	/* str_to_ll accepts a sign; a size has none. */
	if (n == 0 || digits[0] < '0' || digits[0] > '9')
		return false;
	if (!str_to_ll(digits, 1, CONFIG_BODY_MAX_LIMIT, &v) ||
	    (unsigned long long)v > CONFIG_BODY_MAX_LIMIT / mult)
		return false;
	*out = (size_t)v * mult;
	return true;
}

static bool port_valid(const char *p)
{
	long long v;

	return p[0] >= '0' && p[0] <= '9' && str_to_ll(p, 0, 65535, &v);
}

bool config_listen_valid(const char *s)
{
	char host[64];
	const char *colon;
	size_t hl;
	unsigned char addr[16];

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return false;
		hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return false;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		return inet_pton(AF_INET6, host, addr) == 1 && port_valid(rb + 2);
	}
	colon = strrchr(s, ':');
	if (!colon)
		return false;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return (strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1) &&
	       port_valid(colon + 1);
}

enum config_key {
	KEY_LISTEN,
	KEY_DB,
	KEY_KEY_FILE,
	KEY_LOG_LEVEL,
	KEY_BODY_MAX,
	KEY_THREADS,
	KEY_SYNC,
	KEY_JOB_LEASE,
	KEY_JOB_POLL,
	KEY_PURGE_EVERY,
	KEY_SMTP_URL,
	KEY_SMTP_FROM,
	KEY_SMTP_USER,
	KEY_SMTP_PASSWORD,
	KEY_SMTP_STARTTLS,
	KEY_PUBLIC_URL,
	KEY_DELIVERY_MAX_ATTEMPTS,
	KEY_DELIVERY_BACKOFF,
	KEY_DELIVERY_TIMEOUT,
	KEY_JOBS,
	KEY_LOGIN_RATE,
	KEY_ACCESS_TOKEN_TTL,
	KEY_COUNT
};

/* File key, flag (without "--") and environment variable of each setting. */
static const struct {
	const char *file, *flag, *env;
} keys[KEY_COUNT] = {
    [KEY_LISTEN] = {"listen", "listen", "ROSTER_LISTEN"},
    [KEY_DB] = {"db", "db", "ROSTER_DB"},
    [KEY_KEY_FILE] = {"key_file", "key-file", "ROSTER_KEY_FILE"},
    [KEY_LOG_LEVEL] = {"log_level", "log-level", "ROSTER_LOG_LEVEL"},
    [KEY_BODY_MAX] = {"body_max", "body-max", "ROSTER_BODY_MAX"},
    [KEY_THREADS] = {"threads", "threads", "ROSTER_THREADS"},
    [KEY_SYNC] = {"sync", "sync", "ROSTER_SYNC"},
    [KEY_JOB_LEASE] = {"job_lease_ms", "job-lease-ms", "ROSTER_JOB_LEASE_MS"},
    [KEY_JOB_POLL] = {"job_poll_ms", "job-poll-ms", "ROSTER_JOB_POLL_MS"},
    [KEY_PURGE_EVERY] = {"purge_every_s", "purge-every-s", "ROSTER_PURGE_EVERY_S"},
    [KEY_SMTP_URL] = {"smtp_url", "smtp-url", "ROSTER_SMTP_URL"},
    [KEY_SMTP_FROM] = {"smtp_from", "smtp-from", "ROSTER_SMTP_FROM"},
    [KEY_SMTP_USER] = {"smtp_user", "smtp-user", "ROSTER_SMTP_USER"},
    [KEY_SMTP_PASSWORD] = {"smtp_password", "smtp-password", "ROSTER_SMTP_PASSWORD"},
    [KEY_SMTP_STARTTLS] = {"smtp_starttls", "smtp-starttls", "ROSTER_SMTP_STARTTLS"},
    [KEY_PUBLIC_URL] = {"public_url", "public-url", "ROSTER_PUBLIC_URL"},
    [KEY_DELIVERY_MAX_ATTEMPTS] = {"delivery_max_attempts", "delivery-max-attempts",
				   "ROSTER_DELIVERY_MAX_ATTEMPTS"},
    [KEY_DELIVERY_BACKOFF] = {"delivery_backoff_ms", "delivery-backoff-ms",
			      "ROSTER_DELIVERY_BACKOFF_MS"},
    [KEY_DELIVERY_TIMEOUT] = {"delivery_timeout_ms", "delivery-timeout-ms",
			      "ROSTER_DELIVERY_TIMEOUT_MS"},
    [KEY_JOBS] = {"jobs", "jobs", "ROSTER_JOBS"},
    [KEY_LOGIN_RATE] = {"login_attempts_per_minute", "login-attempts-per-minute",
			"ROSTER_LOGIN_ATTEMPTS_PER_MINUTE"},
    [KEY_ACCESS_TOKEN_TTL] = {"access_token_ttl_s", "access-token-ttl-s",
			      "ROSTER_ACCESS_TOKEN_TTL_S"},
};

static int key_by_file_name(const char *name, size_t n)
{
	for (int k = 0; k < KEY_COUNT; k++) {
		if (strlen(keys[k].file) == n && memcmp(keys[k].file, name, n) == 0)
			return k;
	}
	return -1;
}

/* A free-text key; the value is not echoed (it may be the SMTP password). */
static enum rs_status text_key(char *dst, size_t cap, const char *v, const char *name,
			       const char *where, struct rs_err *err)
{
	if (!str_copy(dst, cap, v))
		return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
			       "%s: %s is longer than %zu bytes", where, name, cap - 1);
	return RS_OK;
}

/* Sets one key. where says where the value came from ("line 3", "ROSTER_DB", "--db") and
 * only goes into the message. */
static enum rs_status set_key(struct config *cfg, enum config_key k, const char *v,
			      const char *where, struct rs_err *err)
{
	const char *name = keys[k].file;
	long long n;
	size_t sz;

	if (!str_valid_text(v))
		return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
			       "%s: %s holds control characters or invalid UTF-8", where, name);
	switch (k) {
	case KEY_LISTEN:
		if (!config_listen_valid(v) || !str_copy(cfg->listen, sizeof(cfg->listen), v))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: listen must be IPV4:PORT or [IPV6]:PORT, not '%s'",
				       where, v);
		return RS_OK;
	case KEY_DB:
		if (!v[0] || !str_copy(cfg->db, sizeof(cfg->db), v))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: db must be a path of 1-%d bytes", where,
				       CONFIG_PATH_MAX - 1);
		return RS_OK;
	case KEY_KEY_FILE:
		/* Empty is allowed: it means "next to the database". */
		if (!str_copy(cfg->key_file, sizeof(cfg->key_file), v))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: key_file must be a path of at most %d bytes", where,
				       CONFIG_PATH_MAX - 1);
		return RS_OK;
	case KEY_LOG_LEVEL:
		if (!log_level_parse(v, &cfg->log_level))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: log_level must be debug, info, warn or error, not '%s'",
				       where, v);
		return RS_OK;
	case KEY_BODY_MAX:
		if (!config_parse_size(v, &sz))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: body_max must be bytes, optionally with k or m, "
				       "from 1 to 1 GiB, not '%s'",
				       where, v);
		cfg->body_max = sz;
		return RS_OK;
	case KEY_THREADS:
		if (v[0] < '0' || v[0] > '9' || !str_to_ll(v, 1, CONFIG_THREADS_MAX, &n))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: threads must be 1-%d, not '%s'", where,
				       CONFIG_THREADS_MAX, v);
		cfg->threads = (unsigned)n;
		return RS_OK;
	case KEY_SYNC:
		if (strcmp(v, "full") == 0 || strcmp(v, "0") == 0)
			cfg->sync = 0;
		else if (strcmp(v, "normal") == 0 || strcmp(v, "1") == 0)
			cfg->sync = 1;
		else if (strcmp(v, "off") == 0 || strcmp(v, "2") == 0)
			cfg->sync = 2;
		else
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: sync must be full, normal or off, not '%s'", where, v);
		return RS_OK;
	case KEY_JOB_LEASE:
	case KEY_JOB_POLL:
	case KEY_PURGE_EVERY: {
		/* Job timing: milliseconds for the lease and the poll, seconds for the purge. */
		static const long long lo[] = {100, 10, 1}, hi[] = {3600000, 60000, 604800};
		int i = (int)k - KEY_JOB_LEASE;

		if (v[0] < '0' || v[0] > '9' || !str_to_ll(v, lo[i], hi[i], &n))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: %s must be %lld-%lld, not '%s'", where, keys[k].file,
				       lo[i], hi[i], v);
		if (k == KEY_JOB_LEASE)
			cfg->job_lease_ms = n;
		else if (k == KEY_JOB_POLL)
			cfg->job_poll_ms = n;
		else
			cfg->purge_every_s = n;
		return RS_OK;
	}
	case KEY_SMTP_URL:
		if (v[0] && strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0)
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: smtp_url must start with smtp:// or smtps://, not '%s'",
				       where, v);
		return text_key(cfg->smtp_url, sizeof(cfg->smtp_url), v, name, where, err);
	case KEY_SMTP_FROM:
		return text_key(cfg->smtp_from, sizeof(cfg->smtp_from), v, name, where, err);
	case KEY_SMTP_USER:
		return text_key(cfg->smtp_user, sizeof(cfg->smtp_user), v, name, where, err);
	case KEY_SMTP_PASSWORD:
		return text_key(cfg->smtp_password, sizeof(cfg->smtp_password), v, name, where,
				err);
	case KEY_SMTP_STARTTLS:
		if (strcmp(v, "off") == 0)
			cfg->smtp_starttls = 0;
		else if (strcmp(v, "try") == 0)
			cfg->smtp_starttls = 1;
		else if (strcmp(v, "require") == 0)
			cfg->smtp_starttls = 2;
		else
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: smtp_starttls must be off, try or require, not '%s'",
				       where, v);
		return RS_OK;
	case KEY_LOGIN_RATE:
		if (v[0] < '0' || v[0] > '9' || !str_to_ll(v, 0, 100000, &n))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: login_attempts_per_minute must be 0-100000 (0: no "
				       "limit), not '%s'",
				       where, v);
		cfg->login_per_minute = n;
		return RS_OK;
	case KEY_JOBS:
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: jobs must be on or off, not '%s'", where, v);
		cfg->jobs = strcmp(v, "on") == 0;
		return RS_OK;
	case KEY_PUBLIC_URL:
		if (v[0] && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			return rs_fail(
			    err, RS_E_INVALID, "config.invalid_value", name,
			    "%s: public_url must start with http:// or https://, not '%s'", where,
			    v);
		return text_key(cfg->public_url, sizeof(cfg->public_url), v, name, where, err);
	case KEY_DELIVERY_MAX_ATTEMPTS:
	case KEY_DELIVERY_BACKOFF:
	case KEY_DELIVERY_TIMEOUT: {
		static const long long lo[] = {1, 10, 100}, hi[] = {100, 3600000, 600000};
		int i = (int)k - KEY_DELIVERY_MAX_ATTEMPTS;

		if (v[0] < '0' || v[0] > '9' || !str_to_ll(v, lo[i], hi[i], &n))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: %s must be %lld-%lld, not '%s'", where, keys[k].file,
				       lo[i], hi[i], v);
		if (k == KEY_DELIVERY_MAX_ATTEMPTS)
			cfg->delivery_max_attempts = (int)n;
		else if (k == KEY_DELIVERY_BACKOFF)
			cfg->delivery_backoff_ms = n;
		else
			cfg->delivery_timeout_ms = n;
		return RS_OK;
	}
	case KEY_ACCESS_TOKEN_TTL:
		/* Short-lived on purpose: a JWT is not looked up, so it dies only by expiring. */
		if (v[0] < '0' || v[0] > '9' || !str_to_ll(v, 60, 3600, &n))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", name,
				       "%s: access_token_ttl_s must be 60-3600, not '%s'", where,
				       v);
		cfg->access_token_ttl_s = n;
		return RS_OK;
	case KEY_COUNT:
		break;
	}
	return rs_fail(err, RS_E_INTERNAL, "config.bug", NULL, "%s: no such key", where);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line, [s, e) without the newline. */
static enum rs_status parse_line(struct config *cfg, const char *s, const char *e, unsigned lineno,
				 struct rs_err *err)
{
	char where[32], value[CONFIG_PATH_MAX];
	const char *eq, *ks, *ke, *vs, *ve;
	size_t vn;
	int k;

	snprintf(where, sizeof(where), "line %u", lineno);
	if (memchr(s, '\0', (size_t)(e - s)))
		return rs_fail(err, RS_E_INVALID, "config.syntax", NULL, "%s: NUL byte", where);
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if (s == e || *s == '#')
		return RS_OK;
	eq = memchr(s, '=', (size_t)(e - s));
	if (!eq)
		return rs_fail(err, RS_E_INVALID, "config.syntax", NULL,
			       "%s: expected 'key = value'", where);
	ks = s;
	ke = eq;
	while (ke > ks && is_space(ke[-1]))
		ke--;
	if (ke == ks)
		return rs_fail(err, RS_E_INVALID, "config.syntax", NULL, "%s: missing key", where);
	k = key_by_file_name(ks, (size_t)(ke - ks));
	if (k < 0)
		return rs_fail(err, RS_E_INVALID, "config.unknown_key", NULL,
			       "%s: unknown key '%.*s'", where,
			       (int)((size_t)(ke - ks) > 64 ? 64 : (size_t)(ke - ks)), ks);
	vs = eq + 1;
	while (vs < e && is_space(*vs))
		vs++;
	ve = e;
	if (vs < e && *vs == '"') {
		const char *close = memchr(vs + 1, '"', (size_t)(e - vs - 1));
		const char *rest;

		if (!close)
			return rs_fail(err, RS_E_INVALID, "config.syntax", keys[k].file,
				       "%s: unterminated quoted value", where);
		/* After the closing quote only blanks or a comment may follow. */
		for (rest = close + 1; rest < e && is_space(*rest); rest++)
			;
		if (rest < e && *rest != '#')
			return rs_fail(err, RS_E_INVALID, "config.syntax", keys[k].file,
				       "%s: text after the quoted value", where);
		vs++;
		ve = close;
	} else {
		/* An unquoted value ends at a " #" comment. */
		for (const char *p = vs; p < e; p++) {
			if (*p == '#' && p > vs && is_space(p[-1])) {
				ve = p;
				break;
			}
			if (*p == '"')
				return rs_fail(err, RS_E_INVALID, "config.syntax", keys[k].file,
					       "%s: stray '\"' in value", where);
		}
		while (ve > vs && is_space(ve[-1]))
			ve--;
		if (ve == vs)
			return rs_fail(err, RS_E_INVALID, "config.syntax", keys[k].file,
				       "%s: missing value for '%s' (use \"\" for empty)", where,
				       keys[k].file);
	}
	vn = (size_t)(ve - vs);
	if (vn >= sizeof(value))
		return rs_fail(err, RS_E_INVALID, "config.invalid_value", keys[k].file,
			       "%s: value too long", where);
	memcpy(value, vs, vn);
	value[vn] = '\0';
	return set_key(cfg, (enum config_key)k, value, where, err);
}

enum rs_status config_parse_file_text(struct config *cfg, const char *text, size_t len,
				      struct rs_err *err)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		enum rs_status st;

		lineno++;
		if (e - p > CONFIG_LINE_MAX)
			return rs_fail(err, RS_E_INVALID, "config.syntax", NULL,
				       "line %u: longer than %d bytes", lineno, CONFIG_LINE_MAX);
		st = parse_line(cfg, p, e, lineno, err);
		if (st != RS_OK)
			return st;
		p = nl ? nl + 1 : end;
	}
	return RS_OK;
}

static enum rs_status read_file(struct config *cfg, const char *path, struct rs_err *err)
{
	enum rs_status st = RS_OK;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (!str_copy(cfg->config_file, sizeof(cfg->config_file), path) || !path[0])
		return rs_fail(err, RS_E_INVALID, "config.file", "config",
			       "config file path is empty or too long");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rs_fail(err, RS_E_INVALID, "config.file", "config",
			       "cannot open config file '%s': %s", path, strerror(errno));
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		st = rs_fail(err, RS_E_INTERNAL, "config.out_of_memory", NULL, "out of memory");
		goto out;
	}
	/* Read one byte past the limit to tell "exactly the limit" from "too big". */
	while (len <= CONFIG_FILE_MAX) {
		n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = rs_fail(err, RS_E_INVALID, "config.file", "config",
				     "cannot read config file '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_FILE_MAX) {
		st = rs_fail(err, RS_E_TOO_LARGE, "config.file", "config",
			     "config file '%s' is larger than %d bytes", path, CONFIG_FILE_MAX);
		goto out;
	}
	st = config_parse_file_text(cfg, buf, len, err);
	if (st != RS_OK) {
		/* Say which file, keeping the line number the parser wrote. */
		char msg[CONFIG_PATH_MAX + sizeof(err->msg) + 2];

		snprintf(msg, sizeof(msg), "%s: %s", path, err->msg);
		str_copy(err->msg, sizeof(err->msg), msg);
	}
out:
	free(buf);
	close(fd);
	return st;
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (char **e = envp; e && *e; e++) {
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	}
	return NULL;
}

/* "--name value" or "--name=value" at argv[*i]: finds the flag and its value, advancing *i
 * past a separate value. Returns the key, KEY_COUNT for --config, or -1 (err filled). */
static int flag_take(int argc, char **argv, int *i, const char **value, struct rs_err *err)
{
	const char *a = argv[*i];
	const char *name, *eq;
	size_t n;
	int k = -1;

	if (strncmp(a, "--", 2) != 0 || !a[2]) {
		rs_fail(err, RS_E_INVALID, "config.unknown_flag", NULL, "unexpected argument '%s'",
			a);
		return -1;
	}
	name = a + 2;
	eq = strchr(name, '=');
	n = eq ? (size_t)(eq - name) : strlen(name);
	if (n == 6 && memcmp(name, "config", 6) == 0) {
		k = KEY_COUNT;
	} else {
		for (int j = 0; j < KEY_COUNT; j++) {
			if (strlen(keys[j].flag) == n && memcmp(keys[j].flag, name, n) == 0)
				k = j;
		}
	}
	if (k < 0) {
		rs_fail(err, RS_E_INVALID, "config.unknown_flag", NULL, "unknown flag '--%.*s'",
			(int)(n > 64 ? 64 : n), name);
		return -1;
	}
	if (eq) {
		*value = eq + 1;
	} else if (*i + 1 < argc) {
		*value = argv[++*i];
	} else {
		rs_fail(err, RS_E_INVALID, "config.missing_value", NULL,
			"flag '--%s' needs a value", name);
		return -1;
	}
	return k;
}

enum rs_status config_load(struct config *cfg, int argc, char **argv, char **envp,
			   struct rs_err *err)
{
	const char *file = NULL, *v;
	enum rs_status st;
	char where[80];

	config_defaults(cfg);
	if (!envp)
		envp = environ;
	/* Pass 1: flags are checked and --config found before anything is applied, because
	 * the file sits below the environment and the flags. */
	for (int i = 0; i < argc; i++) {
		int k = flag_take(argc, argv, &i, &v, err);

		if (k < 0)
			return RS_E_INVALID;
		if (k == KEY_COUNT)
			file = v;
	}
	if (!file)
		file = env_get(envp, "ROSTER_CONFIG");
	if (file) {
		st = read_file(cfg, file, err);
		if (st != RS_OK)
			return st;
	}
	for (int k = 0; k < KEY_COUNT; k++) {
		v = env_get(envp, keys[k].env);
		if (!v)
			continue;
		st = set_key(cfg, (enum config_key)k, v, keys[k].env, err);
		if (st != RS_OK)
			return st;
	}
	for (int i = 0; i < argc; i++) {
		int k = flag_take(argc, argv, &i, &v, err);

		if (k < 0)
			return RS_E_INVALID; /* not reached: pass 1 checked every flag */
		if (k == KEY_COUNT)
			continue;
		snprintf(where, sizeof(where), "--%s", keys[k].flag);
		st = set_key(cfg, (enum config_key)k, v, where, err);
		if (st != RS_OK)
			return st;
	}
	if (!cfg->public_url[0]) {
		/* Links in e-mails point at this server unless told otherwise; the wildcard
		 * address is reachable on loopback. */
		const char *host = cfg->listen, *colon = strrchr(cfg->listen, ':');
		int hl = colon ? (int)(colon - host) : (int)strlen(host);

		if ((hl == 7 && strncmp(host, "0.0.0.0", 7) == 0) ||
		    (hl == 4 && strncmp(host, "[::]", 4) == 0)) {
			host = "127.0.0.1";
			hl = 9;
		}
		snprintf(cfg->public_url, sizeof(cfg->public_url), "http://%.*s%s", hl, host,
			 colon ? colon : "");
	}
	if (!cfg->key_file[0]) {
		/* Default key location: beside the database, so one directory holds both. A
		 * PostgreSQL store has no directory: its nodes share a key given explicitly, and
		 * without one it lives in ./data like the SQLite default. */
		const char *slash = config_db_is_url(cfg->db) ? NULL : strrchr(cfg->db, '/');
		int n;

		if (config_db_is_url(cfg->db))
			n = snprintf(cfg->key_file, sizeof(cfg->key_file), "data/roster.key");
		else if (slash)
			n = snprintf(cfg->key_file, sizeof(cfg->key_file), "%.*s/roster.key",
				     (int)(slash - cfg->db), cfg->db);
		else
			n = snprintf(cfg->key_file, sizeof(cfg->key_file), "roster.key");
		if (n < 0 || (size_t)n >= sizeof(cfg->key_file))
			return rs_fail(err, RS_E_INVALID, "config.invalid_value", "key_file",
				       "the default key_file path (beside db) is too long");
	}
	return RS_OK;
}
