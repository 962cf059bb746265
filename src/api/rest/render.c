/* Renders core results as the JSON documents of docs/api.md. */
#include "api/rest/rest_int.h"

#include "util/timeutil.h"

json_t *js_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *js_time(int64_t ms)
{
	char buf[TIME_STR_LEN];

	if (ms <= 0)
		return json_null();
	time_format(ms, buf);
	return json_string(buf);
}

static json_t *perm_array(uint64_t perms)
{
	json_t *a = json_array();

	for (int i = 0; i < PERM__COUNT; i++) {
		if (perms & PERM_BIT(i))
			json_array_append_new(a, json_string(perm_name((enum perm)i)));
	}
	return a;
}

json_t *render_seat_limits(const struct seat_limit *limits)
{
	json_t *o = json_object();

	for (int i = 0; i < USER_TYPES; i++)
		json_object_set_new(o, user_type_names[i],
				    limits[i].set ? json_integer(limits[i].max) : json_null());
	return o;
}

json_t *render_tenant(const struct tenant *t)
{
	json_t *v = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:I,s:o,s:o}", "id", t->id, "slug",
			      t->slug, "name", t->name, "template", t->template_name, "status",
			      t->status, "created_at", js_time(t->created_at), "updated_at",
			      js_time(t->updated_at), "version", (json_int_t)t->version,
			      "seat_limits", render_seat_limits(t->seat_limits),
			      "default_transfer_user_id", js_str(t->default_transfer_user_id));

	for (int i = 0; v && i < TS__COUNT; i++) {
		const char *name = tenant_setting_name((enum tenant_setting)i, t->settings[i]);

		json_object_set_new(v, tenant_settings[i].name,
				    name ? json_string(name) : json_integer(t->settings[i]));
	}
	{
		const struct tenant_password *pw = &t->password;
		/* The password policy (docs/passwords.md), flat like the PATCH members that set it.
		 */
		json_t *pol = json_pack(
		    "{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}", "password_min_length",
		    (json_int_t)pw->min_length, "password_max_length", (json_int_t)pw->max_length,
		    "password_require_classes", (json_int_t)pw->require_classes,
		    "password_max_age_days", (json_int_t)pw->max_age_days, "password_history",
		    (json_int_t)pw->history, "password_hash", "m_kib", (json_int_t)pw->hash_m_kib,
		    "t", (json_int_t)pw->hash_t, "p", (json_int_t)pw->hash_p);

		if (v && pol)
			(void)json_object_update(v, pol);
		json_decref(pol);
	}
	return v;
}

json_t *render_role_ref(const struct role_ref *r)
{
	return json_pack("{s:s?,s:s?,s:i}", "id", r->id, "name", r->name, "rank", r->rank);
}

