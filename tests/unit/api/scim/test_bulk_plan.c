/* api/scim/bulk_plan: a BulkRequest read, checked and ordered (RFC 7644 section 3.7). Table
 * driven: each case is a request (JSON written with ' for "), the request-level outcome, and
 * for an accepted request the order and each operation's fate ('r' runnable, '4' 400, '9'
 * 409) by request index. Then reference resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/scim/bulk_plan.h"

#define REQ(ops) "{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':[" ops "]}"
#define POST_U(b) "{'method':'POST','path':'/Users','bulkId':'" b "','data':{'userName':'x'}}"

struct tcase {
	const char *req;
	enum rs_status st;
	const char *scim_type; /* request-level errors */
	const char *order;     /* "2 0 1" */
	const char *fates;     /* "rr9" */
};

static const struct tcase cases[] = {
    /* Request-level. */
    {"[]", RS_E_INVALID, SCIM_INVALID_SYNTAX, NULL, NULL},
    {"{'Operations':[]}", RS_E_INVALID, SCIM_INVALID_SYNTAX, NULL, NULL},
    {"{'schemas':['urn:x'],'Operations':[]}", RS_E_INVALID, SCIM_INVALID_SYNTAX, NULL, NULL},
    {"{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':{}}", RS_E_INVALID, SCIM_INVALID_SYNTAX,
     NULL, NULL},
    {"{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':[],'failOnErrors':0}", RS_E_INVALID,
     SCIM_INVALID_VALUE, NULL, NULL},
    {"{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':[],'failOnErrors':'1'}", RS_E_INVALID,
     SCIM_INVALID_VALUE, NULL, NULL},
    {REQ(POST_U("a") "," POST_U("a")), RS_E_INVALID, SCIM_INVALID_VALUE, NULL, NULL},
    {REQ(POST_U("a") ",{'method':'DELETE','path':'/Users/1','bulkId':'a'}"), RS_E_INVALID,
     SCIM_INVALID_VALUE, NULL, NULL},
    {REQ("{'method':'DELETE','path':'/Users/1','bulkId':'a'},"
	 "{'method':'DELETE','path':'/Users/2','bulkId':'a'}"),
     RS_E_INVALID, SCIM_INVALID_VALUE, NULL, NULL},
    {REQ("1,2,3,4,5"), RS_E_TOO_LARGE, NULL, NULL, NULL}, /* max_ops is 4 here */
    /* Accepted. */
    {REQ(""), RS_OK, NULL, "", ""},
    {REQ(POST_U("a") "," POST_U("b")), RS_OK, NULL, "0 1", "rr"},
    /* RFC section 3.7.2 with the group first: the user's POST runs first. */
    {REQ("{'method':'POST','path':'/Groups','bulkId':'g','data':{'displayName':'G',"
	 "'members':[{'value':'bulkId:u'}]}}," POST_U("u")),
     RS_OK, NULL, "1 0", "rr"},
    /* A chain backwards, and a path reference. */
    {REQ("{'method':'PATCH','path':'/Users/bulkId:c','data':{}},"
	 "{'method':'POST','path':'/Users','bulkId':'c','data':{'m':{'value':'bulkId:b'}}},"
	 "{'method':'POST','path':'/Users','bulkId':'b','data':{'m':'bulkId:a'}}," POST_U("a")),
     RS_OK, NULL, "3 2 1 0", "rrrr"},
    /* Section 3.7.1: a cycle, something waiting for it, and an independent operation. */
    {REQ("{'method':'POST','path':'/Groups','bulkId':'a','data':{'m':['bulkId:b']}},"
	 "{'method':'POST','path':'/Groups','bulkId':'b','data':{'m':['bulkId:a']}},"
	 "{'method':'DELETE','path':'/Groups/bulkId:b'}," POST_U("c")),
     RS_OK, NULL, "3 0 1 2", "999r"},
    /* Self reference. */
    {REQ("{'method':'POST','path':'/Users','bulkId':'s','data':{'m':'bulkId:s'}}"), RS_OK, NULL,
     "0", "9"},
    /* Unknown bulkId (409 before anything runs) and one of a non-POST (the same). */
    {REQ("{'method':'DELETE','path':'/Users/bulkId:zz'},"
	 "{'method':'DELETE','path':'/Users/1','bulkId':'d'},"
	 "{'method':'DELETE','path':'/Users/bulkId:d'}"),
     RS_OK, NULL, "0 1 2", "9r9"},
    /* Malformed operations fail alone; a malformed POST still owns its bulkId. */
    {REQ("'x',{'path':'/Users'},{'method':'GET','path':'/Users'},"
	 "{'method':'POST','path':'/Users','data':{}},"
	 "{'method':'POST','path':'/Users/1','bulkId':'p','data':{}},"
	 "{'method':'PUT','path':'/Users','data':{}},{'method':'PATCH','path':'/Users/1'},"
	 "{'method':'DELETE','path':'/Users/bulkId:p'}"),
     RS_OK, NULL, "0 1 2 3 4 5 6 7", "4444444r"},
    {REQ("{'method':'DELETE','path':'/Groups/'},{'method':'DELETE','path':'/Groups/a/b'},"
	 "{'method':'DELETE','path':'/Group/a'},{'method':'delete','path':'/Groups/a','version':"
	 "'W/\\\"1\\\"'},{'method':'DELETE','path':'/Groups/a','version':1}"),
     RS_OK, NULL, "0 1 2 3 4", "444r4"},
};

