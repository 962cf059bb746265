/* Configuration: defaults, precedence (file < environment < flags), both flag forms, every
 * error of the file parser with its line number, size suffixes, listen syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/config.h"

static char tmpdir[] = "/tmp/roster-config-test-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	struct config c;
	struct rs_err err;
	char *env[] = {NULL};

	(void)state;
	assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_OK);
	assert_string_equal(c.listen, "127.0.0.1:7070");
	assert_string_equal(c.db, "./data/roster.db");
	assert_string_equal(c.key_file, "./data/roster.key");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.body_max, 1024 * 1024);
	assert_int_equal(c.threads, 32);
	assert_int_equal(c.sync, 0);
	assert_string_equal(c.config_file, "");
	assert_int_equal(c.job_lease_ms, 10000);
	assert_int_equal(c.job_poll_ms, 1000);
	assert_true(c.jobs);
	assert_int_equal(c.purge_every_s, 3600);
	assert_int_equal(c.access_token_ttl_s, 300);
}

/* access_token_ttl_s: 60-3600 seconds, file < env < flags like every key. */
static void test_access_token_ttl(void **state)
{
	char path[256], envcfg[300];
	struct config c;
	struct rs_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/ttl.conf", tmpdir);
	write_file(path, "access_token_ttl_s = 120\n");
	snprintf(envcfg, sizeof(envcfg), "ROSTER_CONFIG=%s", path);
	{
		char *env[] = {envcfg, NULL};

		assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_OK);
		assert_int_equal(c.access_token_ttl_s, 120);
	}
	{
		char *env[] = {envcfg, "ROSTER_ACCESS_TOKEN_TTL_S=600", NULL};

		assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_OK);
		assert_int_equal(c.access_token_ttl_s, 600);
	}
	{
		char *env[] = {envcfg, "ROSTER_ACCESS_TOKEN_TTL_S=600", NULL};
		char *argv[] = {"--access-token-ttl-s", "3600"};

		assert_int_equal(config_load(&c, 2, argv, env, &err), RS_OK);
		assert_int_equal(c.access_token_ttl_s, 3600);
	}
	{
		static const char *const bad[] = {"59", "3601", "0", "-300", "+300", "5m", ""};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char flag[64];
			char *argv[] = {flag};
			char *env[] = {NULL};

			snprintf(flag, sizeof(flag), "--access-token-ttl-s=%s", bad[i]);
			assert_int_equal(config_load(&c, 1, argv, env, &err), RS_E_INVALID);
			assert_string_equal(err.code, "config.invalid_value");
			assert_non_null(strstr(err.msg, "access_token_ttl_s must be 60-3600"));
		}
	}
	write_file(path, "access_token_ttl_s = 30\n");
	{
		char *env[] = {envcfg, NULL};

		assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_E_INVALID);
		assert_non_null(strstr(err.msg, "line 1: access_token_ttl_s"));
	}
	unlink(path);
}

/* A PostgreSQL store has no directory to put the key beside. */
static void test_key_file_for_url_store(void **state)
{
	struct config c;
	struct rs_err err;
	char *env[] = {
	    "ROSTER_DB=postgresql://roster@db1,db2/roster?target_session_attrs=read-write", NULL};
	char *env2[] = {"ROSTER_JOB_LEASE_MS=50", NULL};
	char *flags[] = {"--job-poll-ms", "20", "--purge-every-s=5", "--job-lease-ms", "1500"};

	(void)state;
	assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_OK);
	assert_true(config_db_is_url(c.db));
	assert_string_equal(c.key_file, "data/roster.key");
	assert_int_equal(config_load(&c, 5, flags, env, &err), RS_OK);
	assert_int_equal(c.job_poll_ms, 20);
	assert_int_equal(c.purge_every_s, 5);
	assert_int_equal(c.job_lease_ms, 1500);
	assert_int_equal(config_load(&c, 0, NULL, env2, &err), RS_E_INVALID);
	assert_string_equal(err.code, "config.invalid_value");
}

