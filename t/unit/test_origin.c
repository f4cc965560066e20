
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttai_origin.h"


static int
parse(const char *s, ttai_origin_t *o)
{
    return ttai_origin_parse((const unsigned char *) s, strlen(s), o);
}


/* s parses, with this host, port and scheme */
static void
origin_is(const char *s, const char *host, unsigned port, int https,
    int kind)
{
    ttai_origin_t  o;

    if (parse(s, &o) != 0) {
        fail_msg("\"%s\" was refused", s);
    }

    assert_int_equal(o.host_len, strlen(host));
    assert_memory_equal(o.host, host, o.host_len);
    assert_int_equal(o.port, port);
    assert_int_equal(o.https, https);
    assert_int_equal(o.kind, kind);
}


static void
refused(const char *s)
{
    ttai_origin_t  o;

    memset(&o, 0x5a, sizeof(o));

    if (parse(s, &o) != -1) {
        fail_msg("\"%s\" was taken for an origin", s);
    }

    /* nothing of a refused value is left to be used by mistake */
    assert_null(o.host);
    assert_int_equal(o.port, 0);
}


static int
local(const char *s)
{
    ttai_origin_t  o;

    assert_int_equal(parse(s, &o), 0);

    return ttai_origin_local(&o);
}


static void
test_valid(void **state)
{
    origin_is("http://localhost", "localhost", 0, 0, TTAI_ORIGIN_NAME);
    origin_is("http://localhost:9787", "localhost", 9787, 0,
              TTAI_ORIGIN_NAME);
    origin_is("https://claude.ai", "claude.ai", 0, 1, TTAI_ORIGIN_NAME);
    origin_is("https://app.example.com:8443", "app.example.com", 8443, 1,
              TTAI_ORIGIN_NAME);
    origin_is("http://127.0.0.1:6274", "127.0.0.1", 6274, 0,
              TTAI_ORIGIN_IPV4);
    origin_is("http://[::1]", "[::1]", 0, 0, TTAI_ORIGIN_IPV6);
    origin_is("http://[::1]:9787", "[::1]", 9787, 0, TTAI_ORIGIN_IPV6);
    origin_is("https://[2001:db8::7]:443", "[2001:db8::7]", 443, 1,
              TTAI_ORIGIN_IPV6);
    origin_is("http://xn--bcher-kva.example", "xn--bcher-kva.example", 0, 0,
              TTAI_ORIGIN_NAME);
    origin_is("http://a-b.c1", "a-b.c1", 0, 0, TTAI_ORIGIN_NAME);

    /* the ports at either end */
    origin_is("http://localhost:1", "localhost", 1, 0, TTAI_ORIGIN_NAME);
    origin_is("http://localhost:65535", "localhost", 65535, 0,
              TTAI_ORIGIN_NAME);

    /* scheme and host in any case */
    origin_is("HTTP://LOCALHOST:9787", "LOCALHOST", 9787, 0,
              TTAI_ORIGIN_NAME);
    origin_is("HtTpS://Example.COM", "Example.COM", 0, 1, TTAI_ORIGIN_NAME);
    origin_is("http://[::A:1]:80", "[::A:1]", 80, 0, TTAI_ORIGIN_IPV6);
}


/* what the handler let through as a local page before */
static void
test_attacks(void **state)
{
    refused("http://localhost:9787.evil.com");
    refused("http://127.0.0.1:9787.evil.com");
    refused("http://[::1].evil.com");
    refused("http://localhost:9787@evil.com");
    refused("http://localhost:abc");
    refused("http://localhost:9787/evil");
}


