
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_oauth.h"


/*
 * Client ID Metadata Documents: the URL a client_id may be, the address
 * filter its fetch goes through (no connection is opened here: each
 * address is only judged), the document, and how long it is kept.
 */


/* the filter's verdict on an address written as text (v4 or v6) */

static int
public(const char *text, int loopback)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        return ttai_cimd_addr_public((struct sockaddr *) &sin, loopback);
    }

    assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
    sin6.sin6_family = AF_INET6;

    return ttai_cimd_addr_public((struct sockaddr *) &sin6, loopback);
}


static void
test_addresses(void **state)
{
    size_t  i;

    static const char  *refused[] = {
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255",
        "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.8.9.10",
        "169.254.169.254", "169.254.0.1", "172.16.0.1", "172.20.1.1",
        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.0.1",
        "192.168.255.255", "198.18.0.1", "198.19.255.1", "198.51.100.7",
        "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255",
        "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "::ffff:169.254.169.254", "::ffff:192.168.1.1", "::127.0.0.1",
        "::10.1.2.3", "64:ff9b::a00:1", "64:ff9b::7f00:1",
        "2002:a00:1::", "2002:7f00:1::1", "2002:c0a8:101::1",
        "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1",
        "ff02::1", "2001:db8::1", "100::1", "4000::1", "e000::1",
        NULL
    };

    static const char  *allowed[] = {
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255",
        "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.1.1",
        "192.169.0.1", "11.0.0.1", "223.255.255.254",
        "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
        NULL
    };

    for (i = 0; refused[i] != NULL; i++) {
        if (public(refused[i], 0)) {
            fail_msg("%s passed the filter", refused[i]);
        }
    }

    for (i = 0; allowed[i] != NULL; i++) {
        if (!public(allowed[i], 0)) {
            fail_msg("%s was refused", allowed[i]);
        }
    }

    /* development lets loopback through, and only loopback */
    assert_true(public("127.0.0.1", 1));
    assert_true(public("::1", 1));
    assert_true(public("::ffff:127.0.0.1", 1));
    assert_false(public("10.0.0.1", 1));
    assert_false(public("169.254.169.254", 1));
    assert_false(public("fe80::1", 1));
    assert_false(public("64:ff9b::7f00:1", 1));
}


static void
test_urls(void **state)
{
    char             err[256];
    size_t           i;
    ttai_cimd_url_t  u;

    static const char  *refused[] = {
        "http://client.example/meta.json",          /* not https */
        "ftp://client.example/meta.json",
        "https://client.example",                   /* no path */
        "https://client.example/",
        "https://client.example/meta.json#frag",
        "https://client.example/meta.json?x=1",
        "https://user@client.example/meta.json",
        "https://user:pw@client.example/meta.json",
        "https://client.example/a/../meta.json",
        "https://client.example/a/./meta.json",
        "https://client.example/a/%2e%2E/meta.json",
        "https://client.example/..",
        "https://2130706433/meta.json",             /* 127.0.0.1 */
        "https://0x7f000001/meta.json",
        "https://0x7f.0.0.1/meta.json",
        "https://0177.0.0.1/meta.json",
        "https://127.1/meta.json",
        "https://127.000.000.001/meta.json",
        "https://%31%32%37.0.0.1/meta.json",
        "https://[fe80::1%25eth0]/meta.json",
        "https://[::1/meta.json",
        "https://client.example:0/meta.json",
        "https://client.example:65536/meta.json",
        "https://client.example:80x/meta.json",
        "https://cli ent.example/meta.json",
        "https://client_example/meta.json",
        "https://client.example\\@evil/meta.json",
        NULL
    };

    for (i = 0; refused[i] != NULL; i++) {
        if (ttai_cimd_url_parse(refused[i], 0, &u, err, sizeof(err)) == 0) {
            fail_msg("%s was taken", refused[i]);
        }
    }

    assert_int_equal(ttai_cimd_url_parse("https://client.example/"
                                         ".well-known/ttai.json", 0, &u,
                                         err, sizeof(err)), 0);
    assert_string_equal(u.host, "client.example");
    assert_string_equal(u.path, "/.well-known/ttai.json");
    assert_int_equal(u.port, 443);
    assert_true(u.tls);
    assert_false(u.ipv4);

    assert_int_equal(ttai_cimd_url_parse("https://93.184.216.34:8443/c", 0,
                                         &u, err, sizeof(err)), 0);
    assert_true(u.ipv4);
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.host, "93.184.216.34");

    assert_int_equal(ttai_cimd_url_parse("https://[2606:4700::1]/c.json", 0,
                                         &u, err, sizeof(err)), 0);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "2606:4700::1");

    /* http only in development, for a loopback test server */
    assert_int_equal(ttai_cimd_url_parse("http://127.0.0.1:8080/c.json", 1,
                                         &u, err, sizeof(err)), 0);
    assert_false(u.tls);
    assert_int_equal(u.port, 8080);

    assert_true(ttai_cimd_is_url("https://client.example/c"));
    assert_false(ttai_cimd_is_url("a1b2c3d4"));
}


