/* The "webhook" job kind: POSTs the event a job holds to the subscription's URL, signed like
 * Stripe's webhooks: Roster-Signature: v1=hex(HMAC-SHA256(secret, timestamp "." body)), with
 * Roster-Timestamp (Unix seconds), Roster-Event-Id and Roster-Event-Type. A 2xx answer is
 * delivered; anything else, no answer or a timeout is retried by the runner. Every attempt is
 * appended to the subscription's delivery log. */
#include "delivery/delivery_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "util/str.h"
#include "util/timeutil.h"

/* The receiver's answer is not needed: read and dropped. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

enum rs_status webhook_run(const struct job *job, void *ctx, char *err_msg, size_t cap)
{
	struct delivery *d = ctx;
	json_t *p = job->payload ? json_loads(job->payload, 0, NULL) : NULL;
	json_t *event = json_object_get(p, "event");
	const char *hook = str_of(p, "webhook_id");
	const char *event_id = str_of(event, "id"), *type = str_of(event, "type");
	struct webhook_delivery log = {0};
	struct curl_slist *headers = NULL;
	struct arena a;
	struct rs_err err = {0};
	const char *url = NULL;
	char *secret = NULL, *body = NULL, *signed_text = NULL, line[512];
	unsigned char mac[CRYPTO_SHA256_LEN];
	char sig[2 * CRYPTO_SHA256_LEN + 1];
	long ts = (long)time(NULL), code = 0;
	int64_t t0;
	CURL *h = NULL;
	CURLcode rc;
	enum rs_status st;

	arena_init(&a, 0);
	if (!hook || !event_id || !type || !json_is_object(event)) {
		str_copy(err_msg, cap, "malformed webhook job");
		st = RS_E_INVALID;
		goto out;
	}
	st = webhooks_target(d->c, job->tenant_id, hook, &a, &url, &secret, &err);
	if (st != RS_OK) {
		/* Deleted or deactivated since the event: nobody to deliver to (NOT_FOUND makes
		 * the runner give up at once); a store hiccup is retried. */
		str_copy(err_msg, cap, err.msg);
		goto out;
	}
	/* The exact bytes that are signed are the bytes that are sent. */
	body = json_dumps(event, JSON_COMPACT);
	signed_text = body ? arena_printf(&a, "%ld.%s", ts, body) : NULL;
	h = curl_easy_init();
	if (!body || !signed_text || !h) {
		str_copy(err_msg, cap, "out of memory");
		st = RS_E_UNAVAILABLE;
		goto out;
	}
	crypto_hmac_sha256(secret, strlen(secret), signed_text, strlen(signed_text), mac);
	crypto_hex(mac, sizeof(mac), sig);
	crypto_wipe(mac, sizeof(mac));
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "User-Agent: roster-webhooks/1");
	snprintf(line, sizeof(line), "Roster-Event-Id: %s", event_id);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "Roster-Event-Type: %s", type);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "Roster-Timestamp: %ld", ts);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "Roster-Signature: v1=%s", sig);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "Roster-Delivery-Id: %s", job->id);
	headers = curl_slist_append(headers, line);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is not a delivery */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms);
	t0 = time_mono_ns();
	rc = curl_easy_perform(h);
	log.duration_ms = (time_mono_ns() - t0) / 1000000;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		snprintf(err_msg, cap, "webhook: %s", curl_easy_strerror(rc));
		st = RS_E_UNAVAILABLE;
	} else if (code < 200 || code > 299) {
		snprintf(err_msg, cap, "webhook: the receiver answered %ld", code);
		st = RS_E_UNAVAILABLE;
	}
	log.webhook_id = hook;
	log.job_id = job->id;
	log.event_id = event_id;
	log.event_type = type;
	log.attempt = job->attempts;
	log.status_code = rc == CURLE_OK ? code : 0;
	log.error = st == RS_OK ? NULL : err_msg;
	/* The log is a record, not the delivery: failing to write it changes no outcome. */
	(void)webhooks_log_delivery(d->c, job->tenant_id, &log, &err);
out:
	if (secret)
		crypto_wipe(secret, strlen(secret));
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	free(body);
	arena_release(&a);
	json_decref(p);
	return st;
}
