
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_ORIGIN_H_INCLUDED_
#define _TTAI_ORIGIN_H_INCLUDED_


#include <stddef.h>


/*
 * The Origin header of a request to /mcp, read as what a browser sends:
 * the ASCII serialization of an origin (RFC 6454 6.2, WHATWG URL), which
 * is scheme "://" host [":" port] and nothing more.  The scheme is http
 * or https, in any case; the host a name of letters, digits, '-' and
 * non-empty dot-separated labels, an IPv4 address in four decimal parts,
 * or an IPv6 address in brackets; the port 1 to 65535 in digits, without
 * a leading zero.  Anything else is not an origin: a user name, a path,
 * a query, a fragment, an empty port, a trailing dot, "null".
 *
 * Nothing is allocated and the input need not end in a NUL: the parser
 * reads len bytes, and the host it finds points into them.
 */


#define TTAI_ORIGIN_NAME  0
#define TTAI_ORIGIN_IPV4  1
#define TTAI_ORIGIN_IPV6  2


typedef struct {
    const unsigned char  *host;       /* into the input; IPv6 with [] */
    size_t                host_len;
    unsigned              port;       /* 0: none written */
    unsigned              kind:2;     /* TTAI_ORIGIN_NAME, _IPV4, _IPV6 */
    unsigned              https:1;
} ttai_origin_t;


/* an Origin header's value: 0, or -1 when it is not a serialized origin */
int ttai_origin_parse(const unsigned char *p, size_t len, ttai_origin_t *o);

/*
 * host [":" port] alone, by the same rules, as a Host header names the
 * server: 0 or -1; o->https is 0
 */
int ttai_origin_parse_authority(const unsigned char *p, size_t len,
    ttai_origin_t *o);

/* 1 when the host is localhost, 127.0.0.1 or [::1], written so */
int ttai_origin_local(const ttai_origin_t *o);

/* 1 when both name the same host (in any case) and the same port */
int ttai_origin_same_host(const ttai_origin_t *a, const ttai_origin_t *b);


#endif /* _TTAI_ORIGIN_H_INCLUDED_ */
