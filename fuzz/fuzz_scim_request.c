/* libFuzzer target: the SCIM adapter's reading of a /Users request body
 * (src/api/scim/user_map.c) without a server. The input is one JSON body, read as a POST (no
 * current user), a PUT and a PATCH (both against a sample user). A refusal must say why; an
 * accepted body's custom attributes must be a JSON object merge patch; and re-reading the
 * sample user's own rendering must change no roster column (what a client reads back and PUTs
 * again). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/scim/user_map.h"
#include "api/scim/user_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct group_ref groups[] = {{.id = "01a2b3c4-0000-7000-8000-000000000009", .name = "Ops"}};
static struct role_ref roles[] = {
    {.id = "01a2b3c4-0000-7000-8000-00000000000a", .name = "Standard User", .rank = 300}};

static const struct user sample = {
    .id = "01a2b3c4-0000-7000-8000-000000000001",
    .username = "bjensen",
    .email = "bjensen@example.com",
    .first_name = "Barbara",
    .last_name = "Jensen",
    .status = "active",
    .groups = groups,
    .ngroups = 1,
    .department_name = "Tour",
    .manager_id = "01a2b3c4-0000-7000-8000-000000000002",
    .manager_name = "boss",
    .system_role = {.id = "01a2b3c4-0000-7000-8000-00000000000b", .name = "User", .rank = 300},
    .roles = roles,
    .nroles = 1,
    .locale = "en-US",
    .external_id = "ext-1",
    .custom_attributes = "{\"scim\":{\"title\":\"Guide\",\"name\":{\"middleName\":\"J\"}},"
			 "\"scim_enterprise\":{\"employeeNumber\":\"7\"},\"other\":1}",
    .created_at = 1700000000000,
    .updated_at = 1700000000001,
    .version = 3,
};

static bool any_set(const struct scim_user_change *m)
{
	const struct user_fields *f = &m->f;

	return f->username.set || f->email.set || f->first_name.set || f->last_name.set ||
	       f->external_id.set || f->locale.set || f->timezone.set || f->department_id.set ||
	       f->custom_attributes.set || f->manager_id.set || f->roles_set ||
	       f->system_role.set || m->password || m->active >= 0;
}

static void check_change(const struct scim_user_change *m)
{
	json_t *p;

	/* Roles go to the core as one list of either scope, without duplicates. */
	if (m->f.roles_set && !m->f.roles_any_scope)
		abort();
	for (int i = 0; i < m->f.nroles; i++) {
		for (int j = 0; j < i; j++) {
			if (strcasecmp(m->f.roles[i], m->f.roles[j]) == 0)
				abort();
		}
	}

	if (!m->f.custom_attributes.set)
		return;
	p = json_loads(m->f.custom_attributes.v, 0, NULL);
	if (!json_is_object(p))
		abort();
	json_decref(p);
}

/* The streamed rendering (user_stream.c, the fast list path) is the same JSON value as
 * scim_user_render's. */
static void same_rendering(struct arena *a, const struct user *u)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	json_t *streamed, *built;

	if (!g)
		return;
	scim_user_stream(g, a, u);
	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		abort();
	streamed = json_loadb((const char *)buf, len, 0, NULL);
	built = scim_user_render(a, u);
	if (!streamed || !built || !json_equal(streamed, built))
		abort();
	json_decref(streamed);
	json_decref(built);
	yajl_gen_free(g);
}

/* A user whose columns are what a POST body asked for, as the core would store them. */
static void same_rendering_of(struct arena *a, const struct scim_user_change *m)
{
	struct user u = sample;

	u.custom_attributes = "{}";
	u.username = m->f.username.v ? m->f.username.v : "x";
	u.email = m->f.email.v;
	u.first_name = m->f.first_name.v;
	u.last_name = m->f.last_name.v;
	u.external_id = m->f.external_id.v;
	u.locale = m->f.locale.v;
	u.timezone = m->f.timezone.v;
	u.department_name = m->department;
	u.manager_id = m->f.manager_id.v;
	u.manager_name = m->f.manager_id.v ? u.username : NULL;
	u.status = m->active == 0 ? "deactivated" : "active";
	same_rendering(a, &u);
	u.nroles = 0;
	u.system_role.name = NULL;
	u.ngroups = 0;
	same_rendering(a, &u);
}

static void round_trip(void)
{
	struct arena a;
	struct scim_user_change m;
	char why[256];
	json_t *r;

	arena_init(&a, 0);
	r = scim_user_render(&a, &sample);
	if (!r || !scim_user_map(&a, r, &sample, &m, why, sizeof(why)))
		abort();
	/* active true is restated, not a change. Nothing else is: no column, no role, the
	 * manager, and not custom_attributes either (the computed displayName and name.formatted
	 * are not taken for the client's own). */
	m.active = m.active == 1 ? -1 : m.active;
	if (any_set(&m))
		abort();
	json_decref(r);
	arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool checked;
	struct arena a;
	struct scim_user_change m;
	struct scim_err err;
	char why[256];
	json_t *body;

	if (!checked) {
		struct arena sa;

		round_trip();
		arena_init(&sa, 0);
		same_rendering(&sa, &sample); /* custom attributes: the jansson path */
		arena_release(&sa);
		checked = true;
	}
	if (size > 65536)
		return 0;
	body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!body)
		return 0;
	arena_init(&a, 0);
	for (int put = 0; put < 2; put++) {
		why[0] = '\0';
		if (scim_user_map(&a, body, put ? &sample : NULL, &m, why, sizeof(why))) {
			check_change(&m);
			if (!put)
				same_rendering_of(&a, &m);
		} else if (!why[0]) {
			abort();
		}
	}
	memset(&err, 0, sizeof(err));
	if (scim_user_patch_map(&a, &sample, body, &m, &err) == RS_OK)
		check_change(&m);
	else if (!err.scim_type || !err.detail[0])
		abort();
	arena_release(&a);
	json_decref(body);
	return 0;
}