static void test_precedence(void **state)
{
	char path[256];
	char cfgflag[300];
	char envcfg[300];
	struct config c;
	struct rs_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/roster.conf", tmpdir);
	write_file(path, "# roster\n"
			 "listen = 10.0.0.1:1\n"
			 "db = \"/file/db.sqlite\"\n"
			 "threads = 4\n"
			 "sync = normal\n"
			 "log_level = warn\n"
			 "body_max = 2k\n");
	snprintf(envcfg, sizeof(envcfg), "ROSTER_CONFIG=%s", path);
	{
		/* file < env: env sets threads and db; file keeps listen, sync, log_level. */
		char *env[] = {envcfg, "ROSTER_THREADS=8", "ROSTER_DB=/env/db", "OTHER=1", NULL};

		assert_int_equal(config_load(&c, 0, NULL, env, &err), RS_OK);
		assert_string_equal(c.config_file, path);
		assert_string_equal(c.listen, "10.0.0.1:1");
		assert_string_equal(c.db, "/env/db");
		assert_string_equal(c.key_file, "/env/roster.key");
		assert_int_equal(c.threads, 8);
		assert_int_equal(c.sync, 1);
		assert_int_equal(c.log_level, LOG_WARN);
		assert_int_equal(c.body_max, 2048);
	}
	{
		/* env < flags, and --config beats ROSTER_CONFIG. */
		char *env[] = {"ROSTER_CONFIG=/does/not/exist", "ROSTER_THREADS=8",
			       "ROSTER_LOG_LEVEL=debug", "ROSTER_BODY_MAX=3m", NULL};
		char *argv[] = {cfgflag, "--threads",  "16",	 "--listen=[::1]:0", "--sync",
				"off",	 "--key-file", "/k/key", "--db=/flag/db"};

		snprintf(cfgflag, sizeof(cfgflag), "--config=%s", path);
		assert_int_equal(config_load(&c, 9, argv, env, &err), RS_OK);
		assert_int_equal(c.threads, 16);
		assert_string_equal(c.listen, "[::1]:0");
		assert_int_equal(c.sync, 2);
		assert_string_equal(c.key_file, "/k/key");
		assert_string_equal(c.db, "/flag/db");
		assert_int_equal(c.log_level, LOG_DEBUG);
		assert_int_equal(c.body_max, 3 * 1024 * 1024);
	}
	{
		char *env[] = {NULL};
		char *argv[] = {"--config", path, "--log-level", "error", "--body-max", "100"};

		assert_int_equal(config_load(&c, 6, argv, env, &err), RS_OK);
		assert_int_equal(c.log_level, LOG_ERROR);
		assert_int_equal(c.body_max, 100);
		assert_int_equal(c.threads, 4);
	}
	unlink(path);
}

