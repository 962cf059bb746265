/*
 * loadgen — a small HTTP/1.1 load generator for roster's benchmarks.
 *
 * N keep-alive connections driven by one (or a few) epoll threads; one
 * request in flight per connection (no pipelining).  Each request is built
 * from a path and body template in which {n} is replaced by a per-request
 * sequence number (unique across the run, starting at --seq-start) and {id}
 * by a line of the --ids file, taken round-robin.
 *
 * The run stops after --requests requests have been issued and answered, or
 * when --duration seconds have passed, whichever comes first.  It prints one
 * JSON line on stdout:
 *   {"requests":N,"errors":E,"non2xx":K,"seconds":S,"rps":R,
 *    "p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..,"connects":C,
 *    "concurrency":N,"client_cpu_s":..}
 * requests = requests answered with a complete response (any status);
 * errors   = requests that failed at the transport level (connect refused,
 *            reset, timeout, unparsable response) — not counted in requests;
 * non2xx   = answered requests whose status was not 2xx (the first one's
 *            status and body go to stderr);
 * connects = TCP connections opened (== concurrency when keep-alive holds);
 * client_cpu_s = CPU time (user + system) loadgen itself used.
 * Latency is measured from the first byte of the request being written to
 * the last byte of the response being read.
 *
 * Only loopback targets are accepted (127.0.0.0/8, ::1).
 *
 * Build: cc -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE loadgen.c -o loadgen -pthread
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 64
#define MAX_THREADS 16
#define MAX_RESPONSE_HEAD (64 * 1024)
#define MAX_RESPONSE (256L * 1024 * 1024)
#define ERRBODY_MAX 4096

/* ---------------------------------------------------------------- options */

struct seg {
	int kind; /* 0 literal, 1 {n}, 2 {id} */
	const char *s;
	size_t len;
};

struct tmpl {
	struct seg *segs;
	size_t nsegs;
	bool uses_id;
};

static struct {
	char host[256]; /* as written in the URL (for Host:) */
	char port[16];
	char url_path[1024];
	const char *method;
	const char *path;
	const char *body;
	const char *ids_file;
	const char *headers[MAX_HEADERS];
	size_t nheaders;
	bool user_content_type;
	long concurrency;
	uint64_t requests;
	double duration;
	double timeout;
	uint64_t seq_start;
	int threads;
} opt = {
    .method = "GET",
    .concurrency = 1,
    .requests = 10000,
    .duration = 60.0,
    .timeout = 10.0,
    .seq_start = 1,
    .threads = 1,
};

static struct tmpl path_t, body_t;
static char **ids;
static size_t nids;
static char *fixed_headers; /* "Host: ...\r\n" + user headers + content-type */
static size_t fixed_headers_len;
static struct sockaddr_storage target;
static socklen_t target_len;

/* ---------------------------------------------------------------- shared state */

static atomic_uint_fast64_t issued; /* requests handed out (sequence index) */
static atomic_bool stop_now;	    /* deadline reached or signal */
static atomic_bool errbody_printed;
static double t_deadline;

static void usage(FILE *f)
{
	fputs("usage: loadgen --url http://127.0.0.1:PORT [options]\n"
	      "  --concurrency N     keep-alive connections (default 1)\n"
	      "  --requests N        total requests (default 10000)\n"
	      "  --duration SECONDS  upper bound on run time (default 60)\n"
	      "  --method GET|POST|PUT|PATCH|DELETE (default GET)\n"
	      "  --path TEMPLATE     request path; {n} = sequence number, {id} = line of --ids\n"
	      "  --body TEMPLATE     request body (sent with Content-Type: application/json\n"
	      "                      unless a Content-Type --header is given)\n"
	      "  --header 'K: V'     extra request header (repeatable)\n"
	      "  --ids FILE          values for {id}, one per line, used round-robin\n"
	      "  --seq-start N       first value of {n} (default 1)\n"
	      "  --threads N         event-loop threads (default 1, max 16)\n"
	      "  --timeout SECONDS   per-request timeout, counted as an error (default 10)\n"
	      "Prints one JSON line with requests, errors, non2xx, seconds, rps, latencies.\n",
	      f);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("%s", "out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("%s", "out of memory");
	return p;
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		die("invalid number for %s", what);
	return (uint64_t)v;
}

static double parse_pos_double(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0))
		die("invalid positive number for %s", what);
	return v;
}

