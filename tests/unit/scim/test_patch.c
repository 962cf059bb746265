/* scim/patch: every PATCH example of RFC 7644 section 3.5.2, the Entra ID and Okta shapes
 * roster accepts, primary kept unique, and the errors. Cases are JSON written with ' for " so
 * that the table stays readable; expected results are compared as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "scim/patch.h"

static const char group[] =
    "{'id':'g1','displayName':'Tour Guides','members':["
    "{'value':'2819c223-7f76-453a-919d-413861904646','display':'Babs Jensen'},"
    "{'value':'902c246b','display':'Mandy Pepperidge'}]}";
/* As roster renders a group: members carry "type". */
static const char typed_group[] = "{'id':'g1','displayName':'Tour Guides','members':["
				  "{'value':'a1','type':'User'},{'value':'a2','type':'User'}]}";
static const char user[] =
    "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':'bjensen',"
    "'active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
    "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
    "{'value':'babs@jensen.org','type':'home'}],"
    "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
    "'locality':'Hollywood','primary':true}]}";

struct tcase {
	const char *what;
	const char *res; /* group or user */
	const char *ops;
	const char *want;    /* expected resource, or NULL */
	const char *errtype; /* expected scimType when want is NULL */
};

static json_t *load(const char *s)
{
	char *t = strdup(s);
	json_t *j;

	assert_non_null(t);
	for (char *p = t; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	j = json_loads(t, 0, NULL);
	if (!j)
		fail_msg("bad test JSON: %s", s);
	free(t);
	return j;
}

static void run(const struct tcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *res = load(t[i].res), *ops = load(t[i].ops), *out = NULL, *want;
		json_t *before = json_deep_copy(res);
		const struct scim_resource_type *rt = t[i].res == group || t[i].res == typed_group
							  ? scim_group_type()
							  : scim_user_type();
		struct scim_err err = {0};
		struct arena a;
		enum rs_status st;

		arena_init(&a, 0);
		st = scim_patch_apply(res, ops, rt, &a, &out, &err);
		if (!json_equal(before, res))
			fail_msg("%s: input changed", t[i].what);
		if (t[i].want) {
			if (st != RS_OK)
				fail_msg("%s: %s %s", t[i].what, err.scim_type, err.detail);
			want = load(t[i].want);
			if (!json_equal(want, out)) {
				char *got = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
				fail_msg("%s: got %s", t[i].what, got);
			}
			json_decref(want);
			json_decref(out);
		} else {
			if (st != RS_E_INVALID)
				fail_msg("%s: accepted", t[i].what);
			if (strcmp(err.scim_type, t[i].errtype) != 0)
				fail_msg("%s: %s (%s), want %s", t[i].what, err.scim_type,
					 err.detail, t[i].errtype);
		}
		arena_release(&a);
		json_decref(res);
		json_decref(ops);
		json_decref(before);
	}
}