static void
test_not_origins(void **state)
{
    ttai_origin_t  o;

    refused("null");
    refused("");
    refused("http://");
    refused("https://");
    refused("http:/localhost");
    refused("http:localhost");
    refused("//localhost");
    refused("localhost:9787");
    refused("ftp://localhost");
    refused("file://localhost");
    refused("ws://localhost");
    refused("httpx://localhost");
    refused("http ://localhost");
    refused(" http://localhost");
    refused("http://localhost ");

    /* user names, paths, queries, fragments */
    refused("http://user@localhost");
    refused("http://user:pass@localhost:9787");
    refused("http://localhost/");
    refused("http://localhost?x");
    refused("http://localhost#x");
    refused("http://localhost:9787?x");
    refused("http://localhost:9787#x");
    refused("http://[::1]/");
    refused("http://[::1]:9787/x");
    refused("http://localhost\\evil.com");

    /* ports */
    refused("http://localhost:");
    refused("http://localhost:0");
    refused("http://localhost:65536");
    refused("http://localhost:99999");
    refused("http://localhost:123456");
    refused("http://localhost:+80");
    refused("http://localhost:-80");
    refused("http://localhost:080");
    refused("http://localhost: 80");
    refused("http://localhost:80:80");
    refused("http://[::1]:");
    refused("http://[::1]:x");

    /* names */
    refused("http://localhost.");
    refused("http://localhost.:9787");
    refused("http://.localhost");
    refused("http://local..host");
    refused("http://.");
    refused("http://under_score.example");
    refused("http://l%6fcalhost");
    refused("http://local host");
    refused("http://localhost\xc2\xa0");

    /* addresses a browser would have written otherwise */
    refused("http://127.1");
    refused("http://127.0.0.1.");
    refused("http://127.0.0.01");
    refused("http://127.0.0.256");
    refused("http://127.0.0.1.1");
    refused("http://0x7f.0.0.1");
    refused("http://2130706433");
    refused("http://example.0x7f");
    refused("http://[::1");
    refused("http://::1");
    refused("http://[]");
    refused("http://[:]");
    refused("http://[::1%25eth0]");
    refused("http://[::g]");
    refused("http://[1:2:3:4:5:6:7:8:9]");
    refused("http://[::1]]");

    /* a 64-byte label, a 254-byte name */
    refused("http://"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example");
    origin_is("http://"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 0, 0,
              TTAI_ORIGIN_NAME);
    refused("http://"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaa");

    /* a NUL in the value is a byte like any other: refused */
    assert_int_equal(ttai_origin_parse((const unsigned char *)
                                       "http://localhost\0.evil.com", 26,
                                       &o), -1);

    /* the length is the end: what follows is not read */
    assert_int_equal(ttai_origin_parse((const unsigned char *)
                                       "http://localhost:9787/evil", 21,
                                       &o), 0);
    assert_int_equal(o.port, 9787);
}


static void
test_local(void **state)
{
    assert_true(local("http://localhost"));
    assert_true(local("http://localhost:6274"));
    assert_true(local("https://LocalHost:6274"));
    assert_true(local("http://127.0.0.1"));
    assert_true(local("http://127.0.0.1:9787"));
    assert_true(local("http://[::1]"));
    assert_true(local("http://[::1]:9787"));

    /* exactly those names, not one that begins or ends with them */
    assert_false(local("http://localhost.example"));
    assert_false(local("http://my-localhost"));
    assert_false(local("http://localhostx"));
    assert_false(local("http://127.0.0.2"));
    assert_false(local("http://127.0.0.10"));
    assert_false(local("http://[::2]"));
    assert_false(local("http://[::1:1]"));
    assert_false(local("https://claude.ai"));
}


static void
test_same_host(void **state)
{
    ttai_origin_t  a, b;

    assert_int_equal(parse("https://ttai.example", &a), 0);

    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "TTAI.example", 12, &b), 0);
    assert_int_equal(b.https, 0);
    assert_true(ttai_origin_same_host(&a, &b));

    /* another port, or one written on one side only, is another server */
    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "ttai.example:443", 16, &b),
                     0);
    assert_int_equal(b.port, 443);
    assert_false(ttai_origin_same_host(&a, &b));

    assert_int_equal(parse("http://ttai.example:8787", &a), 0);
    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "ttai.example:8787", 17,
                         &b), 0);
    assert_true(ttai_origin_same_host(&a, &b));

    /* not a prefix, not a suffix */
    assert_int_equal(parse("http://ttai.example.evil.com:8787", &a), 0);
    assert_false(ttai_origin_same_host(&a, &b));

    assert_int_equal(parse("http://[::1]:8787", &a), 0);
    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "[::1]:8787", 10, &b), 0);
    assert_int_equal(b.kind, TTAI_ORIGIN_IPV6);
    assert_true(ttai_origin_same_host(&a, &b));

    /* a Host that is not one names no server to compare with */
    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "ttai.example:", 13, &b),
                     -1);
    assert_false(ttai_origin_same_host(&a, &b));
    assert_int_equal(ttai_origin_parse_authority(
                         (const unsigned char *) "", 0, &b), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_attacks),
        cmocka_unit_test(test_not_origins),
        cmocka_unit_test(test_local),
        cmocka_unit_test(test_same_host),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