static void
test_documents(void **state)
{
    char                 err[256];
    const char          *url = "https://client.example/c.json";
    ttai_oauth_client_t  c;

    static const char  good[] = "{\"client_id\":"
        "\"https://client.example/c.json\",\"client_name\":\"Example\","
        "\"redirect_uris\":[\"http://127.0.0.1:33418/callback\","
        "\"https://client.example/cb\"]}";

    assert_int_equal(ttai_cimd_document_check(url, good, sizeof(good) - 1,
                                              &c, err, sizeof(err)), 0);
    assert_string_equal(c.auth_method, "none");
    assert_string_equal(c.name, "Example");
    assert_int_equal(json_array_size(c.redirect_uris), 2);
    ttai_oauth_client_free(&c);

#define REFUSED(doc, why)                                                     \
    assert_int_equal(ttai_cimd_document_check(url, doc, strlen(doc), &c,     \
                                              err, sizeof(err)), -1);        \
    if (strstr(err, why) == NULL) {                                          \
        fail_msg("%s: %s", doc, err);                                        \
    }

    REFUSED("[1,2]", "not a JSON object");
    REFUSED("{\"client_id\":\"https://client.example/c.json\"", "not a JSON");
    REFUSED("{\"client_id\":\"https://client.example/other.json\","
            "\"redirect_uris\":[\"https://client.example/cb\"]}",
            "name itself");
    REFUSED("{\"redirect_uris\":[\"https://client.example/cb\"]}",
            "name itself");
    REFUSED("{\"client_id\":\"https://client.example/c.json\","
            "\"client_secret\":\"s\",\"redirect_uris\":"
            "[\"https://client.example/cb\"]}", "no client_secret");
    REFUSED("{\"client_id\":\"https://client.example/c.json\","
            "\"token_endpoint_auth_method\":\"private_key_jwt\","
            "\"redirect_uris\":[\"https://client.example/cb\"]}",
            "\"none\"");
    REFUSED("{\"client_id\":\"https://client.example/c.json\","
            "\"redirect_uris\":[\"http://evil.example/cb\"]}",
            "redirect_uris[0]");
    REFUSED("{\"client_id\":\"https://client.example/c.json\","
            "\"client_id\":\"https://client.example/c.json\","
            "\"redirect_uris\":[\"https://client.example/cb\"]}",
            "not a JSON");

    {
        static char  big[TTAI_CIMD_MAX_DOCUMENT + 64];

        memset(big, ' ', sizeof(big) - 1);
        memcpy(big, good, sizeof(good) - 1);
        REFUSED(big, "larger than");
    }
}


static void
test_cache_ttl(void **state)
{
    assert_int_equal(ttai_cimd_cache_ttl(NULL), TTAI_CIMD_DEFAULT_TTL);
    assert_int_equal(ttai_cimd_cache_ttl(""), TTAI_CIMD_DEFAULT_TTL);
    assert_int_equal(ttai_cimd_cache_ttl("public, max-age=3600"), 3600);
    assert_int_equal(ttai_cimd_cache_ttl("MAX-AGE=60"), 60);
    assert_int_equal(ttai_cimd_cache_ttl("max-age=999999999999"),
                     TTAI_CIMD_MAX_TTL);
    assert_int_equal(ttai_cimd_cache_ttl("max-age=0"), 0);
    assert_int_equal(ttai_cimd_cache_ttl("no-store"), 0);
    assert_int_equal(ttai_cimd_cache_ttl("max-age=60, no-cache"), 0);
    assert_int_equal(ttai_cimd_cache_ttl("max-age=x"), 0);
    assert_int_equal(ttai_cimd_cache_ttl("public"), TTAI_CIMD_DEFAULT_TTL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_cache_ttl),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
