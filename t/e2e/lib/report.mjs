// What the end-to-end scripts share: the checks of their JSON summary,
// errors described for it, URLs shown without their secrets, and a
// JWT read without being verified (the scripts only look at claims).

import { StreamableHTTPError }
    from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// a check(name, ok, detail) that records into summary.checks
export function checker(summary) {
    return (name, ok, detail) => {
        const c = { name, ok: Boolean(ok) };
        if (detail !== undefined) {
            c.detail = detail;
        }
        summary.checks.push(c);
        return c.ok;
    };
}

export function describe(err) {
    if (err instanceof StreamableHTTPError) {
        return { error: 'StreamableHTTPError', code: err.code, message: err.message };
    }
    if (err && typeof err === 'object') {
        return { error: err.name || 'Error', code: err.code, message: err.message };
    }
    return { error: String(err) };
}

// a URL without the values of its query: codes, states and requests
// stay out of the summary
export function shown(url) {
    try {
        const u = new URL(url);
        const names = [...u.searchParams.keys()];
        return u.origin + u.pathname + (names.length ? `?${names.join('&')}` : '');
    } catch {
        return String(url);
    }
}

// {header, claims} of a JWT, or null when it is not one
export function jwtParts(token) {
    const parts = String(token).split('.');
    if (parts.length !== 3) {
        return null;
    }
    try {
        return {
            header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
            claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
        };
    } catch {
        return null;
    }
}
