/* Listen address parsing: "IPV4:PORT", "localhost:PORT", "[IPV6]:PORT". Numeric addresses
 * only (plus localhost): resolving names at start-up would make the bound address depend on
 * DNS. */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util/str.h"

enum rs_status http_listen_parse(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
				 struct rs_err *err)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s;
	struct sockaddr_in *a4;
	struct sockaddr_in6 *a6;
	size_t hl;
	long long port;

	memset(ss, 0, sizeof(*ss));
	if (!listen)
		goto bad;
	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - listen - 1);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
		port_s = rb + 2;
		if (!str_to_ll(port_s, 0, 65535, &port) || port_s[0] == '-' || port_s[0] == '+')
			goto bad;
		a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto bad;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*a6);
		return RS_OK;
	}
	colon = strrchr(listen, ':');
	if (!colon)
		goto bad;
	hl = (size_t)(colon - listen);
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	port_s = colon + 1;
	if (!str_to_ll(port_s, 0, 65535, &port) || port_s[0] == '-' || port_s[0] == '+')
		goto bad;
	a4 = (struct sockaddr_in *)ss;
	if (strcmp(host, "localhost") == 0)
		memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		goto bad;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*sslen = sizeof(*a4);
	return RS_OK;
bad:
	return rs_fail(err, RS_E_INVALID, "config.invalid_listen", "listen",
		       "listen address must be IPV4:PORT or [IPV6]:PORT");
}
