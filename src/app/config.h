/* Server configuration: built-in defaults < config file < environment < command-line flags.
 * This module only parses and validates; it opens nothing but the config file and starts
 * nothing. The file format is "key = value" lines, '#' comment lines, blank lines; values
 * may be double-quoted (no escapes; a quoted value may hold '#' and spaces). */
#ifndef ROSTER_APP_CONFIG_H
#define ROSTER_APP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/log.h"

#define CONFIG_LISTEN_MAX 128
#define CONFIG_PATH_MAX 1024
#define CONFIG_FILE_MAX (256 * 1024)		    /* a config file is a few hundred bytes */
#define CONFIG_BODY_MAX_LIMIT (1024u * 1024 * 1024) /* body_max may not exceed 1 GiB */
#define CONFIG_THREADS_MAX 1024
#define CONFIG_VALUE_MAX 512 /* URLs, addresses, credentials */

struct config {
	char listen[CONFIG_LISTEN_MAX]; /* "127.0.0.1:7070", "[::1]:7070"; port 0 = any free */
	char db[CONFIG_PATH_MAX];
	/* "" until config_load() resolves it to "<dir of db>/roster.key" */
	char key_file[CONFIG_PATH_MAX];
	enum log_level log_level;
	size_t body_max;	 /* bytes */
	unsigned threads;	 /* HTTP worker threads, 1-1024 */
	int sync;		 /* enum store_sync values: 0 full, 1 normal, 2 off */
	long long job_lease_ms;	 /* a claimed job becomes another node's after this */
	long long login_per_minute; /* login attempts per source address and node; 0 = off */
	bool jobs;		 /* false: this node serves requests only, never runs jobs */
	long long job_poll_ms;	 /* an idle job runner looks for work this often */
	long long purge_every_s; /* expired API tokens are purged this often */
	/* Delivery (src/delivery/): the SMTP relay and the links in e-mails. */
	char smtp_url[CONFIG_VALUE_MAX];  /* smtp://host:port, smtps://…; "" = none */
	char smtp_from[CONFIG_VALUE_MAX]; /* "" = roster@localhost */
	char smtp_user[CONFIG_VALUE_MAX];
	char smtp_password[CONFIG_VALUE_MAX]; /* a secret: never echoed nor logged */
	int smtp_starttls;		      /* enum smtp_tls values: 0 off, 1 try, 2 require */
	char public_url[CONFIG_VALUE_MAX];    /* "" until config_load() derives it from listen */
	int delivery_max_attempts;	      /* per message, 1-100 (default 5) */
	long long delivery_backoff_ms;	      /* first retry delay, doubled per attempt */
	long long delivery_timeout_ms;	      /* one SMTP session or webhook call */
	long long access_token_ttl_s;	      /* JWT access tokens' lifetime, 60-3600 (300) */
	char config_file[CONFIG_PATH_MAX];    /* the file read, "" if none */
};

/* Fills cfg with the built-in defaults: listen 127.0.0.1:7070, db ./data/roster.db, key_file
 * "" (derived from db), log level info, body_max 1 MiB, 32 threads, sync full. Cannot fail. */
void config_defaults(struct config *cfg);

/* Builds the configuration from every source. argv holds argc flags after the subcommand
 * ("--listen 127.0.0.1:0", "--threads=8", …; unknown flags are errors). envp is a
 * NULL-terminated "NAME=value" array, or NULL for the process environment. The file comes
 * from --config, else ROSTER_CONFIG; none means defaults + environment + flags. An empty
 * key_file is resolved last from the final db. On error cfg holds a partial result and err
 * says which source, key or line was wrong (RS_E_INVALID; RS_E_TOO_LARGE for an oversized
 * file). Not thread-safe only in that it reads environ when envp is NULL. */
enum rs_status config_load(struct config *cfg, int argc, char **argv, char **envp,
			   struct rs_err *err);

/* Applies the settings of a config file's text (len bytes, need not be NUL-terminated) on
 * top of cfg. Errors name the 1-based line: RS_E_INVALID with code config.syntax,
 * config.unknown_key or config.invalid_value. Settings before the bad line stay applied. */
enum rs_status config_parse_file_text(struct config *cfg, const char *text, size_t len,
				      struct rs_err *err);

/* Parses a byte size: plain digits, or with a k/K (KiB) or m/M (MiB) suffix; 1 to
 * CONFIG_BODY_MAX_LIMIT. False on anything else. */
bool config_parse_size(const char *s, size_t *out);

/* True when db names a server (postgres:// or postgresql://) rather than an SQLite file. */
bool config_db_is_url(const char *db);

/* True for "IPV4:PORT", "localhost:PORT" and "[IPV6]:PORT" with PORT 0-65535. */
bool config_listen_valid(const char *s);

#endif
