/* The "email" job kind: sends the message a job holds through the configured SMTP relay with
 * libcurl, as multipart/alternative (plain text and HTML, quoted-printable UTF-8) with Date,
 * Message-ID, From, To and Subject (RFC 2047 encoded when not ASCII). The Message-ID is made
 * from the job id, so a message sent twice (at-least-once delivery) can be recognised. */
#include "delivery/delivery_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/str.h"

/* Standard base64 (RFC 2045), for encoded words. out holds 4*((n+2)/3)+1 bytes. */
static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static bool is_ascii(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s >= 0x80)
			return false;
	}
	return true;
}

/* "Subject: …" as a header line: as is when ASCII, else RFC 2047 encoded words of at most 45
 * input bytes each (75 characters encoded), cut between UTF-8 characters, folded. */
static bool subject_header(const char *subject, char *out, size_t cap)
{
	size_t len = strlen(subject), o, i = 0;
	int n;

	if (is_ascii(subject)) {
		n = snprintf(out, cap, "Subject: %s", subject);
		return n > 0 && (size_t)n < cap;
	}
	n = snprintf(out, cap, "Subject:");
	o = (size_t)n;
	while (i < len) {
		size_t take = len - i > 45 ? 45 : len - i;
		char b64[64];

		while (i + take < len && ((unsigned char)subject[i + take] & 0xc0) == 0x80)
			take--; /* never split a character */
		base64((const unsigned char *)subject + i, take, b64);
		n = snprintf(out + o, cap - o, "%s=?UTF-8?B?%s?=", o > 8 ? "\r\n " : " ", b64);
		if (n < 0 || (size_t)n >= cap - o)
			return false;
		o += (size_t)n;
		i += take;
	}
	return true;
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum rs_status fail(char *err_msg, size_t cap, enum rs_status st, const char *msg)
{
	str_copy(err_msg, cap, msg);
	return st;
}

enum rs_status smtp_run(const struct job *job, void *ctx, char *err_msg, size_t cap)
{
	struct delivery *d = ctx;
	json_t *msg = job->payload ? json_loads(job->payload, 0, NULL) : NULL;
	const char *to = str_of(msg, "to"), *subject = str_of(msg, "subject");
	const char *text = str_of(msg, "text"), *html = str_of(msg, "html");
	const char *at = strchr(d->smtp_from_addr, '@');
	struct curl_slist *rcpt = NULL, *headers = NULL, *inline_hdr = NULL;
	curl_mime *mime = NULL, *alt = NULL;
	curl_mimepart *part;
	CURL *h = NULL;
	CURLcode rc;
	long reply = 0;
	char line[1024], subj[4096], date[64];
	time_t now = time(NULL);
	struct tm tm;
	enum rs_status st = RS_OK;

	if (!to || !subject || !text || !html) {
		st = fail(err_msg, cap, RS_E_INVALID, "malformed e-mail job");
		goto out;
	}
	if (!d->smtp_url[0]) {
		st = fail(err_msg, cap, RS_E_UNAVAILABLE, "no SMTP relay configured (smtp_url)");
		goto out;
	}
	h = curl_easy_init();
	mime = h ? curl_mime_init(h) : NULL;
	alt = h ? curl_mime_init(h) : NULL;
	if (!mime || !alt || !subject_header(subject, subj, sizeof(subj))) {
		st = fail(err_msg, cap, RS_E_UNAVAILABLE, "cannot build the message");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S +0000", &tm);
	headers = curl_slist_append(headers, date);
	snprintf(line, sizeof(line), "Message-ID: <%s@%s>", job->id,
		 at && at[1] ? at + 1 : "roster");
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "From: %s", d->smtp_from);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "To: <%s>", to);
	headers = curl_slist_append(headers, line);
	headers = curl_slist_append(headers, subj);
	snprintf(line, sizeof(line), "X-Roster-Message-Id: %s", job->id);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "<%s>", to);
	rcpt = curl_slist_append(rcpt, line);

	/* multipart/alternative: the plain text first, the HTML last (the preferred one). */
	part = curl_mime_addpart(alt);
	curl_mime_data(part, text, CURL_ZERO_TERMINATED);
	curl_mime_type(part, "text/plain; charset=utf-8");
	curl_mime_encoder(part, "quoted-printable");
	part = curl_mime_addpart(alt);
	curl_mime_data(part, html, CURL_ZERO_TERMINATED);
	curl_mime_type(part, "text/html; charset=utf-8");
	curl_mime_encoder(part, "quoted-printable");
	/* libcurl's top-level mail body is multipart/mixed: the alternative sits inside it,
	 * inline, as its only part (curl's smtp-mime example). */
	part = curl_mime_addpart(mime);
	curl_mime_subparts(part, alt);
	alt = NULL; /* owned by mime now */
	curl_mime_type(part, "multipart/alternative");
	inline_hdr = curl_slist_append(NULL, "Content-Disposition: inline");
	curl_mime_headers(part, inline_hdr, 1);
	inline_hdr = NULL;

	snprintf(line, sizeof(line), "<%s>", d->smtp_from_addr);
	curl_easy_setopt(h, CURLOPT_URL, d->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, line);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(h, CURLOPT_USE_SSL,
			 d->smtp_tls == SMTP_TLS_REQUIRE ? (long)CURLUSESSL_ALL
			 : d->smtp_tls == SMTP_TLS_TRY	 ? (long)CURLUSESSL_TRY
							 : (long)CURLUSESSL_NONE);
	if (d->smtp_user[0]) {
		curl_easy_setopt(h, CURLOPT_USERNAME, d->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, d->smtp_password);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
	if (rc != CURLE_OK) {
		/* A 5xx reply is the relay's final word (unknown recipient, refused sender):
		 * retrying can't help. Anything else (no connection, 4xx, timeout) is retried. */
		st = reply >= 500 && reply < 600 ? RS_E_INVALID : RS_E_UNAVAILABLE;
		snprintf(err_msg, cap, "smtp: %s (reply %ld)", curl_easy_strerror(rc), reply);
	}
out:
	curl_mime_free(alt);
	curl_mime_free(mime);
	curl_slist_free_all(inline_hdr);
	curl_slist_free_all(headers);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	json_decref(msg);
	return st;
}
