/* The CLI's only HTTP client: one libcurl easy handle per invocation, a capped response
 * buffer, no redirects (they would carry the bearer token to another host), http and https
 * only. It knows nothing about the API; request.c does. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cli_int.h"

#define HTTP_USER_AGENT "roster-cli/0.1"
#define HTTP_CONNECT_TIMEOUT_S 10L
#define HTTP_TIMEOUT_S 300L

enum cli_status http_client_init(struct http_client *c, const char *server, const char *token,
				 struct cli_err *err)
{
	size_t len = strlen(server);
	size_t n;

	c->curl = NULL;
	c->base = NULL;
	c->auth_header = NULL;
	c->errbuf[0] = '\0';
	if (strncasecmp(server, "http://", 7) != 0 && strncasecmp(server, "https://", 8) != 0)
		return cli_fail(err, CLI_E_USAGE, "--server must be an http:// or https:// URL");
	/* A query or fragment would end up in the middle of every request URL; user:password@
	 * would be printed in error messages (use --token). */
	if (strpbrk(server, "?#@ \t\r\n") != NULL)
		return cli_fail(err, CLI_E_USAGE,
				"--server must be a plain URL (no query, credentials or spaces)");
	if (token != NULL && token[0] != '\0') {
		/* A token with a line break would add a header of the user's choosing. */
		for (const char *p = token; *p != '\0'; p++)
			if ((unsigned char)*p < 0x21 || *p == 0x7f)
				return cli_fail(err, CLI_E_USAGE,
						"the token contains invalid characters");
	}
	while (len > 0 && server[len - 1] == '/')
		len--;
	c->base = strndup(server, len);
	if (c->base == NULL)
		goto out;
	if (token != NULL && token[0] != '\0') {
		n = strlen("Authorization: Bearer ") + strlen(token) + 1;
		c->auth_header = malloc(n);
		if (c->auth_header == NULL)
			goto out;
		(void)snprintf(c->auth_header, n, "Authorization: Bearer %s", token);
	}
	c->curl = curl_easy_init();
out:
	if (c->curl == NULL)
		return cli_fail(err, CLI_E_INTERNAL, "cannot set up the HTTP client");
	return CLI_OK;
}

void http_client_release(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->auth_header != NULL) {
		explicit_bzero(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	free(c->base);
	c->curl = NULL;
	c->base = NULL;
	c->auth_header = NULL;
}

void http_response_release(struct http_response *r)
{
	if (r != NULL)
		buf_release(&r->body);
}

static size_t http_on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct http_response *r = userdata;

	/* Returning less than given makes curl stop with CURLE_WRITE_ERROR; body.failed tells
	 * http_request it was the cap. */
	if (!buf_append(&r->body, p, size * nmemb))
		return 0;
	return size * nmemb;
}