json_t *render_user(const struct user *u)
{
	json_t *v, *roles = json_array(), *groups = json_array(), *ra = json_array(), *custom;

	for (int i = 0; i < u->nroles; i++)
		json_array_append_new(roles, render_role_ref(&u->roles[i]));
	for (int i = 0; i < u->ngroups; i++)
		json_array_append_new(groups, json_pack("{s:s?,s:s?}", "id", u->groups[i].id,
							"name", u->groups[i].name));
	for (int i = 0; i < u->nrequired_actions; i++)
		json_array_append_new(ra, json_string(u->required_actions[i]));
	custom = u->custom_attributes ? json_loads(u->custom_attributes, 0, NULL) : NULL;
	if (!custom)
		custom = json_object();
	v = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:o}", "id", u->id,
		      "tenant_id", u->tenant_id, "username", u->username, "email", u->email,
		      "first_name", u->first_name, "last_name", u->last_name, "type", u->type,
		      "status", u->status, "system_role", render_role_ref(&u->system_role), "roles",
		      roles, "groups", groups);
	json_object_set_new(v, "department",
			    u->department_id ? json_pack("{s:s,s:s?}", "id", u->department_id,
							 "name", u->department_name)
					     : json_null());
	json_object_set_new(v, "manager",
			    u->manager_id ? json_pack("{s:s,s:s?}", "id", u->manager_id, "username",
						      u->manager_name)
					  : json_null());
	json_object_set_new(v, "locale", js_str(u->locale));
	json_object_set_new(v, "timezone", js_str(u->timezone));
	json_object_set_new(v, "description", js_str(u->description));
	json_object_set_new(v, "external_id", js_str(u->external_id));
	json_object_set_new(v, "custom_attributes", custom);
	json_object_set_new(v, "required_actions", ra);
	json_object_set_new(v, "locked", json_boolean(u->locked));
	json_object_set_new(v, "idle_logout_minutes",
			    u->has_idle_logout ? json_integer(u->idle_logout_minutes)
					       : json_null());
	json_object_set_new(v, "summary_mail_time", js_str(u->summary_mail_time));
	json_object_set_new(v, "security_profile", js_str(u->security_profile));
	json_object_set_new(v, "created_at", js_time(u->created_at));
	json_object_set_new(v, "updated_at", js_time(u->updated_at));
	json_object_set_new(v, "last_login_at", js_time(u->last_login_at));
	json_object_set_new(v, "last_activity_at", js_time(u->last_activity_at));
	json_object_set_new(v, "version", json_integer(u->version));
	json_object_set_new(v, "status_reason", js_str(u->status_reason));
	json_object_set_new(v, "suspended_until", js_time(u->suspended_until));
	json_object_set_new(v, "deletion_task", js_str(u->deletion_task));
	json_object_set_new(v, "failed_logins", json_integer(u->failed_logins));
	json_object_set_new(v, "last_failed_login_at", js_time(u->last_failed_login_at));
	return v;
}

json_t *render_role(const struct role *r)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s?,s:i,s:o,s:o,s:b,s:o,s:o,s:I,s:o}", "id", r->id,
			 "tenant_id", r->tenant_id, "name", r->name, "scope", r->scope, "rank",
			 r->rank, "permissions", perm_array(r->perms), "description",
			 js_str(r->description), "builtin", r->builtin, "created_at",
			 js_time(r->created_at), "updated_at", js_time(r->updated_at), "version",
			 (json_int_t)r->version, "department_id", js_str(r->department_id));
}

json_t *render_group(const struct group *g)
{
	return json_pack("{s:s?,s:s?,s:s?,s:o,s:o,s:I,s:o,s:o,s:I}", "id", g->id, "tenant_id",
			 g->tenant_id, "name", g->name, "description", js_str(g->description),
			 "external_id", js_str(g->external_id), "member_count",
			 (json_int_t)g->member_count, "created_at", js_time(g->created_at),
			 "updated_at", js_time(g->updated_at), "version", (json_int_t)g->version);
}

json_t *render_token(const struct token *t)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:o,s:o}", "id", t->id, "tenant_id",
			 t->tenant_id, "user_id", t->user_id, "name", t->name, "role",
			 t->role.id ? render_role_ref(&t->role) : json_null(), "created_at",
			 js_time(t->created_at), "expires_at", js_time(t->expires_at),
			 "last_used_at", js_time(t->last_used_at), "revoked_at",
			 js_time(t->revoked_at));
}

json_t *render_audit(const struct audit_event *e)
{
	json_t *changes = e->changes ? json_loads(e->changes, 0, NULL) : NULL;

	if (!changes)
		changes = json_object();
	return json_pack("{s:s?,s:s?,s:I,s:o,s:{s:s?,s:o,s:o},s:s?,s:{s:s?,s:o},s:o,s:o,s:o,"
			 "s:s?,s:s?}",
			 "id", e->id, "tenant_id", e->tenant_id, "seq", (json_int_t)e->seq, "at",
			 js_time(e->at), "actor", "type", e->actor_type, "id", js_str(e->actor_id),
			 "name", js_str(e->actor_name), "action", e->action, "target", "type",
			 e->target_type, "id", js_str(e->target_id), "changes", changes,
			 "request_id", js_str(e->request_id), "source_ip", js_str(e->source_ip),
			 "hash", e->hash, "prev_hash", e->prev_hash);
}

json_t *render_list(json_t *items, const char *next_cursor)
{
	return json_pack("{s:o,s:o}", "items", items, "next_cursor", js_str(next_cursor));
}