static json_t *load(const char *text)
{
	char *s = strdup(text);
	json_error_t e;
	json_t *j;

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad case JSON: %s: %s", e.text, s);
	free(s);
	return j;
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		json_t *req = load(c->req);
		struct scim_err err = {0};
		struct bulk_plan p;
		struct arena a;
		enum rs_status st;

		arena_init(&a, 0);
		st = bulk_plan_read(&a, req, 4 + (int)(c->order ? strlen(c->fates) : 0), &p, &err);
		if (st != c->st)
			fail_msg("case %zu: status %d, want %d (%s)", i, st, c->st, err.detail);
		if (st != RS_OK) {
			assert_true(err.detail[0] != '\0');
			if (c->scim_type)
				assert_string_equal(err.scim_type, c->scim_type);
		} else {
			char order[128] = "", fates[64] = "";
			size_t n = 0;

			for (int k = 0; k < p.nops; k++)
				n += (size_t)snprintf(order + n, sizeof(order) - n, "%s%d",
						      k ? " " : "", p.order[k]);
			for (int k = 0; k < p.nops; k++) {
				fates[k] = p.ops[k].fail_status == 0	 ? 'r'
					   : p.ops[k].fail_status == 400 ? '4'
									 : '9';
				assert_true(p.ops[k].fail_status == 0 ||
					    (p.ops[k].fail_type && p.ops[k].fail_detail));
			}
			if (strcmp(order, c->order) != 0 || strcmp(fates, c->fates) != 0)
				fail_msg("case %zu: order '%s' fates '%s', want '%s' '%s'", i,
					 order, fates, c->order, c->fates);
		}
		arena_release(&a);
		json_decref(req);
	}
}

static void test_fail_on_errors(void **state)
{
	json_t *req = load("{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':[],"
			   "'failOnErrors':7}");
	struct scim_err err = {0};
	struct bulk_plan p;
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(bulk_plan_read(&a, req, 10, &p, &err), RS_OK);
	assert_int_equal(p.fail_on_errors, 7);
	json_object_set_new(req, "failOnErrors", json_integer(1000000));
	assert_int_equal(bulk_plan_read(&a, req, 10, &p, &err), RS_OK);
	assert_int_equal(p.fail_on_errors, 10);
	json_object_del(req, "failOnErrors");
	assert_int_equal(bulk_plan_read(&a, req, 10, &p, &err), RS_OK);
	assert_int_equal(p.fail_on_errors, 0);
	arena_release(&a);
	json_decref(req);
}

/* A long duplicate bulkId of two-byte characters: the detail is cut, but never inside one. */
static void test_detail_utf8(void **state)
{
	char id[301] = "";
	json_t *req, *op, *d;
	struct scim_err err = {0};
	struct bulk_plan p;
	struct arena a;

	(void)state;
	id[0] = 'x'; /* odd: a cut at an even length would fall inside a character */
	for (int i = 0; i < 149; i++)
		memcpy(id + 1 + 2 * i, "\xc3\xa9", 2);
	req = load("{'schemas':['" SCIM_URN_BULK_REQUEST "'],'Operations':[]}");
	op = json_pack("{s:s,s:s,s:s}", "method", "DELETE", "path", "/Users/1", "bulkId", id);
	json_array_append_new(json_object_get(req, "Operations"), op);
	json_array_append(json_object_get(req, "Operations"), op);
	arena_init(&a, 0);
	assert_int_equal(bulk_plan_read(&a, req, 10, &p, &err), RS_E_INVALID);
	d = json_string(err.detail);
	assert_non_null(d);
	json_decref(d);
	arena_release(&a);
	json_decref(req);
}

static void test_resolve(void **state)
{
	json_t *req = load(REQ(
	    POST_U("u") ",{'method':'POST','path':'/Groups','bulkId':'g','data':{'displayName':'G',"
			"'members':[{'value':'bulkId:u'},{'value':'bulkId:u2'}],'x':'a bulkId:u',"
			"'y':{'z':['bulkId:u']}}}," POST_U("u2") ",{'method':'PATCH','path':"
								 "'/Groups/bulkId:g','data':{}}"));
	const char *ids[4] = {"id-u", NULL, NULL, NULL};
	const char *id, *missing;
	struct scim_err err = {0};
	struct bulk_plan p;
	struct arena a;
	json_t *data;
	char *s;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(bulk_plan_read(&a, req, 10, &p, &err), RS_OK);
	assert_int_equal(bulk_plan_find(&p, "u"), 0);
	assert_int_equal(bulk_plan_find(&p, "u2"), 2);
	assert_int_equal(bulk_plan_find(&p, "nope"), -1);
	assert_int_equal(p.ops[1].ndeps, 2);
	/* u2 has not created anything yet: unresolved, and named. */
	data = json_deep_copy(p.ops[1].data);
	id = NULL;
	assert_false(bulk_resolve(&p, ids, data, &id, &missing));
	assert_string_equal(missing, "u2");
	json_decref(data);
	ids[2] = "id-u2";
	data = json_deep_copy(p.ops[1].data);
	assert_true(bulk_resolve(&p, ids, data, &id, &missing));
	assert_null(missing);
	s = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	/* Whole strings only: "a bulkId:u" stays as sent. */
	assert_string_equal(
	    s, "{\"displayName\":\"G\",\"members\":[{\"value\":\"id-u\"},"
	       "{\"value\":\"id-u2\"}],\"x\":\"a bulkId:u\",\"y\":{\"z\":[\"id-u\"]}}");
	free(s);
	json_decref(data);
	/* A path reference. */
	id = p.ops[3].id;
	assert_string_equal(id, "bulkId:g");
	assert_false(bulk_resolve(&p, ids, NULL, &id, &missing));
	assert_string_equal(missing, "g");
	ids[1] = "id-g";
	assert_true(bulk_resolve(&p, ids, NULL, &id, &missing));
	assert_string_equal(id, "id-g");
	arena_release(&a);
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_fail_on_errors),
	    cmocka_unit_test(test_detail_utf8),
	    cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
