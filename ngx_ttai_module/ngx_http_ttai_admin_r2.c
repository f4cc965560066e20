
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_admin.h"


ngx_int_t
ngx_http_ttai_admin_r2(ngx_http_request_t *r, ngx_str_t *path)
{
    return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                                     "not_implemented",
                                     "this store is not served yet");
}
