
/*
 * mock_ignore: the parts of requests that matching skips, taken out of
 * the canonical keys of recorded and live requests alike, so that lookup
 * stays one hash lookup; and the rules a miss report says it used.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_JSON_PATHS     64


static char *ngx_http_mock_ignore_pattern(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mock_pattern_t *pt);
static ngx_int_t ngx_http_mock_ignore_text(ngx_conf_t *cf,
    ngx_http_mock_ignore_t *ig);
static ngx_int_t ngx_http_mock_bad_char(ngx_str_t *s);
static ngx_http_mock_pattern_t *ngx_http_mock_pattern_match(
    ngx_http_mock_ignore_t *ig, ngx_str_t *path, ngx_uint_t *n);
static ngx_int_t ngx_http_mock_pattern_captures(ngx_pool_t *pool,
    ngx_http_mock_pattern_t *pt, ngx_str_t *path, ngx_array_t **captures);
static u_char *ngx_http_mock_ignore_pairs(ngx_str_t *in, u_char *dst,
    ngx_array_t *names, ngx_uint_t jpaths, u_char *used);
static ngx_int_t ngx_http_mock_form_name_is(u_char *p, u_char *last,
    ngx_str_t *name);
static u_char *ngx_http_mock_ignore_parts(ngx_str_t *in, u_char *dst,
    ngx_http_mock_ignore_t *ig, u_char *used);


/*
 * mock_ignore query NAME...; mock_ignore header NAME...;
 * mock_ignore body PATH...; mock_ignore path "PATTERN"...;
 */