static void compile_tmpl(const char *src, struct tmpl *t)
{
	size_t cap = 8;
	t->segs = xmalloc(cap * sizeof *t->segs);
	t->nsegs = 0;
	t->uses_id = false;
	const char *p = src, *lit = src;
	for (;;) {
		int kind = 0;
		size_t skip = 0;
		if (*p == '\0') {
			kind = -1;
		} else if (strncmp(p, "{n}", 3) == 0) {
			kind = 1;
			skip = 3;
		} else if (strncmp(p, "{id}", 4) == 0) {
			kind = 2;
			skip = 4;
		} else {
			p++;
			continue;
		}
		if (t->nsegs + 2 > cap) {
			cap *= 2;
			t->segs = xrealloc(t->segs, cap * sizeof *t->segs);
		}
		if (p > lit)
			t->segs[t->nsegs++] = (struct seg){0, lit, (size_t)(p - lit)};
		if (kind < 0)
			break;
		t->segs[t->nsegs++] = (struct seg){kind, NULL, 0};
		if (kind == 2)
			t->uses_id = true;
		p += skip;
		lit = p;
	}
}

/* Appends the expansion of t for sequence index idx to buf at *len. */
static void expand(const struct tmpl *t, uint64_t idx, char **buf, size_t *len, size_t *cap)
{
	char num[24];
	for (size_t i = 0; i < t->nsegs; i++) {
		const char *s;
		size_t l;
		switch (t->segs[i].kind) {
		case 1:
			l = (size_t)snprintf(num, sizeof num, "%" PRIu64, opt.seq_start + idx);
			s = num;
			break;
		case 2:
			s = ids[idx % nids];
			l = strlen(s);
			break;
		default:
			s = t->segs[i].s;
			l = t->segs[i].len;
			break;
		}
		if (*len + l + 1 > *cap) {
			while (*len + l + 1 > *cap)
				*cap *= 2;
			*buf = xrealloc(*buf, *cap);
		}
		memcpy(*buf + *len, s, l);
		*len += l;
	}
}