/* RFC 7644 section 3.5.2.1-3, in the RFC's order. */
static void test_rfc(void **state)
{
	static const struct tcase t[] = {
	    {"3.5.2.1 add members", group,
	     "[{'op':'add','path':'members','value':[{'display':'Babs Jensen','$ref':'https://"
	     "example.com/v2/Users/2819c223-7f76-453a-919d-413861904646','value':'2819c223-7f76-"
	     "453a-919d-413861904646'}]}]",
	     /* already a member (same value): not added twice */
	     group, NULL},
	    {"3.5.2.1 add a new member", group,
	     "[{'op':'add','path':'members','value':[{'display':'James Smith','value':'08e1d05d'}]"
	     "}]",
	     "{'id':'g1','displayName':'Tour Guides','members':["
	     "{'value':'2819c223-7f76-453a-919d-413861904646','display':'Babs Jensen'},"
	     "{'value':'902c246b','display':'Mandy Pepperidge'},"
	     "{'display':'James Smith','value':'08e1d05d'}]}",
	     NULL},
	    {"3.5.2.1 add without path", user,
	     "[{'op':'add','value':{'emails':[{'value':'babs@jensen.org','type':'home'}],"
	     "'nickName':'Babs'}}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
	     "{'value':'babs@jensen.org','type':'home'}],'nickName':'Babs',"
	     "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
	     "'locality':'Hollywood','primary':true}]}",
	     NULL},
	    {"3.5.2.2 remove one member", group,
	     "[{'op':'remove','path':'members[value eq \\'2819c223-7f76-453a-919d-413861904646\\']'"
	     "}]",
	     "{'id':'g1','displayName':'Tour Guides','members':["
	     "{'value':'902c246b','display':'Mandy Pepperidge'}]}",
	     NULL},
	    {"3.5.2.2 remove all members", group, "[{'op':'remove','path':'members'}]",
	     "{'id':'g1','displayName':'Tour Guides'}", NULL},
	    {"3.5.2.2 remove and add", group,
	     "[{'op':'remove','path':'members[value eq \\'2819c223-7f76-453a-919d-413861904646\\']'"
	     "},{'op':'add','path':'members','value':[{'display':'James Smith','value':"
	     "'08e1d05d'}]}]",
	     "{'id':'g1','displayName':'Tour Guides','members':["
	     "{'value':'902c246b','display':'Mandy Pepperidge'},"
	     "{'display':'James Smith','value':'08e1d05d'}]}",
	     NULL},
	    {"3.5.2.2 remove emails by filter", user,
	     "[{'op':'remove','path':'emails[type eq \\'work\\' and value ew \\'example.com\\']'}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'babs@jensen.org','type':'home'}],"
	     "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
	     "'locality':'Hollywood','primary':true}]}",
	     NULL},
	    {"3.5.2.3 replace members", group,
	     "[{'op':'replace','path':'members','value':[{'display':'Babs Jensen','value':"
	     "'2819c223'},{'display':'James Smith','value':'08e1d05d'}]}]",
	     "{'id':'g1','displayName':'Tour Guides','members':[{'display':'Babs Jensen','value':"
	     "'2819c223'},{'display':'James Smith','value':'08e1d05d'}]}",
	     NULL},
	    {"3.5.2.3 replace a work address", user,
	     "[{'op':'replace','path':'addresses[type eq \\'work\\']','value':{'type':'work',"
	     "'streetAddress':'911 Universal City Plaza','locality':'Hollywood','region':'CA',"
	     "'postalCode':'91608','country':'US','formatted':'911 Universal City Plaza',"
	     "'primary':true}}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
	     "{'value':'babs@jensen.org','type':'home'}],"
	     "'addresses':[{'type':'work','streetAddress':'911 Universal City Plaza',"
	     "'locality':'Hollywood','region':'CA','postalCode':'91608','country':'US',"
	     "'formatted':'911 Universal City Plaza','primary':true}]}",
	     NULL},
	    {"3.5.2.3 replace a street", user,
	     "[{'op':'replace','path':'addresses[type eq \\'work\\'].streetAddress','value':"
	     "'1010 Broadway Ave'}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
	     "{'value':'babs@jensen.org','type':'home'}],"
	     "'addresses':[{'type':'work','streetAddress':'1010 Broadway Ave',"
	     "'locality':'Hollywood','primary':true}]}",
	     NULL},
	    {"3.5.2.3 replace without path", user,
	     "[{'op':'replace','value':{'emails':[{'value':'bjensen@example.com','type':'work',"
	     "'primary':true},{'value':'babs@jensen.org','type':'home'}],'nickName':'Babs'}}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
	     "{'value':'babs@jensen.org','type':'home'}],'nickName':'Babs',"
	     "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
	     "'locality':'Hollywood','primary':true}]}",
	     NULL},
	    {"3.5.2.3 replace a complex attribute keeps other sub-attributes", user,
	     "[{'op':'replace','path':'name','value':{'givenName':'Babs'}}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':"
	     "'bjensen','active':true,'name':{'familyName':'Jensen','givenName':'Babs'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"
	     "{'value':'babs@jensen.org','type':'home'}],"
	     "'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"
	     "'locality':'Hollywood','primary':true}]}",
	     NULL},
	};
	run(t, sizeof(t) / sizeof(t[0]));
}

#define USER_TAIL                                                                                  \
	"'addresses':[{'type':'work','streetAddress':'100 Universal City Plaza',"                  \
	"'locality':'Hollywood','primary':true}]"
#define EMAILS                                                                                     \
	"'emails':[{'value':'bjensen@example.com','type':'work','primary':true},"                  \
	"{'value':'babs@jensen.org','type':'home'}]"
#define USER_HEAD                                                                                  \
	"'schemas':['urn:ietf:params:scim:schemas:core:2.0:User'],'id':'u1','userName':'bjensen',"
#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

