
/*
 * Copyright (C) ttai contributors
 */


#include <stddef.h>

#include "ttai_oauth.h"
#include "ttai_oauth_revoked.h"


long long
ttai_oauth_revoked_window(long long leeway)
{
    return TTAI_OAUTH_ACCESS_TTL + (leeway > 0 ? leeway : 0);
}


int
ttai_oauth_revoked_needed(long long revoked_at, long long full_at,
    long long window, long long now)
{
    return revoked_at + window > now && revoked_at > full_at;
}


const char *
ttai_oauth_revoked_why(long long iat, int family, long long user_at,
    long long full_at, long long window, long long now)
{
    if (full_at != 0 && iat <= full_at && now < full_at + window) {
        return "issued before a revocation the full set could not hold";
    }

    if (family) {
        return "its sign-in was revoked";
    }

    if (user_at != 0 && iat <= user_at) {
        return "its user was revoked after it was issued";
    }

    return NULL;
}