static void load_ids(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		die("cannot open --ids file %s", file);
	size_t cap = 1024;
	ids = xmalloc(cap * sizeof *ids);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	while ((n = getline(&line, &lcap, f)) >= 0) {
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		char *s = line;
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		if (nids == cap) {
			cap *= 2;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[nids++] = strdup(s);
	}
	free(line);
	fclose(f);
	if (nids == 0)
		die("--ids file %s has no lines", file);
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

static void parse_url(const char *url)
{
	if (strncmp(url, "http://", 7) != 0)
		die("--url must start with http:// (got %s)", url);
	const char *p = url + 7;
	const char *slash = strchr(p, '/');
	size_t hostport_len = slash ? (size_t)(slash - p) : strlen(p);
	if (hostport_len == 0 || hostport_len >= sizeof opt.host)
		die("bad host in --url %s", url);
	memcpy(opt.host, p, hostport_len);
	opt.host[hostport_len] = '\0';
	snprintf(opt.url_path, sizeof opt.url_path, "%s", slash ? slash : "/");

	char name[256];
	const char *port = NULL;
	if (opt.host[0] == '[') {
		const char *rb = strchr(opt.host, ']');
		if (!rb)
			die("bad IPv6 host in --url %s", url);
		size_t l = (size_t)(rb - opt.host - 1);
		memcpy(name, opt.host + 1, l);
		name[l] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		snprintf(name, sizeof name, "%s", opt.host);
		char *c = strrchr(name, ':');
		if (c) {
			port = opt.host + (c - name) + 1;
			*c = '\0';
		}
	}
	snprintf(opt.port, sizeof opt.port, "%s", port && *port ? port : "80");

	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(name, opt.port, &hints, &res);
	if (rc != 0 || !res)
		die("cannot resolve %s", name);
	if (!is_loopback(res->ai_addr)) {
		freeaddrinfo(res);
		die("refusing non-loopback target %s (only 127.0.0.0/8 and ::1)", name);
	}
	memcpy(&target, res->ai_addr, res->ai_addrlen);
	target_len = res->ai_addrlen;
	freeaddrinfo(res);
}

static void parse_args(int argc, char **argv)
{
	const char *url = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		const char *val = NULL;
		char keybuf[64];
		const char *eq = strchr(a, '=');
		if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof keybuf) {
			memcpy(keybuf, a, (size_t)(eq - a));
			keybuf[eq - a] = '\0';
			val = eq + 1;
			a = keybuf;
		} else {
			if (i + 1 >= argc)
				die("missing value for %s", a);
			val = argv[++i];
		}
		if (strcmp(a, "--url") == 0)
			url = val;
		else if (strcmp(a, "--concurrency") == 0 || strcmp(a, "-c") == 0)
			opt.concurrency = (long)parse_u64(val, a);
		else if (strcmp(a, "--requests") == 0 || strcmp(a, "-n") == 0)
			opt.requests = parse_u64(val, a);
		else if (strcmp(a, "--duration") == 0 || strcmp(a, "-d") == 0)
			opt.duration = parse_pos_double(val, a);
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout = parse_pos_double(val, a);
		else if (strcmp(a, "--method") == 0)
			opt.method = val;
		else if (strcmp(a, "--path") == 0)
			opt.path = val;
		else if (strcmp(a, "--body") == 0)
			opt.body = val;
		else if (strcmp(a, "--ids") == 0)
			opt.ids_file = val;
		else if (strcmp(a, "--seq-start") == 0)
			opt.seq_start = parse_u64(val, a);
		else if (strcmp(a, "--threads") == 0)
			opt.threads = (int)parse_u64(val, a);
		else if (strcmp(a, "--header") == 0 || strcmp(a, "-H") == 0) {
			if (opt.nheaders == MAX_HEADERS)
				die("%s", "too many --header");
			if (!strchr(val, ':') || strpbrk(val, "\r\n"))
				die("bad --header '%s' (want 'Name: value')", val);
			if (strncasecmp(val, "content-type:", 13) == 0)
				opt.user_content_type = true;
			if (strncasecmp(val, "content-length:", 15) == 0 ||
			    strncasecmp(val, "host:", 5) == 0)
				die("--header %s is set by loadgen itself", val);
			opt.headers[opt.nheaders++] = val;
		} else {
			usage(stderr);
			die("unknown option %s", a);
		}
	}
	if (!url)
		die("%s", "--url is required");
	if (opt.concurrency < 1 || opt.concurrency > 100000)
		die("%s", "--concurrency must be 1..100000");
	if (opt.requests < 1)
		die("%s", "--requests must be >= 1");
	if (opt.threads < 1 || opt.threads > MAX_THREADS)
		die("%s", "--threads must be 1..16");
	if (opt.threads > opt.concurrency)
		opt.threads = (int)opt.concurrency;
	for (const char *m = opt.method; *m; m++)
		if (!isupper((unsigned char)*m))
			die("bad --method %s", opt.method);
	parse_url(url);
	compile_tmpl(opt.path ? opt.path : opt.url_path, &path_t);
	compile_tmpl(opt.body ? opt.body : "", &body_t);
	if (path_t.uses_id || body_t.uses_id) {
		if (!opt.ids_file)
			die("%s", "template uses {id} but no --ids FILE given");
		load_ids(opt.ids_file);
	}

	/* Fixed part of the header block. */
	size_t cap = 256;
	for (size_t i = 0; i < opt.nheaders; i++)
		cap += strlen(opt.headers[i]) + 2;
	fixed_headers = xmalloc(cap);
	size_t len = (size_t)snprintf(fixed_headers, cap, "Host: %s\r\n", opt.host);
	for (size_t i = 0; i < opt.nheaders; i++)
		len += (size_t)snprintf(fixed_headers + len, cap - len, "%s\r\n", opt.headers[i]);
	if (opt.body && !opt.user_content_type)
		len += (size_t)snprintf(fixed_headers + len, cap - len,
					"Content-Type: application/json\r\n");
	fixed_headers_len = len;
}