/* Copies the value of header line p (length n) named name into out, trimmed. */
static void http_header_take(const char *p, size_t n, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (n <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return;
	p += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static size_t http_on_header(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct http_response *r = userdata;
	size_t n = size * nmemb;

	/* A new status line (after "100 Continue") starts a new set of headers. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		r->request_id[0] = r->content_type[0] = r->etag[0] = '\0';
		return n;
	}
	http_header_take(p, n, "X-Request-Id", r->request_id, sizeof(r->request_id));
	http_header_take(p, n, "Content-Type", r->content_type, sizeof(r->content_type));
	http_header_take(p, n, "ETag", r->etag, sizeof(r->etag));
	return n;
}

static bool http_connect_failure(CURLcode rc)
{
	/* CURLcode has ~100 values, so a list rather than a switch (-Wswitch-enum). */
	static const CURLcode connect_codes[] = {
	    CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
	    CURLE_OPERATION_TIMEDOUT,	 CURLE_SSL_CONNECT_ERROR,    CURLE_PEER_FAILED_VERIFICATION,
	    CURLE_GOT_NOTHING,		 CURLE_SEND_ERROR,	     CURLE_RECV_ERROR,
	};

	for (size_t i = 0; i < sizeof(connect_codes) / sizeof(connect_codes[0]); i++)
		if (rc == connect_codes[i])
			return true;
	return false;
}

enum cli_status http_request(struct http_client *c, const char *method, const char *path,
			     const char *body, const char *if_match, struct http_response *resp,
			     struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	struct curl_slist *hdrs = NULL, *h;
	char if_match_hdr[128];
	struct buf url;
	CURLcode rc;
	CURL *curl = c->curl;

	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, CLI_RESPONSE_MAX);
	buf_init(&url, CLI_URL_MAX);
	if (!buf_puts(&url, c->base) || !buf_puts(&url, path)) {
		st = cli_fail(err, CLI_E_USAGE, "request URL too long");
		goto out;
	}

	/* Build the header list; on failure curl_slist_append returns NULL and leaves the
	 * list as it was, so keep the old head to free it. */
#define HTTP_HDR(s)                                                                                \
	do {                                                                                       \
		h = curl_slist_append(hdrs, (s));                                                  \
		if (h == NULL) {                                                                   \
			st = cli_fail(err, CLI_E_INTERNAL, "out of memory");                       \
			goto out;                                                                  \
		}                                                                                  \
		hdrs = h;                                                                          \
	} while (0)
	HTTP_HDR("Accept: application/json, application/problem+json");
	HTTP_HDR("Expect:"); /* no "100-continue" round trip for large bodies */
	if (c->auth_header != NULL)
		HTTP_HDR(c->auth_header);
	if (body != NULL)
		HTTP_HDR("Content-Type: application/json");
	else if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
		HTTP_HDR("Content-Type:"); /* an empty body, sent below: no form type */
	if (if_match != NULL) {
		(void)snprintf(if_match_hdr, sizeof(if_match_hdr), "If-Match: %s", if_match);
		HTTP_HDR(if_match_hdr);
	}
#undef HTTP_HDR

	curl_easy_reset(curl);
	if (curl_easy_setopt(curl, CURLOPT_URL, buf_cstr(&url)) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERAGENT, HTTP_USER_AGENT) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_on_body) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_on_header) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK) {
		st = cli_fail(err, CLI_E_INTERNAL, "cannot set up the HTTP request");
		goto out;
	}
	/* PUT and POST always carry a (maybe empty) body so Content-Length is sent. */
	if (body == NULL && (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0))
		body = "";
	if (body != NULL && (curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
			     curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
					      (curl_off_t)strlen(body)) != CURLE_OK)) {
		st = cli_fail(err, CLI_E_INTERNAL, "cannot set up the HTTP request");
		goto out;
	}

	c->errbuf[0] = '\0';
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);

		if (rc == CURLE_WRITE_ERROR && resp->body.failed)
			st = cli_fail(err, CLI_E_INTERNAL, "answer from %s is larger than %u bytes",
				      c->base, CLI_RESPONSE_MAX);
		else if (http_connect_failure(rc))
			st = cli_fail(err, CLI_E_CONNECT, "cannot reach the server at %s: %s",
				      c->base, why);
		else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
			st = cli_fail(err, CLI_E_USAGE, "invalid server URL %s: %s", c->base, why);
		else
			st =
			    cli_fail(err, CLI_E_INTERNAL, "request to %s failed: %s", c->base, why);
		goto out;
	}
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK) {
		st = cli_fail(err, CLI_E_INTERNAL, "no HTTP status from %s", c->base);
		goto out;
	}
out:
	/* Detach our buffers from the handle before they go away. */
	(void)curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	/* curl copied the Authorization line into the list: wipe that copy too. */
	for (h = hdrs; h != NULL; h = h->next)
		if (strncasecmp(h->data, "Authorization:", 14) == 0)
			explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	buf_release(&url);
	return st;
}
