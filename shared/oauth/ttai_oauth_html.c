/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include "ttai_oauth.h"


/*
 * The pages ttai's authorization server shows a person: the consent
 * page and the error page.  Small, with their CSS inline, and without
 * script: they must work under a strict Content-Security-Policy.
 */


typedef struct {
    char    *buf;
    size_t   len;
    size_t   size;
    int      failed;
} ttai_oauth_page_t;


static void ttai_oauth_append(ttai_oauth_page_t *pg, const char *s,
    size_t len);
static void ttai_oauth_raw(ttai_oauth_page_t *pg, const char *s);
static void ttai_oauth_text(ttai_oauth_page_t *pg, const char *s,
    size_t len);
static void ttai_oauth_head(ttai_oauth_page_t *pg, const char *title);
static char *ttai_oauth_finish(ttai_oauth_page_t *pg);
static void ttai_oauth_host(const char *uri, const char **host,
    size_t *len);


static const char  ttai_oauth_style[] =
    "<style>\n"
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;"
    "background:#f4f5f7;color:#1d2025}\n"
    "main{max-width:32rem;margin:0 auto;background:#fff;padding:1.5rem 2rem;"
    "border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}\n"
    "h1{font-size:1.4rem;margin-top:0}\n"
    "code{background:#eef0f3;padding:0 .25em;border-radius:3px;"
    "word-break:break-all}\n"
    ".buttons{display:flex;gap:1rem;margin-top:1.5rem}\n"
    "button{font:inherit;padding:.6rem 1.4rem;border-radius:6px;"
    "border:1px solid #8a919c;background:#fff;color:#1d2025;cursor:pointer}\n"
    "button.allow{background:#0b57d0;border-color:#0b57d0;color:#fff}\n"
    "button:focus-visible{outline:3px solid #f0a30a;outline-offset:2px}\n"
    "</style>\n";


char *
ttai_oauth_html_escape(const char *s)
{
    ttai_oauth_page_t  pg;

    memset(&pg, 0, sizeof(ttai_oauth_page_t));

    ttai_oauth_raw(&pg, "");
    ttai_oauth_text(&pg, s, strlen(s));

    return ttai_oauth_finish(&pg);
}


char *
ttai_oauth_consent_html(const char *client_name,
    const char *redirect_uri, const char *scope, const char *action,
    const char *request, const char *csrf)
{
    int                 trade;
    char               *title;
    size_t              hlen;
    const char         *name, *host;
    ttai_oauth_page_t   pg;

    memset(&pg, 0, sizeof(ttai_oauth_page_t));

    name = (client_name != NULL && client_name[0] != '\0')
           ? client_name : "An unnamed application";

    title = malloc(sizeof("Connect  to ttai") + strlen(name));
    if (title == NULL) {
        return NULL;
    }

    strcpy(title, "Connect ");
    strcat(title, name);
    strcat(title, " to ttai");

    ttai_oauth_head(&pg, title);

    free(title);

    /*
     * The redirect's host is the one thing a registration cannot fake:
     * a client may call itself anything, but the code goes there.
     */
    ttai_oauth_host(redirect_uri, &host, &hlen);

    ttai_oauth_raw(&pg, "<main>\n<h1>Connect ");
    ttai_oauth_text(&pg, name, strlen(name));
    ttai_oauth_raw(&pg, " to ttai</h1>\n<p><strong>");
    ttai_oauth_text(&pg, name, strlen(name));
    ttai_oauth_raw(&pg, "</strong> asks to use your TastyTrade account "
                   "through ttai. If you allow it, you will be sent back "
                   "to <strong>");
    ttai_oauth_text(&pg, host, hlen);
    ttai_oauth_raw(&pg, "</strong> (<code>");
    ttai_oauth_text(&pg, redirect_uri, strlen(redirect_uri));
    ttai_oauth_raw(&pg, "</code>). Allow it only if you started this "
                   "connection and you know that address.</p>\n"
                   "<p>It will be able to read your TastyTrade accounts, "
                   "balances, positions, orders and market data through "
                   "ttai's tools.</p>\n");

    trade = ttai_oauth_scope_trades(scope);

    if (!trade) {
        ttai_oauth_raw(&pg, "<p>It cannot place, change or cancel "
                       "orders.</p>\n");
    }

    ttai_oauth_raw(&pg, "<p>Scope: <code>");
    ttai_oauth_text(&pg, TTAI_OAUTH_SCOPE, sizeof(TTAI_OAUTH_SCOPE) - 1);
    ttai_oauth_raw(&pg, "</code></p>\n<form method=\"post\" action=\"");
    ttai_oauth_text(&pg, action, strlen(action));
    ttai_oauth_raw(&pg, "\">\n<input type=\"hidden\" name=\"request\" "
                   "value=\"");
    ttai_oauth_text(&pg, request, strlen(request));
    ttai_oauth_raw(&pg, "\">\n<input type=\"hidden\" name=\"csrf\" "
                   "value=\"");
    ttai_oauth_text(&pg, csrf, strlen(csrf));
    ttai_oauth_raw(&pg, "\">\n");

    /*
     * Trading is a permission of its own, off unless the user ticks it,
     * and shown only when the client asked for it
     */
    if (trade) {
        ttai_oauth_raw(&pg, "<p class=\"trade\"><label><input "
                       "type=\"checkbox\" name=\"trade\" value=\"1\"> "
                       "Also let it <strong>place, change and cancel "
                       "orders</strong> (scope <code>"
                       TTAI_OAUTH_SCOPE_TRADE "</code>).</label> Every "
                       "order still needs your own confirmation, and the "
                       "server's limits apply.</p>\n");
    }

    ttai_oauth_raw(&pg, "<div class=\"buttons\">\n"
                   "<button type=\"submit\" name=\"decision\" "
                   "value=\"approve\" class=\"allow\">Allow</button>\n"
                   "<button type=\"submit\" name=\"decision\" "
                   "value=\"deny\">Deny</button>\n"
                   "</div>\n</form>\n</main>\n</body>\n</html>\n");

    return ttai_oauth_finish(&pg);
}