/* ---------------------------------------------------------------- connections */

enum cstate { C_IDLE, C_CONNECTING, C_WRITING, C_READING, C_RETIRED };
enum bstate { B_HEAD, B_LENGTH, B_CHUNK_SIZE, B_CHUNK_DATA, B_CHUNK_TRAILER, B_EOF, B_DONE };

struct conn {
	int fd;
	enum cstate state;
	uint32_t events; /* currently registered epoll events */
	bool reused;	 /* at least one response already read on this socket */
	uint64_t idx;	 /* sequence index of the request in flight */
	uint64_t t_start;
	double t_timeout;

	char *wbuf;
	size_t wlen, woff, wcap;

	char *rbuf;
	size_t rlen, rcap;
	enum bstate bs;
	size_t body_start; /* offset of the body in rbuf */
	size_t pos;	   /* parse position */
	size_t remaining;  /* bytes left in Content-Length body or current chunk */
	int status;
	bool chunked, close_after;
};

struct worker {
	int id;
	int ep;
	struct conn *conns;
	size_t nconns;
	size_t active;
	uint64_t *lat; /* latencies in ns */
	size_t nlat, latcap;
	uint64_t errors, non2xx, connects;
	char *bbuf; /* scratch for the expanded body */
	size_t bcap;
	pthread_t th;
};

static void set_events(struct worker *w, struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) != 0)
		perror("loadgen: epoll_ctl");
	c->events = ev;
}

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_IDLE;
	c->reused = false;
	c->rlen = 0;
}

static bool conn_open(struct worker *w, struct conn *c)
{
	c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("loadgen: socket");
		return false;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	w->connects++;
	c->reused = false;
	c->rlen = 0;
	int rc = connect(c->fd, (const struct sockaddr *)&target, target_len);
	if (rc != 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	c->state = rc == 0 ? C_WRITING : C_CONNECTING;
	c->events = EPOLLOUT;
	struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) != 0) {
		perror("loadgen: epoll_ctl add");
		close(c->fd);
		c->fd = -1;
		return false;
	}
	return true;
}

static void build_request(struct worker *w, struct conn *c)
{
	size_t len = 0;
	if (!c->wbuf) {
		c->wcap = 1024;
		c->wbuf = xmalloc(c->wcap);
	}
	/* The body is expanded first (its length goes into the head). */
	size_t blen = 0;
	if (!w->bbuf) {
		w->bcap = 1024;
		w->bbuf = xmalloc(w->bcap);
	}
	if (opt.body)
		expand(&body_t, c->idx, &w->bbuf, &blen, &w->bcap);
	const char *bbuf = w->bbuf;

	size_t ml = strlen(opt.method);
	if (c->wcap < ml + 1) {
		c->wcap = ml + 1024;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf, opt.method, ml);
	len = ml;
	c->wbuf[len++] = ' ';
	expand(&path_t, c->idx, &c->wbuf, &len, &c->wcap);
	char tail[64];
	int tl;
	if (opt.body)
		tl = snprintf(tail, sizeof tail, " HTTP/1.1\r\nContent-Length: %zu\r\n", blen);
	else
		tl = snprintf(tail, sizeof tail, " HTTP/1.1\r\n");
	size_t need = len + (size_t)tl + fixed_headers_len + 2 + blen + 1;
	if (need > c->wcap) {
		while (need > c->wcap)
			c->wcap *= 2;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + len, tail, (size_t)tl);
	len += (size_t)tl;
	memcpy(c->wbuf + len, fixed_headers, fixed_headers_len);
	len += fixed_headers_len;
	memcpy(c->wbuf + len, "\r\n", 2);
	len += 2;
	memcpy(c->wbuf + len, bbuf, blen);
	len += blen;
	c->wlen = len;
	c->woff = 0;
}

static void record_latency(struct worker *w, uint64_t ns)
{
	if (w->nlat == w->latcap) {
		w->latcap = w->latcap ? w->latcap * 2 : 4096;
		w->lat = xrealloc(w->lat, w->latcap * sizeof *w->lat);
	}
	w->lat[w->nlat++] = ns;
}

