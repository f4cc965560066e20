
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_OAUTH_REVOKED_H_INCLUDED_
#define _TTAI_OAUTH_REVOKED_H_INCLUDED_


/*
 * The rules of the revoked access tokens, which the shell keeps in a set
 * in shared memory (ngx_http_ttai_revoked.c): when a token is refused,
 * and how long an entry of the set is needed.  Times are unix seconds.
 *
 * An entry is a sign-in (a refresh-token family, whose access tokens
 * name it in their claim "fam") or a user, revoked at some time.  A
 * sign-in revoked issues no token after, so its entry refuses all of
 * its tokens; a user may sign in again, so theirs refuses the tokens
 * issued up to the revocation, that second included: a token's iat has
 * no finer grain, and a token of the same second may be the revoked one.
 *
 * A set that could not hold a revocation refuses instead every token
 * issued up to it (full_at), which covers that revocation and every
 * older one, for as long as they would have been needed.
 *
 * An entry refuses only tokens that live at most "window" seconds
 * after their iat: an access token of /token (TTAI_OAUTH_ACCESS_TTL)
 * and the leeway on exp.  A longer-lived token from "ttai token", which
 * whoever holds JWT_SECRET can mint anyway, outlives its user's entry.
 */


/* the seconds an entry is needed after its revocation */
long long ttai_oauth_revoked_window(long long leeway);

/*
 * 1 while an entry revoked at revoked_at may still refuse a token: it
 * is younger than the window, and full_at does not cover it; else 0
 */
int ttai_oauth_revoked_needed(long long revoked_at, long long full_at,
    long long window, long long now);

/*
 * Why a verified token issued at iat (0 when it has none) is refused,
 * for the log; NULL when it is not.  family: its sign-in is in the set;
 * user_at: when its subject was revoked last, 0 when never.
 */
const char *ttai_oauth_revoked_why(long long iat, int family,
    long long user_at, long long full_at, long long window, long long now);


#endif /* _TTAI_OAUTH_REVOKED_H_INCLUDED_ */