char *
ttai_oauth_error_html(const char *title, const char *message)
{
    ttai_oauth_page_t  pg;

    memset(&pg, 0, sizeof(ttai_oauth_page_t));

    ttai_oauth_head(&pg, title);
    ttai_oauth_raw(&pg, "<main role=\"alert\">\n<h1>");
    ttai_oauth_text(&pg, title, strlen(title));
    ttai_oauth_raw(&pg, "</h1>\n<p>");
    ttai_oauth_text(&pg, message, strlen(message));
    ttai_oauth_raw(&pg, "</p>\n<p>Nothing was shared. You can close this "
                   "page and start again from your application.</p>\n"
                   "</main>\n</body>\n</html>\n");

    return ttai_oauth_finish(&pg);
}


static void
ttai_oauth_head(ttai_oauth_page_t *pg, const char *title)
{
    ttai_oauth_raw(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                   "<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" "
                   "content=\"width=device-width,initial-scale=1\">\n"
                   "<meta name=\"referrer\" content=\"no-referrer\">\n"
                   "<title>");
    ttai_oauth_text(pg, title, strlen(title));
    ttai_oauth_raw(pg, "</title>\n");
    ttai_oauth_raw(pg, ttai_oauth_style);
    ttai_oauth_raw(pg, "</head>\n<body>\n");
}


/* the host of an http(s) URI, without userinfo or port; all of it else */

static void
ttai_oauth_host(const char *uri, const char **host, size_t *len)
{
    const char  *p, *end;

    p = strstr(uri, "://");
    if (p == NULL) {
        *host = uri;
        *len = strlen(uri);
        return;
    }

    p += 3;
    end = p + strcspn(p, "/?#");

    *host = p;
    *len = end - p;

    if (*p == '[') {
        p = memchr(p, ']', end - p);
        if (p != NULL) {
            *len = p + 1 - *host;
        }

        return;
    }

    p = memchr(p, ':', end - p);
    if (p != NULL) {
        *len = p - *host;
    }
}


static void
ttai_oauth_append(ttai_oauth_page_t *pg, const char *s, size_t len)
{
    char    *b;
    size_t   size;

    if (pg->failed) {
        return;
    }

    if (pg->len + len + 1 > pg->size) {
        size = pg->size ? pg->size : 4096;

        while (pg->len + len + 1 > size) {
            size *= 2;
        }

        b = realloc(pg->buf, size);
        if (b == NULL) {
            pg->failed = 1;
            return;
        }

        pg->buf = b;
        pg->size = size;
    }

    memcpy(pg->buf + pg->len, s, len);
    pg->len += len;
    pg->buf[pg->len] = '\0';
}


static void
ttai_oauth_raw(ttai_oauth_page_t *pg, const char *s)
{
    ttai_oauth_append(pg, s, strlen(s));
}


/* & < > " ' escaped: safe in text and in quoted attribute values */

static void
ttai_oauth_text(ttai_oauth_page_t *pg, const char *s, size_t len)
{
    size_t       i, from;
    const char  *e;

    from = 0;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            continue;
        }

        ttai_oauth_append(pg, s + from, i - from);
        ttai_oauth_raw(pg, e);
        from = i + 1;
    }

    ttai_oauth_append(pg, s + from, len - from);
}


static char *
ttai_oauth_finish(ttai_oauth_page_t *pg)
{
    if (pg->failed) {
        free(pg->buf);
        return NULL;
    }

    return pg->buf;
}