/* Starts the next request on c (opening a connection if needed).  Returns
 * false when the request budget is spent and c has been retired. */
static bool next_request(struct worker *w, struct conn *c);

static void fail_request(struct worker *w, struct conn *c)
{
	w->errors++;
	conn_close(w, c);
	next_request(w, c);
}

/* Writes as much of the pending request as the socket takes. */
static void do_write(struct worker *w, struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_events(w, c, EPOLLOUT);
			return;
		}
		fail_request(w, c);
		return;
	}
	c->state = C_READING;
	c->bs = B_HEAD;
	c->pos = 0;
	set_events(w, c, EPOLLIN);
}

static void start_send(struct worker *w, struct conn *c)
{
	build_request(w, c);
	c->state = C_WRITING;
	c->t_start = now_ns();
	c->t_timeout = now_s() + opt.timeout;
	do_write(w, c);
}

static bool next_request(struct worker *w, struct conn *c)
{
	for (;;) {
		if (atomic_load_explicit(&stop_now, memory_order_relaxed))
			goto retire;
		uint64_t idx = atomic_fetch_add_explicit(&issued, 1, memory_order_relaxed);
		if (idx >= opt.requests)
			goto retire;
		c->idx = idx;
		if (c->fd >= 0) {
			start_send(w, c);
			return true;
		}
		if (conn_open(w, c)) {
			c->t_timeout = now_s() + opt.timeout;
			if (c->state == C_WRITING)
				start_send(w, c);
			return true;
		}
		w->errors++; /* connect failed at once: count, try the next one */
	}
retire:
	if (c->fd >= 0)
		conn_close(w, c);
	if (c->state != C_RETIRED) {
		c->state = C_RETIRED;
		w->active--;
	}
	return false;
}

static const char *memmem_crlf(const char *p, size_t n)
{
	return memmem(p, n, "\r\n", 2);
}

/* Parses the status line and headers (rbuf[0..end) ends with CRLFCRLF).
 * Returns false on a malformed head. */
static bool parse_head(struct conn *c, size_t end)
{
	const char *p = c->rbuf;
	if (end < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return false;
	bool http10 = p[7] == '0';
	if (!isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]))
		return false;
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	c->chunked = false;
	c->close_after = http10;
	bool have_len = false;
	uint64_t clen = 0;
	const char *line = memmem_crlf(p, end);
	if (!line)
		return false;
	line += 2;
	const char *stop = p + end;
	while (line < stop) {
		const char *eol = memmem_crlf(line, (size_t)(stop - line));
		if (!eol || eol == line)
			break;
		size_t ll = (size_t)(eol - line);
		const char *colon = memchr(line, ':', ll);
		if (colon) {
			size_t nl = (size_t)(colon - line);
			const char *v = colon + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(eol - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (nl == 14 && strncasecmp(line, "content-length", 14) == 0) {
				clen = 0;
				if (vl == 0)
					return false;
				for (size_t i = 0; i < vl; i++) {
					if (!isdigit((unsigned char)v[i]) ||
					    clen > (uint64_t)MAX_RESPONSE)
						return false;
					clen = clen * 10 + (uint64_t)(v[i] - '0');
				}
				have_len = true;
			} else if (nl == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
				/* chunked must be the last coding */
				if (vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0)
					c->chunked = true;
			} else if (nl == 10 && strncasecmp(line, "connection", 10) == 0) {
				if (vl >= 5 && memmem(v, vl, "close", 5))
					c->close_after = true;
				else if (http10 && vl >= 10 &&
					 strncasecmp(v, "keep-alive", 10) == 0)
					c->close_after = false;
			}
		}
		line = eol + 2;
	}
	c->body_start = end;
	c->pos = end;
	bool no_body = (c->status >= 100 && c->status < 200) || c->status == 204 ||
		       c->status == 304 || strcmp(opt.method, "HEAD") == 0;
	if (no_body) {
		c->bs = B_DONE;
	} else if (c->chunked) {
		c->bs = B_CHUNK_SIZE;
	} else if (have_len) {
		c->remaining = (size_t)clen;
		c->bs = B_LENGTH;
	} else {
		c->bs = B_EOF; /* body delimited by connection close */
		c->close_after = true;
	}
	return true;
}