static void test_flag_errors(void **state)
{
	static const struct {
		int argc;
		char *argv[3];
		const char *code;
		const char *msg_part;
	} t[] = {
	    {1, {"--nope"}, "config.unknown_flag", "--nope"},
	    {1, {"listen"}, "config.unknown_flag", "listen"},
	    {1, {"--"}, "config.unknown_flag", "--"},
	    {1, {"--threads"}, "config.missing_value", "--threads"},
	    {2, {"--threads", "0"}, "config.invalid_value", "--threads"},
	    {1, {"--threads=1025"}, "config.invalid_value", "threads must be 1-1024"},
	    {1, {"--threads=-1"}, "config.invalid_value", "threads"},
	    {1, {"--threads=+4"}, "config.invalid_value", "threads"},
	    {1, {"--listen=localhost"}, "config.invalid_value", "listen"},
	    {1, {"--listen=1.2.3.4:99999"}, "config.invalid_value", "listen"},
	    {1, {"--log-level=loud"}, "config.invalid_value", "log_level"},
	    {1, {"--sync=sometimes"}, "config.invalid_value", "sync"},
	    {1, {"--jobs=no"}, "config.invalid_value", "jobs must be on or off"},
	    {1, {"--body-max=1g"}, "config.invalid_value", "body_max"},
	    {1, {"--db="}, "config.invalid_value", "db"},
	    {1, {"--config=/does/not/exist"}, "config.file", "/does/not/exist"},
	};
	char *env[] = {NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct config c;
		struct rs_err err = {0};

		print_message("case %zu: %s\n", i, t[i].argv[0]);
		assert_int_not_equal(config_load(&c, t[i].argc, (char **)t[i].argv, env, &err),
				     RS_OK);
		assert_string_equal(err.code, t[i].code);
		if (!strstr(err.msg, t[i].msg_part))
			fail_msg("'%s' not in '%s'", t[i].msg_part, err.msg);
	}
	{
		struct config c;
		struct rs_err err;
		char *bad_env[] = {"ROSTER_THREADS=many", NULL};

		assert_int_equal(config_load(&c, 0, NULL, bad_env, &err), RS_E_INVALID);
		assert_non_null(strstr(err.msg, "ROSTER_THREADS"));
	}
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text;
		const char *code;
		const char *msg_part;
	} t[] = {
	    {"threads = 4\nbogus\n", "config.syntax", "line 2: expected 'key = value'"},
	    {"\n\n = 4\n", "config.syntax", "line 3: missing key"},
	    {"colour = blue\n", "config.unknown_key", "line 1: unknown key 'colour'"},
	    {"Listen = 1.2.3.4:5\n", "config.unknown_key", "line 1: unknown key 'Listen'"},
	    {"# c\nthreads =\n", "config.syntax", "line 2: missing value"},
	    {"db = \"/x\n", "config.syntax", "line 1: unterminated quoted value"},
	    {"db = \"/x\" y\n", "config.syntax", "line 1: text after the quoted value"},
	    {"db = /x\"y\n", "config.syntax", "line 1: stray '\"'"},
	    {"threads = 0\n", "config.invalid_value", "line 1: threads must be 1-1024"},
	    {"threads = 4x\n", "config.invalid_value", "line 1: threads"},
	    {"\nbody_max = 12q\n", "config.invalid_value", "line 2: body_max"},
	    {"body_max = 0\n", "config.invalid_value", "line 1: body_max"},
	    {"log_level = verbose\n", "config.invalid_value", "line 1: log_level"},
	    {"sync = 3\n", "config.invalid_value", "line 1: sync"},
	    {"listen = 127.0.0.1\n", "config.invalid_value", "line 1: listen"},
	    {"listen = \"\"\n", "config.invalid_value", "line 1: listen"},
	    {"db = \"\"\n", "config.invalid_value", "line 1: db"},
	    {"db = a\x01z\n", "config.invalid_value", "line 1: db holds control characters"},
	    {"db = \xff\xfe\n", "config.invalid_value", "line 1: db holds control characters"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct config c;
		struct rs_err err = {0};

		print_message("case %zu\n", i);
		config_defaults(&c);
		assert_int_equal(config_parse_file_text(&c, t[i].text, strlen(t[i].text), &err),
				 RS_E_INVALID);
		assert_string_equal(err.code, t[i].code);
		if (!strstr(err.msg, t[i].msg_part))
			fail_msg("'%s' not in '%s'", t[i].msg_part, err.msg);
	}
}

static void test_file_nul_and_long_line(void **state)
{
	struct config c;
	struct rs_err err;
	static const char nul[] = "threads = 4\ndb = a\0b\n";
	char *longl = malloc(5000);

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse_file_text(&c, nul, sizeof(nul) - 1, &err), RS_E_INVALID);
	assert_non_null(strstr(err.msg, "line 2: NUL byte"));
	assert_int_equal(c.threads, 4); /* lines before the error stay applied */
	memset(longl, 'a', 4999);
	longl[4999] = '\0';
	assert_int_equal(config_parse_file_text(&c, longl, 4999, &err), RS_E_INVALID);
	assert_non_null(strstr(err.msg, "line 1: longer than"));
	free(longl);
}