/* What Entra ID and Okta really send. */
static void test_deviations(void **state)
{
	static const struct tcase t[] = {
	    {"capitalised op and active as a string", user,
	     "[{'op':'Replace','path':'active','value':'False'}]",
	     "{" USER_HEAD
	     "'active':false,'name':{'familyName':'Jensen','givenName':'Barbara'}," EMAILS
	     "," USER_TAIL "}",
	     NULL},
	    {"Okta: replace without path, active true as a string", user,
	     "[{'op':'replace','value':{'active':'TRUE'}}]", user, NULL},
	    {"Entra: path-less value with dotted and URN keys", user,
	     "[{'op':'Add','value':{'name.givenName':'Babs','" ENT ":manager':'26118915','" ENT
	     "':{'department':'Tour'},'urn:ietf:params:scim:schemas:core:2.0:User:title':'Guide'}}"
	     "]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1',"
	     "'userName':'bjensen','active':true,'title':'Guide',"
	     "'name':{'familyName':'Jensen','givenName':'Babs'}," EMAILS "," USER_TAIL ",'" ENT
	     "':{'manager':{'value':'26118915'},'department':'Tour'}}",
	     NULL},
	    {"Entra: manager by path as a plain string", user,
	     "[{'op':'Replace','path':'" ENT ":manager','value':'26118915'}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],"
	     "'id':'u1',"
	     "'userName':'bjensen','active':true,"
	     "'name':{'familyName':'Jensen','givenName':'Barbara'}," EMAILS "," USER_TAIL ",'" ENT
	     "':{'manager':{'value':'26118915'}}}",
	     NULL},
	    {"Entra: add a work phone that does not exist yet", user,
	     "[{'op':'Add','path':'phoneNumbers[type eq \\'work\\'].value','value':'555-1234'}]",
	     "{" USER_HEAD
	     "'active':true,'name':{'familyName':'Jensen','givenName':'Barbara'}," EMAILS
	     "," USER_TAIL ",'phoneNumbers':[{'type':'work','value':'555-1234'}]}",
	     NULL},
	    {"Entra: members add as a list of {value} and remove by value", group,
	     "[{'op':'Add','path':'members','value':[{'value':'a1'},{'value':'a2'}]},"
	     "{'op':'Remove','path':'members','value':[{'value':'a1'},{'value':'902C246B'}]}]",
	     "{'id':'g1','displayName':'Tour Guides','members':["
	     "{'value':'2819c223-7f76-453a-919d-413861904646','display':'Babs Jensen'},"
	     "{'value':'a2'}]}",
	     NULL},
	    {"Entra: remove members listed with a null $ref and no type", typed_group,
	     "[{'op':'Remove','path':'members','value':[{'$ref':null,'value':'a1'}]}]",
	     "{'id':'g1','displayName':'Tour Guides','members':[{'value':'a2','type':'User'}]}",
	     NULL},
	    {"a remove naming another type leaves the member", typed_group,
	     "[{'op':'Remove','path':'members','value':[{'value':'a1','type':'Group'}]}]",
	     typed_group, NULL},
	    {"Okta: rename restating the group's id", typed_group,
	     "[{'op':'replace','value':{'id':'g1','displayName':'Guides'}}]",
	     "{'id':'g1','displayName':'Guides','members':["
	     "{'value':'a1','type':'User'},{'value':'a2','type':'User'}]}",
	     NULL},
	    {"members by filter, case-insensitive attribute names", group,
	     "[{'op':'remove','path':'MEMBERS[Value eq \\'902c246b\\']'}]",
	     "{'id':'g1','displayName':'Tour Guides','members':["
	     "{'value':'2819c223-7f76-453a-919d-413861904646','display':'Babs Jensen'}]}",
	     NULL},
	    {"primary kept unique on add", user,
	     "[{'op':'add','path':'emails','value':[{'value':'new@example.com','type':'other',"
	     "'primary':true}]}]",
	     "{" USER_HEAD "'active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':false},"
	     "{'value':'babs@jensen.org','type':'home'},{'value':'new@example.com','type':'other',"
	     "'primary':true}]," USER_TAIL "}",
	     NULL},
	    {"primary kept unique on replace by filter", user,
	     "[{'op':'replace','path':'emails[type eq \\'home\\'].primary','value':true}]",
	     "{" USER_HEAD "'active':true,'name':{'familyName':'Jensen','givenName':'Barbara'},"
	     "'emails':[{'value':'bjensen@example.com','type':'work','primary':false},"
	     "{'value':'babs@jensen.org','type':'home','primary':true}]," USER_TAIL "}",
	     NULL},
	    {"attribute name case follows the schema", user,
	     "[{'op':'add','path':'NICKNAME','value':'Babs'},{'op':'replace','path':'Name."
	     "GivenName',"
	     "'value':'B'}]",
	     "{" USER_HEAD "'active':true,'nickName':'Babs','name':{'familyName':'Jensen',"
	     "'givenName':'B'}," EMAILS "," USER_TAIL "}",
	     NULL},
	    {"remove a sub-attribute and a missing attribute", user,
	     "[{'op':'remove','path':'name.givenName'},{'op':'remove','path':'title'},"
	     "{'op':'remove','path':'emails[type eq \\'other\\']'}]",
	     "{" USER_HEAD "'active':true,'name':{'familyName':'Jensen'}," EMAILS "," USER_TAIL "}",
	     NULL},
	    {"an extension is listed in schemas once", user,
	     "[{'op':'add','path':'" ENT ":manager','value':'m1'},{'op':'remove','path':'" ENT
	     "'},{'op':'add','path':'" ENT ":department','value':'Tour'}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1',"
	     "'userName':'bjensen','active':true,"
	     "'name':{'familyName':'Jensen','givenName':'Barbara'}," EMAILS "," USER_TAIL ",'" ENT
	     "':{'department':'Tour'}}",
	     NULL},
	    {"replace of a missing attribute adds it", user,
	     "[{'op':'replace','path':'" ENT ":employeeNumber','value':'7'}]",
	     "{'schemas':['urn:ietf:params:scim:schemas:core:2.0:User','" ENT "'],'id':'u1',"
	     "'userName':'bjensen','active':true,"
	     "'name':{'familyName':'Jensen','givenName':'Barbara'}," EMAILS "," USER_TAIL ",'" ENT
	     "':{'employeeNumber':'7'}}",
	     NULL},
	};
	run(t, sizeof(t) / sizeof(t[0]));
}