/* Advances the body parser over rbuf.  Returns -1 on a protocol error. */
static int parse_body(struct conn *c)
{
	for (;;) {
		size_t avail = c->rlen - c->pos;
		switch (c->bs) {
		case B_LENGTH:
			if (avail < c->remaining)
				return 0;
			c->pos += c->remaining;
			c->bs = B_DONE;
			break;
		case B_CHUNK_SIZE: {
			const char *eol = memmem_crlf(c->rbuf + c->pos, avail);
			if (!eol)
				return avail > 1024 ? -1 : 0;
			const char *s = c->rbuf + c->pos;
			uint64_t sz = 0;
			int digits = 0;
			while (s < eol && isxdigit((unsigned char)*s)) {
				int d = isdigit((unsigned char)*s)
					    ? *s - '0'
					    : (tolower((unsigned char)*s) - 'a' + 10);
				sz = sz * 16 + (uint64_t)d;
				if (sz > (uint64_t)MAX_RESPONSE)
					return -1;
				s++;
				digits++;
			}
			if (digits == 0 || (s < eol && *s != ';' && *s != ' ' && *s != '\t'))
				return -1;
			c->pos = (size_t)(eol + 2 - c->rbuf);
			if (sz == 0) {
				c->bs = B_CHUNK_TRAILER;
			} else {
				c->remaining = (size_t)sz;
				c->bs = B_CHUNK_DATA;
			}
			break;
		}
		case B_CHUNK_DATA:
			if (avail < c->remaining + 2)
				return 0;
			if (c->rbuf[c->pos + c->remaining] != '\r' ||
			    c->rbuf[c->pos + c->remaining + 1] != '\n')
				return -1;
			c->pos += c->remaining + 2;
			c->bs = B_CHUNK_SIZE;
			break;
		case B_CHUNK_TRAILER: {
			const char *eol = memmem_crlf(c->rbuf + c->pos, avail);
			if (!eol)
				return avail > MAX_RESPONSE_HEAD ? -1 : 0;
			bool empty = eol == c->rbuf + c->pos;
			c->pos = (size_t)(eol + 2 - c->rbuf);
			if (empty)
				c->bs = B_DONE;
			break;
		}
		case B_EOF:
			c->pos = c->rlen;
			return 0;
		case B_DONE:
			return 1;
		case B_HEAD:
			return -1;
		}
	}
}

/* Prints the body of the response in rbuf (de-chunked if needed). */
static void print_error_response(struct conn *c, size_t end)
{
	fprintf(stderr, "loadgen: first non-2xx response: status %d (request #%" PRIu64 ")\n",
		c->status, opt.seq_start + c->idx);
	const char *b = c->rbuf + c->body_start;
	size_t n = end - c->body_start;
	char out[ERRBODY_MAX + 1];
	size_t ol = 0;
	if (!c->chunked) {
		ol = n < ERRBODY_MAX ? n : ERRBODY_MAX;
		memcpy(out, b, ol);
	} else {
		const char *p = b, *e = b + n;
		while (p < e && ol < ERRBODY_MAX) {
			char *x;
			unsigned long sz = strtoul(p, &x, 16);
			const char *eol = memmem_crlf(p, (size_t)(e - p));
			if (!eol || sz == 0)
				break;
			p = eol + 2;
			size_t take = sz;
			if (take > (size_t)(e - p))
				take = (size_t)(e - p);
			if (take > ERRBODY_MAX - ol)
				take = ERRBODY_MAX - ol;
			memcpy(out + ol, p, take);
			ol += take;
			p += sz + 2;
		}
	}
	out[ol] = '\0';
	fprintf(stderr, "%s%s\n", out, n > ERRBODY_MAX ? " …(truncated)" : "");
}