static void test_file_forms(void **state)
{
	struct config c;
	struct rs_err err;
	const char text[] = "\r\n"
			    "   # indented comment\r\n"
			    "\tlisten\t=\t[::]:8080   # trailing comment\r\n"
			    "db = \"/path with spaces/#hash.db\"  # comment\n"
			    "key_file = \"\"\n"
			    "log_level=debug\n"
			    "threads = 1024\n"
			    "sync = 2\n"
			    "body_max = 5M\n"
			    "threads = 7"; /* no final newline; later keys win */

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse_file_text(&c, text, sizeof(text) - 1, &err), RS_OK);
	assert_string_equal(c.listen, "[::]:8080");
	assert_string_equal(c.db, "/path with spaces/#hash.db");
	assert_string_equal(c.key_file, "");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.threads, 7);
	assert_int_equal(c.sync, 2);
	assert_int_equal(c.body_max, 5 * 1024 * 1024);
	assert_int_equal(config_parse_file_text(&c, "", 0, &err), RS_OK);
}

static void test_file_in_config_load_names_path(void **state)
{
	char path[256];
	char flag[300];
	struct config c;
	struct rs_err err;
	char *env[] = {NULL};
	char *argv[] = {flag};

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, "threads = 2\n\nnope = 1\n");
	snprintf(flag, sizeof(flag), "--config=%s", path);
	assert_int_equal(config_load(&c, 1, argv, env, &err), RS_E_INVALID);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "line 3"));
	unlink(path);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		size_t v;
	} t[] = {
	    {"1", true, 1},
	    {"1048576", true, 1048576},
	    {"1k", true, 1024},
	    {"64K", true, 65536},
	    {"1m", true, 1048576},
	    {"1024M", true, 1024u * 1024 * 1024},
	    {"1025m", false, 0},
	    {"1073741825", false, 0},
	    {"0", false, 0},
	    {"0k", false, 0},
	    {"", false, 0},
	    {"k", false, 0},
	    {"-1", false, 0},
	    {"+1", false, 0},
	    {" 1", false, 0},
	    {"1 k", false, 0},
	    {"1kb", false, 0},
	    {"1g", false, 0},
	    {"99999999999999999999999", false, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t v = 0;

		print_message("case %zu: %s\n", i, t[i].s);
		assert_int_equal(config_parse_size(t[i].s, &v), t[i].ok);
		if (t[i].ok)
			assert_int_equal(v, t[i].v);
	}
}

static void test_listen_valid(void **state)
{
	(void)state;
	assert_true(config_listen_valid("127.0.0.1:7070"));
	assert_true(config_listen_valid("0.0.0.0:0"));
	assert_true(config_listen_valid("localhost:1"));
	assert_true(config_listen_valid("[::1]:65535"));
	assert_false(config_listen_valid("[::1]:65536"));
	assert_false(config_listen_valid("::1:80"));
	assert_false(config_listen_valid("host.example:80"));
	assert_false(config_listen_valid("1.2.3.4:"));
	assert_false(config_listen_valid(":80"));
	assert_false(config_listen_valid("[1.2.3.4]:80"));
}

static void test_key_file_default(void **state)
{
	struct config c;
	struct rs_err err;
	char *env1[] = {"ROSTER_DB=roster.db", NULL};
	char *env2[] = {"ROSTER_DB=/roster.db", NULL};

	(void)state;
	assert_int_equal(config_load(&c, 0, NULL, env1, &err), RS_OK);
	assert_string_equal(c.key_file, "roster.key");
	assert_int_equal(config_load(&c, 0, NULL, env2, &err), RS_OK);
	assert_string_equal(c.key_file, "/roster.key");
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_access_token_ttl),
	    cmocka_unit_test(test_key_file_for_url_store),
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_flag_errors),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_file_nul_and_long_line),
	    cmocka_unit_test(test_file_forms),
	    cmocka_unit_test(test_file_in_config_load_names_path),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_listen_valid),
	    cmocka_unit_test(test_key_file_default),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
