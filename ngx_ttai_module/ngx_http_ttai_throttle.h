
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_THROTTLE_H_INCLUDED_
#define _NGX_HTTP_TTAI_THROTTLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Log lines that a client can cause in a loop, a few per interval for
 * each kind of line and key, in each worker.  The first few are written
 * at once, with their details; those that follow within the interval are
 * counted, and their sum is written when it is over, by a timer if
 * nothing else comes, then once an interval for as long as they go on:
 *
 *     ttai: KV zone "kv" is full: evicted 764192 least recently used
 *     entries in the last 10 s
 *
 * The counts live in each worker's own memory: no lock, no shared
 * memory, and two busy workers write two lines an interval.  Call it
 * with no lock held: it may write.
 */


#define NGX_HTTP_TTAI_THROTTLE_INTERVAL  10    /* seconds */
#define NGX_HTTP_TTAI_THROTTLE_BURST     5     /* lines at once */


/*
 * Writes one line about n events under key.  A span of length 0 means
 * a line written at once, for which data is the caller's detail of this
 * event; otherwise span is " in the last N s", n is the sum of the
 * events since the last line, and data is NULL.
 */
typedef void (*ngx_http_ttai_throttle_pt)(ngx_log_t *log, ngx_str_t *key,
    ngx_uint_t n, ngx_str_t *span, void *data);


/* n events of the kind "write" names, about key (at most 255 bytes) */
void ngx_http_ttai_throttle(ngx_log_t *log, ngx_http_ttai_throttle_pt write,
    ngx_str_t *key, ngx_uint_t n, void *data);

/* writes the sums not yet written: at exit */
void ngx_http_ttai_throttle_flush(ngx_log_t *log);


#endif /* _NGX_HTTP_TTAI_THROTTLE_H_INCLUDED_ */