static void response_done(struct worker *w, struct conn *c, size_t end)
{
	uint64_t t = now_ns();
	record_latency(w, t - c->t_start);
	if (c->status < 200 || c->status > 299) {
		w->non2xx++;
		bool expected = false;
		if (atomic_compare_exchange_strong(&errbody_printed, &expected, true))
			print_error_response(c, end);
	}
	bool leftover = end < c->rlen;
	if (leftover) {
		static atomic_bool warned;
		bool expected = false;
		if (atomic_compare_exchange_strong(&warned, &expected, true))
			fprintf(
			    stderr,
			    "loadgen: %zu unexpected bytes after a response (bad Content-Length?);"
			    " closing the connection\n",
			    c->rlen - end);
	}
	c->rlen = 0;
	c->reused = true;
	if (c->close_after || leftover)
		conn_close(w, c);
	next_request(w, c);
}

/* Parses what rbuf holds.  Returns 1 when the response is complete, 0 when
 * more bytes are needed, -1 on a protocol error. */
static int process(struct conn *c)
{
	for (;;) {
		if (c->bs != B_HEAD)
			return parse_body(c);
		size_t from = c->pos > 3 ? c->pos - 3 : 0;
		const char *e = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n", 4);
		if (!e) {
			c->pos = c->rlen;
			return c->rlen > MAX_RESPONSE_HEAD ? -1 : 0;
		}
		if (!parse_head(c, (size_t)(e + 4 - c->rbuf)))
			return -1;
		if (c->status >= 100 && c->status < 200) {
			/* interim response (100 Continue): drop it, parse on */
			size_t end = c->pos;
			memmove(c->rbuf, c->rbuf + end, c->rlen - end);
			c->rlen -= end;
			c->pos = 0;
			c->bs = B_HEAD;
		}
	}
}

static bool idempotent(void)
{
	return strcmp(opt.method, "GET") == 0 || strcmp(opt.method, "HEAD") == 0;
}

static void do_read(struct worker *w, struct conn *c)
{
	for (;;) {
		if (c->rcap - c->rlen < 4096) {
			if (c->rcap >= (size_t)MAX_RESPONSE) {
				fail_request(w, c);
				return;
			}
			c->rcap = c->rcap ? c->rcap * 2 : 16384;
			c->rbuf = xrealloc(c->rbuf, c->rcap);
		}
		size_t room = c->rcap - c->rlen;
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			n = 0; /* reset: handled like a close below */
			if (c->bs == B_EOF)
				c->bs = B_HEAD; /* a reset never completes a body */
		}
		if (n == 0) {
			/* Peer closed.  A body delimited by close is complete now. */
			if (c->bs == B_EOF) {
				c->close_after = true;
				response_done(w, c, c->rlen);
			} else if (c->reused && c->rlen == 0 && idempotent()) {
				/* keep-alive connection closed by the server while
				 * idle: resend the same request once on a new one */
				conn_close(w, c);
				if (conn_open(w, c)) {
					c->t_timeout = now_s() + opt.timeout;
					if (c->state == C_WRITING)
						start_send(w, c);
				} else {
					w->errors++;
					next_request(w, c);
				}
			} else {
				fail_request(w, c);
			}
			return;
		}
		c->rlen += (size_t)n;
		int r = process(c);
		if (r < 0) {
			fail_request(w, c);
			return;
		}
		if (r > 0) {
			response_done(w, c, c->pos);
			return;
		}
		if ((size_t)n < room)
			return;
	}
}

