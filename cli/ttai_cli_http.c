
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ttai_cli.h"


static size_t ttai_cli_write(char *data, size_t size, size_t n, void *ctx);


static int  ttai_cli_quiet_connect;


void
ttai_cli_quiet(int on)
{
    ttai_cli_quiet_connect = on;
}


const char *
ttai_cli_server_url(void)
{
    const char  *url;

    url = getenv("TTAI_DEV_URL");

    return (url != NULL && *url != '\0') ? url : TTAI_CLI_DEFAULT_URL;
}


int
ttai_cli_request(const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    ttai_cli_response_t *res)
{
    int                 rc;
    char               *url, header[160], *ct;
    CURL               *curl;
    CURLcode            code;
    const char         *base;
    struct curl_slist  *headers;

    memset(res, 0, sizeof(ttai_cli_response_t));

    base = ttai_cli_server_url();

    url = malloc(strlen(base) + strlen(path) + 1);
    if (url == NULL) {
        fprintf(stderr, "ttai: out of memory\n");
        return -1;
    }

    strcpy(url, base);
    strcat(url, path);

    curl = curl_easy_init();
    if (curl == NULL) {
        free(url);
        fprintf(stderr, "ttai: libcurl could not be initialised\n");
        return -1;
    }

    headers = curl_slist_append(NULL, "Expect:");

    if (content_type != NULL) {
        snprintf(header, sizeof(header), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, header);
    }

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ttai-cli");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ttai_cli_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, res);

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);

    } else if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) len);
    }

    code = curl_easy_perform(curl);

    rc = 0;

    if (code == CURLE_COULDNT_CONNECT) {
        if (!ttai_cli_quiet_connect) {
            fprintf(stderr, "ttai: the dev server is not running on %s; "
                    "start it with scripts/dev.sh (or set TTAI_DEV_URL)\n",
                    base);
        }

        rc = -1;

    } else if (code != CURLE_OK) {
        fprintf(stderr, "ttai: request to %s failed: %s\n", base,
                curl_easy_strerror(code));
        rc = -1;

    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);

        ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);

        if (ct != NULL) {
            snprintf(res->content_type, sizeof(res->content_type), "%s", ct);
        }

        if (res->body == NULL) {
            res->body = calloc(1, 1);
            if (res->body == NULL) {
                rc = -1;
            }
        }
    }

    if (rc != 0) {
        ttai_cli_response_free(res);
    }

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);

    return rc;
}


static size_t
ttai_cli_write(char *data, size_t size, size_t n, void *ctx)
{
    char                 *p;
    ttai_cli_response_t  *res = ctx;

    p = realloc(res->body, res->len + size * n + 1);
    if (p == NULL) {
        return 0;
    }

    memcpy(p + res->len, data, size * n);
    res->body = p;
    res->len += size * n;
    res->body[res->len] = '\0';

    return size * n;
}


void
ttai_cli_response_free(ttai_cli_response_t *res)
{
    free(res->body);
    res->body = NULL;
    res->len = 0;
}


int
ttai_cli_server_error(const char *what, ttai_cli_response_t *res)
{
    json_t      *o;
    const char  *m;

    /* the admin API's errors are {"error":"code","message":"text"} */
    o = (res->body != NULL) ? json_loadb(res->body, res->len, 0, NULL)
                            : NULL;
    m = json_string_value(json_object_get(o, "message"));

    if (m != NULL) {
        fprintf(stderr, "ttai: %s: %s (HTTP %ld)\n", what, m, res->status);

    } else {
        fprintf(stderr, "ttai: %s: the server answered HTTP %ld\n", what,
                res->status);
    }

    json_decref(o);

    return TTAI_EXIT_FAIL;
}


char *
ttai_cli_escape(const char *s, size_t len)
{
    char        *out, *p;
    size_t       i;
    const char  *hex = "0123456789ABCDEF";

    out = malloc(3 * len + 1);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    for (i = 0; i < len; i++) {
        unsigned char  c = (unsigned char) s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            *p++ = c;

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    *p = '\0';

    return out;
}


char *
ttai_cli_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf, *p;
    size_t   n, cap;

    f = (strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    cap = 65536;
    n = 0;
    buf = malloc(cap + 1);

    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);

        if (n < cap) {
            break;
        }

        cap *= 2;
        p = realloc(buf, cap + 1);
        if (p == NULL) {
            free(buf);
            buf = NULL;
            break;
        }

        buf = p;
    }

    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }

    if (f != stdin) {
        fclose(f);
    }

    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }

    return buf;
}