char *
ngx_http_mock_ignore(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char                     *err;
    ngx_str_t                *value, *s;
    ngx_uint_t                i;
    ngx_http_mock_jpath_t    *jp;
    ngx_http_mock_ignore_t   *ig;
    ngx_http_mock_pattern_t  *pt;

    value = cf->args->elts;
    ig = mlcf->ignore;

    if (ig == NGX_CONF_UNSET_PTR) {
        ig = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_ignore_t));
        if (ig == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&ig->query, cf->pool, 2, sizeof(ngx_str_t))
               != NGX_OK
            || ngx_array_init(&ig->headers, cf->pool, 2, sizeof(ngx_str_t))
               != NGX_OK
            || ngx_array_init(&ig->body, cf->pool, 2,
                              sizeof(ngx_http_mock_jpath_t))
               != NGX_OK
            || ngx_array_init(&ig->paths, cf->pool, 2,
                              sizeof(ngx_http_mock_pattern_t))
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        mlcf->ignore = ig;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty name in \"mock_ignore %V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_mock_bad_char(&value[i])) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a name in \"mock_ignore %V\" has a control "
                               "character", &value[1]);
            return NGX_CONF_ERROR;
        }

        if (value[1].len == 5 && ngx_strncmp(value[1].data, "query", 5) == 0)
        {
            s = ngx_array_push(&ig->query);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            *s = value[i];
            continue;
        }

        if (value[1].len == 6 && ngx_strncmp(value[1].data, "header", 6) == 0)
        {
            s = ngx_array_push(&ig->headers);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            if (ngx_strlchr(value[i].data, value[i].data + value[i].len, ':')
                || ngx_strlchr(value[i].data, value[i].data + value[i].len,
                               ' '))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid header name \"%V\" in "
                                   "\"mock_ignore header\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            s->len = value[i].len;
            s->data = ngx_pnalloc(cf->pool, s->len);
            if (s->data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_strlow(s->data, value[i].data, s->len);
            continue;
        }

        if (value[1].len == 4 && ngx_strncmp(value[1].data, "body", 4) == 0) {
            jp = ngx_array_push(&ig->body);
            if (jp == NULL) {
                return NGX_CONF_ERROR;
            }

            err = ngx_http_mock_ignore_jpath(cf, &value[i], jp);
            if (err) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid JSON path \"%V\" in "
                                   "\"mock_ignore body\": %s", &value[i], err);
                return NGX_CONF_ERROR;
            }

            if (jp->nsteps) {
                if (++ig->json > NGX_HTTP_MOCK_JSON_PATHS) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "more than %d JSON paths in "
                                       "\"mock_ignore body\"",
                                       NGX_HTTP_MOCK_JSON_PATHS);
                    return NGX_CONF_ERROR;
                }

            } else {
                ig->names++;
            }

            continue;
        }

        if (value[1].len == 4 && ngx_strncmp(value[1].data, "path", 4) == 0) {
            pt = ngx_array_push(&ig->paths);
            if (pt == NULL) {
                return NGX_CONF_ERROR;
            }

            err = ngx_http_mock_ignore_pattern(cf, &value[i], pt);
            if (err) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid path pattern \"%V\" in "
                                   "\"mock_ignore path\": %s", &value[i], err);
                return NGX_CONF_ERROR;
            }

            if (pt->text.len > ig->path_max) {
                ig->path_max = pt->text.len;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown kind \"%V\" in \"mock_ignore\", expected "
                           "query, header, body or path", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "$.a.b[0][*].c", or a plain form field or part name */

char *
ngx_http_mock_ignore_jpath(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mock_jpath_t *jp)
{
    u_char                *p, *last, *start;
    ngx_int_t              n;
    ngx_uint_t             count;
    ngx_http_mock_step_t  *st;

    jp->text = *value;
    jp->nsteps = 0;
    jp->steps = NULL;

    p = value->data;
    last = p + value->len;

    if (*p != '$') {
        return NULL;
    }

    count = 0;

    for (p++; p < last; p++) {
        if (*p == '.' || *p == '[') {
            count++;
        }
    }

    if (count == 0) {
        return "names nothing after \"$\"";
    }

    jp->steps = ngx_pcalloc(cf->pool, count * sizeof(ngx_http_mock_step_t));
    if (jp->steps == NULL) {
        return "out of memory";
    }

    p = value->data + 1;

    while (p < last) {
        st = &jp->steps[jp->nsteps];

        if (*p == '.') {
            start = ++p;

            while (p < last && *p != '.' && *p != '[') {
                if (*p == ']' || *p == '"' || *p == '\\') {
                    return "unexpected character in a member name";
                }

                p++;
            }

            if (p == start) {
                return "empty member name";
            }

            st->type = NGX_HTTP_MOCK_STEP_MEMBER;
            st->name.data = start;
            st->name.len = p - start;
            jp->nsteps++;
            continue;
        }

        if (*p != '[') {
            return "expected \".\" or \"[\"";
        }

        start = ++p;

        while (p < last && *p != ']') {
            p++;
        }

        if (p == last) {
            return "unbalanced \"[\"";
        }

        if (p - start == 1 && *start == '*') {
            st->type = NGX_HTTP_MOCK_STEP_ANY;

        } else {
            n = ngx_atoi(start, p - start);
            if (n == NGX_ERROR) {
                return "an index is a number or \"*\"";
            }

            st->type = NGX_HTTP_MOCK_STEP_INDEX;
            st->index = n;
        }

        jp->nsteps++;
        p++;
    }

    return NULL;
}


/* "/v1/carts/{cart}/items": {name} stands for one whole segment */

static char *
ngx_http_mock_ignore_pattern(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mock_pattern_t *pt)
{
    u_char                   *p, *last, *start, *q;
    ngx_uint_t                n;
    ngx_http_mock_segment_t  *seg;

    pt->text = *value;
    pt->nplaceholders = 0;

    p = value->data;
    last = p + value->len;

    if (*p != '/') {
        return "does not begin with \"/\"";
    }

    n = 0;

    for ( /* void */ ; p < last; p++) {
        if (*p == '/') {
            n++;
        }
    }

    pt->segments = ngx_pcalloc(cf->pool, n * sizeof(ngx_http_mock_segment_t));
    if (pt->segments == NULL) {
        return "out of memory";
    }

    pt->nsegments = n;
    p = value->data;

    for (n = 0; n < pt->nsegments; n++) {
        seg = &pt->segments[n];
        start = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        seg->text.data = start;
        seg->text.len = p - start;

        q = ngx_strlchr(start, p, '{');

        if (q == NULL) {
            if (ngx_strlchr(start, p, '}')) {
                return "unbalanced \"}\"";
            }

            continue;
        }

        if (q != start || p[-1] != '}' || p - start < 2) {
            if (ngx_strlchr(q, p, '}') == NULL) {
                return "unbalanced \"{\"";
            }

            return "a placeholder must be a whole segment";
        }

        if (p - start == 2) {
            return "a placeholder has an empty name";
        }

        for (q = start + 1; q < p - 1; q++) {
            if (*q == '{' || *q == '}') {
                return "unbalanced \"{\"";
            }
        }

        seg->text.data = start + 1;
        seg->text.len = p - start - 2;
        seg->placeholder = 1;
        pt->nplaceholders++;
    }

    return NULL;
}


static ngx_int_t
ngx_http_mock_bad_char(ngx_str_t *s)
{
    u_char  *p, *last;

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/*
 * The match a location uses: its matchers without the ignored headers,
 * and a text that tells stores with other rules apart.
 */

ngx_http_mock_match_t *
ngx_http_mock_ignore_match(ngx_conf_t *cf, ngx_http_mock_match_t *match,
    ngx_http_mock_ignore_t *ig)
{
    u_char                   *p;
    ngx_str_t                *names, *ign, *h;
    ngx_uint_t                i, j, k;
    ngx_http_mock_match_t    *m;
    ngx_http_mock_pattern_t  *pt, tmp;

    if (match->ignore == ig) {
        return match;
    }

    if (match->base) {
        match = match->base;
    }

    if (ig->text.data == NULL) {

        /* the most specific patterns first, in order of configuration */

        pt = ig->paths.elts;

        for (i = 1; i < ig->paths.nelts; i++) {
            tmp = pt[i];

            for (j = i; j > 0 && pt[j - 1].nplaceholders > tmp.nplaceholders;
                 j--)
            {
                pt[j] = pt[j - 1];
            }

            pt[j] = tmp;
        }

        if (ngx_http_mock_ignore_text(cf, ig) != NGX_OK) {
            return NULL;
        }
    }

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_match_t));
    if (m == NULL) {
        return NULL;
    }

    *m = *match;
    m->ignore = ig;
    m->base = match;

    if (match->headers && ig->headers.nelts) {
        m->headers = ngx_array_create(cf->pool, match->headers->nelts,
                                      sizeof(ngx_str_t));
        if (m->headers == NULL) {
            return NULL;
        }

        names = match->headers->elts;
        ign = ig->headers.elts;

        for (i = 0; i < match->headers->nelts; i++) {
            for (k = 0; k < ig->headers.nelts; k++) {
                if (names[i].len == ign[k].len
                    && ngx_strncmp(names[i].data, ign[k].data, ign[k].len)
                       == 0)
                {
                    break;
                }
            }

            if (k < ig->headers.nelts) {
                continue;
            }

            h = ngx_array_push(m->headers);
            if (h == NULL) {
                return NULL;
            }

            *h = names[i];
        }

        if (m->headers->nelts == 0) {
            m->headers = NULL;
            m->mask &= ~NGX_HTTP_MOCK_MATCH_HEADERS;
        }
    }

    m->text.len = match->text.len + ig->text.len;
    m->text.data = ngx_pnalloc(cf->pool, m->text.len);
    if (m->text.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(m->text.data, match->text.data, match->text.len);
    ngx_memcpy(p, ig->text.data, ig->text.len);

    return m;
}


/* "; ignore query a b; ignore body $.x" */

static ngx_int_t
ngx_http_mock_ignore_text(ngx_conf_t *cf, ngx_http_mock_ignore_t *ig)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                *s;
    ngx_uint_t                i, kind, n;
    ngx_array_t              *a;
    ngx_http_mock_jpath_t    *jp;
    ngx_http_mock_pattern_t  *pt;

    static ngx_str_t  kinds[] = {
        ngx_string("; ignore query"), ngx_string("; ignore header"),
        ngx_string("; ignore body"), ngx_string("; ignore path")
    };

    len = 0;

    for (n = 0; n < 2; n++) {
        p = ig->text.data;

        for (kind = 0; kind < 4; kind++) {
            a = (kind == 0) ? &ig->query : (kind == 1) ? &ig->headers
                : (kind == 2) ? &ig->body : &ig->paths;

            if (a->nelts == 0) {
                continue;
            }

            if (n == 0) {
                len += kinds[kind].len;
            } else {
                p = ngx_cpymem(p, kinds[kind].data, kinds[kind].len);
            }

            for (i = 0; i < a->nelts; i++) {
                if (kind < 2) {
                    s = &((ngx_str_t *) a->elts)[i];

                } else if (kind == 2) {
                    jp = a->elts;
                    s = &jp[i].text;

                } else {
                    pt = a->elts;
                    s = &pt[i].text;
                }

                if (n == 0) {
                    len += s->len + 1;
                    continue;
                }

                *p++ = ' ';
                p = ngx_cpymem(p, s->data, s->len);
            }
        }

        if (n == 0) {
            ig->text.data = ngx_pnalloc(cf->pool, len);
            if (ig->text.data == NULL) {
                return NGX_ERROR;
            }

        } else {
            ig->text.len = p - ig->text.data;
        }
    }

    return NGX_OK;
}