static void on_event(struct worker *w, struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case C_CONNECTING: {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
			fail_request(w, c);
			return;
		}
		start_send(w, c);
		return;
	}
	case C_WRITING:
		if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLOUT)) {
			fail_request(w, c);
			return;
		}
		do_write(w, c);
		return;
	case C_READING:
		do_read(w, c);
		return;
	case C_IDLE:
	default:
		return;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	for (size_t i = 0; i < w->nconns; i++) {
		w->conns[i].fd = -1;
		w->conns[i].state = C_IDLE;
	}
	w->active = w->nconns;
	for (size_t i = 0; i < w->nconns; i++)
		next_request(w, &w->conns[i]);
	double next_sweep = now_s() + 0.05;
	while (w->active > 0) {
		double t = now_s();
		if (t >= t_deadline) {
			atomic_store(&stop_now, true);
			break;
		}
		if (atomic_load_explicit(&stop_now, memory_order_relaxed))
			break;
		int wait_ms = (int)((t_deadline - t) * 1000.0) + 1;
		if (wait_ms > 50)
			wait_ms = 50;
		int n = epoll_wait(w->ep, evs, 256, wait_ms);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++)
			on_event(w, evs[i].data.ptr, evs[i].events);
		t = now_s();
		if (t >= next_sweep) {
			next_sweep = t + 0.05;
			for (size_t i = 0; i < w->nconns; i++) {
				struct conn *c = &w->conns[i];
				if (c->fd >= 0 && c->state != C_IDLE && t > c->t_timeout)
					fail_request(w, c);
			}
		}
	}
	for (size_t i = 0; i < w->nconns; i++)
		if (w->conns[i].fd >= 0) {
			close(w->conns[i].fd);
			w->conns[i].fd = -1;
		}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	/* nearest-rank */
	size_t rank = (size_t)(p * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1e6;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_now, true);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int nt = opt.threads;
	struct worker *ws = calloc((size_t)nt, sizeof *ws);
	struct conn *conns = calloc((size_t)opt.concurrency, sizeof *conns);
	if (!ws || !conns)
		die("%s", "out of memory");
	size_t per = (size_t)opt.concurrency / (size_t)nt,
	       extra = (size_t)opt.concurrency % (size_t)nt;
	size_t off = 0;
	for (int i = 0; i < nt; i++) {
		ws[i].id = i;
		ws[i].conns = conns + off;
		ws[i].nconns = per + ((size_t)i < extra ? 1 : 0);
		off += ws[i].nconns;
		ws[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (ws[i].ep < 0)
			die("%s", "epoll_create1 failed");
		size_t expect = (size_t)(opt.requests / (uint64_t)nt) + 16;
		ws[i].latcap = expect < (1u << 22) ? expect : (1u << 22);
		ws[i].lat = xmalloc(ws[i].latcap * sizeof *ws[i].lat);
	}

	double t0 = now_s();
	t_deadline = t0 + opt.duration;
	if (nt == 1) {
		worker_main(&ws[0]);
	} else {
		for (int i = 0; i < nt; i++)
			if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
				die("%s", "pthread_create failed");
		for (int i = 0; i < nt; i++)
			pthread_join(ws[i].th, NULL);
	}
	double secs = now_s() - t0;

	size_t total = 0;
	uint64_t errors = 0, non2xx = 0, connects = 0;
	for (int i = 0; i < nt; i++) {
		total += ws[i].nlat;
		errors += ws[i].errors;
		non2xx += ws[i].non2xx;
		connects += ws[i].connects;
	}
	uint64_t *all = xmalloc(total * sizeof *all);
	size_t k = 0;
	long double sum = 0;
	for (int i = 0; i < nt; i++) {
		memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
		k += ws[i].nlat;
	}
	for (size_t i = 0; i < total; i++)
		sum += all[i];
	qsort(all, total, sizeof *all, cmp_u64);
	double mean = total ? (double)(sum / total) / 1e6 : 0.0;
	struct rusage ru;
	double cpu = 0.0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	printf("{\"requests\":%zu,\"errors\":%" PRIu64 ",\"non2xx\":%" PRIu64
	       ",\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f"
	       ",\"max_ms\":%.3f,\"mean_ms\":%.3f,\"connects\":%" PRIu64 ",\"concurrency\":%ld"
	       ",\"client_cpu_s\":%.3f}\n",
	       total, errors, non2xx, secs, secs > 0 ? (double)total / secs : 0.0,
	       pct_ms(all, total, 0.50), pct_ms(all, total, 0.90), pct_ms(all, total, 0.99),
	       total ? (double)all[total - 1] / 1e6 : 0.0, mean, connects, opt.concurrency, cpu);
	fflush(stdout);

	for (long i = 0; i < opt.concurrency; i++) {
		free(conns[i].wbuf);
		free(conns[i].rbuf);
	}
	for (int i = 0; i < nt; i++) {
		free(ws[i].lat);
		free(ws[i].bbuf);
		close(ws[i].ep);
	}
	for (size_t i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	free(all);
	free(conns);
	free(ws);
	free(fixed_headers);
	free(path_t.segs);
	free(body_t.segs);
	return 0;
}
