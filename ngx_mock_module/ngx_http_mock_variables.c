
/*
 * $mock_status, $mock_cassette, $mock_interaction, $mock_mode,
 * $mock_session, $mock_latency.
 */


#include "ngx_http_mock_module.h"


static ngx_int_t ngx_http_mock_variable_status(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mock_variable_cassette(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mock_variable_interaction(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mock_variable_mode(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mock_variable_session(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mock_variable_latency(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_mock_vars[] = {

    { ngx_string("mock_status"), NULL, ngx_http_mock_variable_status,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mock_cassette"), NULL, ngx_http_mock_variable_cassette,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mock_interaction"), NULL,
      ngx_http_mock_variable_interaction,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mock_mode"), NULL, ngx_http_mock_variable_mode,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mock_session"), NULL, ngx_http_mock_variable_session,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mock_latency"), NULL, ngx_http_mock_variable_latency,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_mock_status_names[] = {
    ngx_null_string,
    ngx_string("hit"),
    ngx_string("miss"),
    ngx_string("exhausted"),
    ngx_string("not_allowed"),
    ngx_string("recorded"),
    ngx_string("passthrough"),
    ngx_string("fallback"),
    ngx_string("refused"),
    ngx_string("fault"),
    ngx_string("upgrade"),
    ngx_string("fault_fallback"),
    ngx_string("verified"),
    ngx_string("drift"),
    ngx_string("unrecorded")
};


ngx_str_t *
ngx_http_mock_status_name(ngx_uint_t status)
{
    return &ngx_http_mock_status_names[status];
}


ngx_int_t
ngx_http_mock_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mock_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_variable_status(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->status == NGX_HTTP_MOCK_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_mock_status_names[ctx->status].len;
    v->data = ngx_http_mock_status_names[ctx->status].data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_variable_cassette(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->interaction == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->interaction->cassette->len;
    v->data = ctx->interaction->cassette->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_variable_interaction(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->interaction == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%ui", ctx->interaction->index) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* the mode that ran for this request, as configured or as switched to */

static ngx_int_t
ngx_http_mock_variable_mode(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t            *name;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->mode == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = ngx_http_mock_mode_name(ctx->mode);

    v->len = name->len;
    v->data = name->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_variable_session(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->session.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->session.len;
    v->data = ctx->session.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* the delay of the answer, in milliseconds */

static ngx_int_t
ngx_http_mock_variable_latency(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || !ctx->timed) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%M", ctx->latency) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