static void test_errors(void **state)
{
	static const struct tcase t[] = {
	    {"remove without path", user, "[{'op':'remove'}]", NULL, "noTarget"},
	    {"replace by filter matching nothing", user,
	     "[{'op':'replace','path':'emails[type eq \\'other\\'].value','value':'x'}]", NULL,
	     "noTarget"},
	    {"add by a non-eq filter matching nothing", user,
	     "[{'op':'add','path':'emails[value co \\'zzz\\'].type','value':'x'}]", NULL,
	     "noTarget"},
	    {"unknown attribute", user, "[{'op':'add','path':'favouriteColour','value':'x'}]", NULL,
	     "invalidPath"},
	    {"unknown sub-attribute", user, "[{'op':'add','path':'name.middle','value':'x'}]", NULL,
	     "invalidPath"},
	    {"unparsable path", user, "[{'op':'add','path':'emails[type eq','value':'x'}]", NULL,
	     "invalidPath"},
	    {"filter on a single-valued attribute", user,
	     "[{'op':'add','path':'name[givenName eq \\'x\\']','value':{}}]", NULL, "invalidPath"},
	    {"unknown op", user, "[{'op':'move','path':'title'}]", NULL, "invalidSyntax"},
	    {"operations not an array", user, "{'op':'add'}", NULL, "invalidSyntax"},
	    {"empty operations", user, "[]", NULL, "invalidSyntax"},
	    {"add without value", user, "[{'op':'add','path':'title'}]", NULL, "invalidValue"},
	    {"boolean that is not", user, "[{'op':'replace','path':'active','value':'maybe'}]",
	     NULL, "invalidValue"},
	    {"string attribute given a number", user,
	     "[{'op':'replace','path':'title','value':42}]", NULL, "invalidValue"},
	    {"path-less value not an object", user, "[{'op':'replace','value':'x'}]", NULL,
	     "invalidValue"},
	    {"unknown sub-attribute in a value", user,
	     "[{'op':'add','path':'emails','value':{'value':'x@y','colour':'red'}}]", NULL,
	     "invalidValue"},
	    {"readOnly id", user, "[{'op':'replace','path':'id','value':'x'}]", NULL, "mutability"},
	    {"readOnly id changed without path", typed_group,
	     "[{'op':'replace','value':{'id':'g2','displayName':'x'}}]", NULL, "mutability"},
	    {"readOnly meta sub-attribute", user,
	     "[{'op':'replace','path':'meta.created','value':'x'}]", NULL, "mutability"},
	    {"readOnly groups", user, "[{'op':'add','path':'groups','value':[{'value':'g'}]}]",
	     NULL, "mutability"},
	    {"immutable member value", group,
	     "[{'op':'replace','path':'members[value eq \\'902c246b\\'].value','value':'x'}]", NULL,
	     "mutability"},
	    {"a later failure changes nothing", user,
	     "[{'op':'replace','path':'title','value':'x'},{'op':'remove'}]", NULL, "noTarget"},
	};
	run(t, sizeof(t) / sizeof(t[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc),
	    cmocka_unit_test(test_deviations),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
