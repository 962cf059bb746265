/* The layer's own header checks: X-Request-Id syntax and JSON media types; method index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"

static void test_request_id(void **state)
{
	static const struct {
		const char *id;
		bool ok;
	} t[] = {
	    {"a", true},
	    {"abc-DEF_123.x", true},
	    {"0123456789012345678901234567890123456789012345678901234567890123", true},	  /* 64 */
	    {"01234567890123456789012345678901234567890123456789012345678901234", false}, /* 65 */
	    {"", false},
	    {"has space", false},
	    {"semi;colon", false},
	    {"quote\"d", false},
	    {"slash/x", false},
	    {"tab\tx", false},
	    {"nl\nx", false},
	    {"\xc3\xbc-unicode", false},
	    {"colon:x", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(http_request_id_valid(t[i].id), t[i].ok);
	}
	assert_false(http_request_id_valid(NULL));
}

static void test_content_type(void **state)
{
	static const struct {
		const char *ct;
		bool ok;
	} t[] = {
	    {"application/json", true},
	    {"application/json; charset=utf-8", true},
	    {"application/json;charset=UTF-8", true},
	    {"Application/JSON", true},
	    {"  application/json  ", true},
	    {"application/merge-patch+json", true},
	    {"application/scim+json; charset=utf-8", true},
	    {"application/problem+JSON", true},
	    {"application/+json", false},
	    {"application/jsonx", false},
	    {"application/json-seq", false},
	    {"application/xml", false},
	    {"text/json", false},
	    {"text/plain", false},
	    {"application/x-www-form-urlencoded", false},
	    {"multipart/form-data; boundary=x", false},
	    {"application/json x", false},
	    {"application", false},
	    {"", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case %zu: %s\n", i, t[i].ct);
		assert_int_equal(http_content_type_is_json(t[i].ct), t[i].ok);
	}
	assert_false(http_content_type_is_json(NULL));
}

/* An in-process request (no connection) has the headers it was given, any case, and no query. */
static void test_in_process_headers(void **state)
{
	const struct http_param h[] = {{"Authorization", "Bearer x"}, {"If-Match", "W/\"2\""}};
	struct http_req req = {.headers = h, .nheaders = 2};

	(void)state;
	assert_string_equal(http_header(&req, "authorization"), "Bearer x");
	assert_string_equal(http_header(&req, "IF-MATCH"), "W/\"2\"");
	assert_null(http_header(&req, "Content-Type"));
	assert_null(http_query(&req, "attributes"));
	req.nheaders = 0;
	assert_null(http_header(&req, "Authorization"));
}

static void test_method_index(void **state)
{
	(void)state;
	assert_int_equal(http_method_index("GET"), HTTP_M_GET);
	assert_int_equal(http_method_index("DELETE"), HTTP_M_DELETE);
	assert_int_equal(http_method_index("get"), HTTP_M_OTHER);
	assert_int_equal(http_method_index("BREW"), HTTP_M_OTHER);
	assert_int_equal(http_method_index(NULL), HTTP_M_OTHER);
	assert_string_equal(http_method_name(HTTP_M_PATCH), "PATCH");
	assert_string_equal(http_method_name(HTTP_M_OTHER), "other");
}

static void test_listen_parse(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int family;
	} t[] = {
	    {"127.0.0.1:7070", true, AF_INET},
	    {"0.0.0.0:0", true, AF_INET},
	    {"localhost:80", true, AF_INET},
	    {"[::1]:7070", true, AF_INET6},
	    {"[::]:0", true, AF_INET6},
	    {"127.0.0.1", false, 0},
	    {"127.0.0.1:", false, 0},
	    {"127.0.0.1:65536", false, 0},
	    {"127.0.0.1:-1", false, 0},
	    {"127.0.0.1:+1", false, 0},
	    {":7070", false, 0},
	    {"::1:7070", false, 0},
	    {"[::1]7070", false, 0},
	    {"[::1:7070", false, 0},
	    {"[]:1", false, 0},
	    {"example.com:80", false, 0},
	    {"", false, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		struct rs_err err;

		print_message("case %zu: %s\n", i, t[i].s);
		assert_int_equal(http_listen_parse(t[i].s, &ss, &len, &err) == RS_OK, t[i].ok);
		if (t[i].ok)
			assert_int_equal(ss.ss_family, t[i].family);
		else
			assert_string_equal(err.code, "config.invalid_listen");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_id),	       cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_in_process_headers), cmocka_unit_test(test_method_index),
	    cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