/* the rules a miss report may name: query, body, path, header */

ngx_uint_t
ngx_http_mock_ignore_rules(ngx_http_mock_ignore_t *ig)
{
    return ig->query.nelts + ig->body.nelts + ig->paths.nelts
           + ig->headers.nelts;
}


/* what ngx_http_mock_ignore_key() may write into buf */

size_t
ngx_http_mock_ignore_room(ngx_http_mock_ignore_t *ig, ngx_http_mock_key_t *key)
{
    return ig->path_max + key->query.len + key->body.len;
}


/*
 * Takes the ignored parts out of a canonical key: a path that a pattern
 * matches becomes the pattern, ignored query parameters, and with "body"
 * the form fields, parts and JSON members are dropped.  The new values
 * are written to buf (ngx_http_mock_ignore_room() bytes); "used", when
 * given, flags the rules that named something; with "captures", the
 * placeholders' values are captured.
 */

ngx_int_t
ngx_http_mock_ignore_key(ngx_http_mock_ignore_t *ig, ngx_str_t *type,
    ngx_http_mock_key_t *key, u_char *buf, u_char *used, ngx_pool_t *pool,
    ngx_array_t **captures, ngx_uint_t body)
{
    u_char                   *p, *start;
    ngx_str_t                 out;
    ngx_uint_t                n;
    ngx_http_mock_pattern_t  *pt;

    p = buf;

    if (ig->paths.nelts && key->path.len) {
        pt = ngx_http_mock_pattern_match(ig, &key->path, &n);

        if (pt) {
            if (used) {
                used[ig->query.nelts + ig->body.nelts + n] = 1;
            }

            if (captures
                && pt->nplaceholders
                && ngx_http_mock_pattern_captures(pool, pt, &key->path,
                                                  captures)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            key->path.data = p;
            key->path.len = pt->text.len;
            p = ngx_cpymem(p, pt->text.data, pt->text.len);
        }
    }

    if (ig->query.nelts && key->query.len) {
        start = p;
        p = ngx_http_mock_ignore_pairs(&key->query, p, &ig->query, 0, used);
        key->query.data = start;
        key->query.len = p - start;
    }

    if (body && ig->body.nelts && key->body.len) {
        if (ngx_http_mock_ignore_body(ig, pool, type, &key->body, &out, used,
                                      1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* never longer than the canonical body it comes from */

        key->body.data = p;
        key->body.len = out.len;
        ngx_http_mock_cpymem(p, out.data, out.len);
    }

    return NGX_OK;
}


/*
 * A body in canonical form without what mock_ignore body names: JSON
 * members and elements, form fields, multipart parts.  A body that is
 * already canonical is not made so again, but JSON, which is parsed
 * anyway.  A body that is not what it claims to be is compared whole.
 */

ngx_int_t
ngx_http_mock_ignore_body(ngx_http_mock_ignore_t *ig, ngx_pool_t *pool,
    ngx_str_t *type, ngx_str_t *in, ngx_str_t *out, u_char *used,
    ngx_uint_t canonical)
{
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   canon;

    *out = *in;

    if (in->len == 0) {
        return NGX_OK;
    }

    if (used) {
        used += ig->query.nelts;
    }

    switch (ngx_http_mock_body_kind(type, in)) {

    case NGX_HTTP_MOCK_BODY_JSON:
        if (ig->json == 0) {
            return canonical ? NGX_OK
                             : ngx_http_mock_canon_body(pool, type, in, out);
        }

        rc = ngx_http_mock_json_ignore(pool, &ig->body, used, in, out);

        if (rc == NGX_DECLINED) {
            /* not the JSON it claims to be */

            if (used) {
                ngx_memzero(used, ig->body.nelts);
            }

            *out = *in;
            return NGX_OK;
        }

        return rc;

    case NGX_HTTP_MOCK_BODY_FORM:
    case NGX_HTTP_MOCK_BODY_MULTIPART:
        canon = *in;

        if (!canonical
            && ngx_http_mock_canon_body(pool, type, in, &canon) != NGX_OK)
        {
            return NGX_ERROR;
        }

        *out = canon;

        if (ig->names == 0) {
            return NGX_OK;
        }

        p = ngx_pnalloc(pool, canon.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        out->data = p;

        if (ngx_http_mock_body_kind(type, in) == NGX_HTTP_MOCK_BODY_FORM) {
            p = ngx_http_mock_ignore_pairs(&canon, p, &ig->body, 1, used);

        } else {
            p = ngx_http_mock_ignore_parts(&canon, p, ig, used);

            if (p == NULL) {
                *out = canon;
                return NGX_OK;
            }
        }

        out->len = p - out->data;

        return NGX_OK;

    default:
        return canonical ? NGX_OK
                         : ngx_http_mock_canon_body(pool, type, in, out);
    }
}


/* the path as keys have it: the pattern that fits it, or the path */

ngx_str_t *
ngx_http_mock_ignore_path(ngx_http_mock_ignore_t *ig, ngx_str_t *path)
{
    ngx_uint_t                n;
    ngx_http_mock_pattern_t  *pt;

    if (ig == NULL || ig->paths.nelts == 0 || path->len == 0) {
        return path;
    }

    pt = ngx_http_mock_pattern_match(ig, path, &n);

    return pt ? &pt->text : path;
}


/* the first pattern that fits the path, the most specific ones first */

static ngx_http_mock_pattern_t *
ngx_http_mock_pattern_match(ngx_http_mock_ignore_t *ig, ngx_str_t *path,
    ngx_uint_t *n)
{
    u_char                   *p, *last, *start;
    ngx_uint_t                i, k;
    ngx_http_mock_segment_t  *seg;
    ngx_http_mock_pattern_t  *pt;

    pt = ig->paths.elts;
    last = path->data + path->len;

    for (i = 0; i < ig->paths.nelts; i++) {
        p = path->data;

        if (*p != '/') {
            return NULL;
        }

        for (k = 0; k < pt[i].nsegments; k++) {
            if (p == last || *p != '/') {
                break;
            }

            start = ++p;

            while (p < last && *p != '/') {
                p++;
            }

            seg = &pt[i].segments[k];

            if (seg->placeholder) {
                if (p == start) {
                    break;
                }

                continue;
            }

            if ((size_t) (p - start) != seg->text.len
                || ngx_strncmp(start, seg->text.data, seg->text.len) != 0)
            {
                break;
            }
        }

        if (k == pt[i].nsegments && p == last) {
            *n = i;
            return &pt[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_mock_pattern_captures(ngx_pool_t *pool, ngx_http_mock_pattern_t *pt,
    ngx_str_t *path, ngx_array_t **captures)
{
    u_char        *p, *last, *start;
    ngx_uint_t     k;
    ngx_keyval_t  *kv;

    if (*captures == NULL) {
        *captures = ngx_array_create(pool, pt->nplaceholders,
                                     sizeof(ngx_keyval_t));
        if (*captures == NULL) {
            return NGX_ERROR;
        }
    }

    (*captures)->nelts = 0;

    p = path->data;
    last = p + path->len;

    for (k = 0; k < pt->nsegments; k++) {
        start = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        if (!pt->segments[k].placeholder) {
            continue;
        }

        kv = ngx_array_push(*captures);
        if (kv == NULL) {
            return NGX_ERROR;
        }

        kv->key = pt->segments[k].text;
        kv->value.data = start;
        kv->value.len = p - start;
    }

    return NGX_OK;
}


/* canonical "a=1&b=2" without the pairs whose names are ignored */

static u_char *
ngx_http_mock_ignore_pairs(ngx_str_t *in, u_char *dst, ngx_array_t *names,
    ngx_uint_t jpaths, u_char *used)
{
    u_char                 *p, *last, *start, *eq;
    ngx_str_t              *s, name;
    ngx_uint_t              i, n;
    ngx_http_mock_jpath_t  *jp;

    p = in->data;
    last = p + in->len;
    start = dst;

    while (p < last) {
        name.data = p;

        while (p < last && *p != '&') {
            p++;
        }

        eq = ngx_strlchr(name.data, p, '=');

        for (i = 0; i < names->nelts; i++) {
            if (jpaths) {
                jp = names->elts;

                if (jp[i].nsteps) {
                    continue;
                }

                s = &jp[i].text;

            } else {
                s = &((ngx_str_t *) names->elts)[i];
            }

            if (ngx_http_mock_form_name_is(name.data, eq ? eq : p, s)) {
                break;
            }
        }

        if (i < names->nelts) {
            if (used) {
                used[i] = 1;
            }

        } else {
            n = p - name.data;

            if (dst != start) {
                *dst++ = '&';
            }

            dst = ngx_cpymem(dst, name.data, n);
        }

        p++;
    }

    return dst;
}


/* a canonical name, where only "%&=+" are escaped, is the plain one */

static ngx_int_t
ngx_http_mock_form_name_is(u_char *p, u_char *last, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < name->len; i++) {
        if (p == last) {
            return 0;
        }

        c = *p++;

        if (c == '%' && last - p >= 2) {
            c = (u_char) (ngx_hextoi(p, 2));
            p += 2;
        }

        if (c != name->data[i]) {
            return 0;
        }
    }

    return p == last;
}


/* canonical multipart without the parts whose names are ignored */

static u_char *
ngx_http_mock_ignore_parts(ngx_str_t *in, u_char *dst,
    ngx_http_mock_ignore_t *ig, u_char *used)
{
    u_char                 *p, *last, *q;
    ngx_str_t               f[4];
    ngx_uint_t              i, k;
    ngx_http_mock_jpath_t  *jp;

    p = in->data;
    last = p + in->len;

    if ((size_t) (last - p) < sizeof("multipart\n") - 1
        || ngx_strncmp(p, "multipart\n", sizeof("multipart\n") - 1) != 0)
    {
        return NULL;
    }

    dst = ngx_cpymem(dst, p, sizeof("multipart\n") - 1);
    p += sizeof("multipart\n") - 1;

    jp = ig->body.elts;

    while (p < last) {
        q = p;

        for (k = 0; k < 4; k++) {
            p = ngx_http_mock_multipart_field(p, last, &f[k]);
            if (p == NULL || p == last || *p != (k < 3 ? ',' : '\n')) {
                return NULL;
            }

            p++;
        }

        for (i = 0; i < ig->body.nelts; i++) {
            if (jp[i].nsteps == 0
                && jp[i].text.len == f[0].len
                && ngx_strncmp(jp[i].text.data, f[0].data, f[0].len) == 0)
            {
                break;
            }
        }

        if (i < ig->body.nelts) {
            if (used) {
                used[i] = 1;
            }

            continue;
        }

        dst = ngx_cpymem(dst, q, p - q);
    }

    return dst;
}


/* "query ts; body $.sent_at; path /v1/{id}": the rules that were used */

size_t
ngx_http_mock_ignore_report_len(ngx_http_mock_ignore_t *ig)
{
    return ig->text.len + 64;
}


u_char *
ngx_http_mock_ignore_report(u_char *p, u_char *last,
    ngx_http_mock_ignore_t *ig, u_char *used)
{
    u_char                   *start;
    ngx_str_t                *s;
    ngx_uint_t                i, n, kind, count;
    ngx_array_t              *a;
    ngx_http_mock_jpath_t    *jp;
    ngx_http_mock_pattern_t  *pt;

    static char  *kinds[] = { "query", "body", "path", "header" };

    start = p;
    n = 0;

    for (kind = 0; kind < 4; kind++) {
        a = (kind == 0) ? &ig->query : (kind == 1) ? &ig->body
            : (kind == 2) ? &ig->paths : &ig->headers;

        count = 0;

        for (i = 0; i < a->nelts; i++, n++) {
            if (!used[n]) {
                continue;
            }

            if (kind == 1) {
                jp = a->elts;
                s = &jp[i].text;

            } else if (kind == 2) {
                pt = a->elts;
                s = &pt[i].text;

            } else {
                s = &((ngx_str_t *) a->elts)[i];
            }

            p = ngx_slprintf(p, last, "%s%s%s %V",
                             (count == 0 && p != start) ? "; " : "",
                             count ? "," : "", count ? "" : kinds[kind], s);
            count++;
        }
    }

    return p;
}
