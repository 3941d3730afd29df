
/*
 * The admin's read-only views that the dashboard needs: one interaction
 * as recorded, the report of a recent miss, the sessions the zone knows
 * with their forced answers, and the mock locations with their modes.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_INSPECT_LIMIT  100

/* the bytes of a body shown at most */
#define NGX_HTTP_MOCK_INSPECT_BODY   1048576

/* the zone's states are walked this many at a time, letting go of the mutex */
#define NGX_HTTP_MOCK_INSPECT_CHUNK  256


typedef struct {
    ngx_http_request_t           *r;
    ngx_int_t                     rc;           /* of an answer sent */
    u_char                       *start;
    u_char                       *pos;
    u_char                       *end;
} ngx_http_mock_inspect_t;


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    hash;
    ngx_uint_t                    forced;
} ngx_http_mock_seen_t;


/* the sessions seen, once each: an array and an open-addressed index */

typedef struct {
    ngx_array_t                   seen;         /* ngx_http_mock_seen_t */
    ngx_uint_t                   *slots;        /* 1 + its place, or 0 */
    ngx_uint_t                    mask;
} ngx_http_mock_sessions_t;


typedef ngx_int_t (*ngx_http_mock_visit_pt)(ngx_http_mock_inspect_t *o,
    ngx_http_mock_state_t *st, void *data);


typedef struct {
    ngx_str_t                     session;
    ngx_uint_t                    n;
} ngx_http_mock_forced_t;


static ngx_int_t ngx_http_mock_inspect_interaction(
    ngx_http_mock_inspect_t *o);
static ngx_int_t ngx_http_mock_inspect_body(ngx_http_mock_inspect_t *o,
    ngx_str_t *body);
static ngx_int_t ngx_http_mock_inspect_miss(ngx_http_mock_inspect_t *o);
static ngx_int_t ngx_http_mock_inspect_sessions(ngx_http_mock_inspect_t *o);
static ngx_int_t ngx_http_mock_inspect_forced(ngx_http_mock_inspect_t *o,
    ngx_str_t *session);
static ngx_int_t ngx_http_mock_inspect_locations(ngx_http_mock_inspect_t *o);
static ngx_int_t ngx_http_mock_inspect_walk(ngx_http_mock_inspect_t *o,
    ngx_http_mock_visit_pt visit, void *data);
static ngx_rbtree_node_t *ngx_http_mock_inspect_above(ngx_rbtree_t *tree,
    ngx_rbtree_key_t key);
static ngx_int_t ngx_http_mock_inspect_seen(ngx_http_mock_inspect_t *o,
    ngx_http_mock_state_t *st, void *data);
static ngx_int_t ngx_http_mock_inspect_pinned(ngx_http_mock_inspect_t *o,
    ngx_http_mock_state_t *st, void *data);
static ngx_int_t ngx_http_mock_seen_grow(ngx_http_mock_inspect_t *o,
    ngx_http_mock_sessions_t *set);
static ngx_int_t ngx_http_mock_seen_cmp(ngx_http_mock_seen_t *a,
    ngx_http_mock_seen_t *b);
static ngx_int_t ngx_http_mock_inspect_arg(ngx_http_mock_inspect_t *o,
    char *name, ngx_str_t *value);
static ngx_int_t ngx_http_mock_inspect_number(ngx_http_mock_inspect_t *o,
    char *name, ngx_int_t dflt);
static ngx_int_t ngx_http_mock_inspect_store(ngx_http_mock_inspect_t *o,
    ngx_http_mock_store_t **storep, ngx_uint_t *n);
static ngx_int_t ngx_http_mock_inspect_error(ngx_http_mock_inspect_t *o,
    ngx_uint_t status, char *fmt, ...);
static ngx_int_t ngx_http_mock_inspect_out(ngx_http_mock_inspect_t *o,
    char *fmt, ...);
static ngx_int_t ngx_http_mock_inspect_str(ngx_http_mock_inspect_t *o,
    ngx_str_t *s);
static ngx_int_t ngx_http_mock_inspect_room(ngx_http_mock_inspect_t *o,
    size_t len);
static ngx_uint_t ngx_http_mock_inspect_text(ngx_str_t *s);
static ngx_uint_t ngx_http_mock_inspect_named(ngx_str_t *name,
    ngx_str_t *file);


/* NGX_DECLINED: not one of these endpoints */

ngx_int_t
ngx_http_mock_inspect_handler(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_int_t                (*handler)(ngx_http_mock_inspect_t *o);
    ngx_http_mock_inspect_t   *o;

    if (name->len == sizeof("interaction") - 1
        && ngx_strncmp(name->data, "interaction", name->len) == 0)
    {
        handler = ngx_http_mock_inspect_interaction;

    } else if (name->len == sizeof("miss") - 1
               && ngx_strncmp(name->data, "miss", name->len) == 0)
    {
        handler = ngx_http_mock_inspect_miss;

    } else if (name->len == sizeof("sessions") - 1
               && ngx_strncmp(name->data, "sessions", name->len) == 0)
    {
        handler = ngx_http_mock_inspect_sessions;

    } else if (name->len == sizeof("locations") - 1
               && ngx_strncmp(name->data, "locations", name->len) == 0)
    {
        handler = ngx_http_mock_inspect_locations;

    } else {
        return NGX_DECLINED;
    }

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_inspect_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->r = r;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_NOT_ALLOWED,
                                           "%V does not take %V", name,
                                           &r->method_name);
    }

    return handler(o);
}


/*
 * GET interaction?store=&interaction=N[&cassette=&session=]: the request
 * as the matchers compare it and the response as recorded; a body that
 * is not UTF-8 text comes in base64.
 */

static ngx_int_t
ngx_http_mock_inspect_interaction(ngx_http_mock_inspect_t *o)
{
    ngx_int_t                     n, rc;
    ngx_str_t                     cassette, session, name, reason;
    ngx_uint_t                    i, k, sn;
    ngx_http_mock_index_t        *index;
    ngx_http_mock_store_t        *store;
    ngx_http_mock_interaction_t  *it;

    store = NULL;
    sn = 0;

    rc = ngx_http_mock_inspect_store(o, &store, &sn);

    if (rc == NGX_DECLINED) {
        return o->rc;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_http_mock_inspect_number(o, "interaction", -1);

    if (n < 0) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                           "\"interaction\" must be the "
                                           "number of an interaction in its "
                                           "cassette");
    }

    if (ngx_http_mock_inspect_arg(o, "cassette", &cassette) != NGX_OK
        || ngx_http_mock_inspect_arg(o, "session", &name) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (name.len > NGX_HTTP_MOCK_SESSION_MAX) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                           "\"session\" is longer than %d "
                                           "bytes", NGX_HTTP_MOCK_SESSION_MAX);
    }

    ngx_str_null(&session);

    if (name.len
        && ngx_http_mock_session_name(o->r->pool, &name, &session) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (session.len == 0) {
        ngx_str_set(&session, "default");
    }

    ngx_shmtx_lock(&store->shpool->mutex);

    index = store->sessions
            ? ngx_http_mock_session_index(store, &session, 0, NULL, NULL)
            : ngx_http_mock_current(store->shared);

    it = NULL;

    for (i = 0; index && i < index->nloaded; i++) {
        if (index->interactions[i]->index == (ngx_uint_t) n
            && ngx_http_mock_inspect_named(index->interactions[i]->cassette,
                                           &cassette))
        {
            it = index->interactions[i];
            break;
        }
    }

    /* a recorded one is on its path's chain only */

    for (i = 0; index && it == NULL && i <= index->path_mask; i++) {
        for (it = index->paths[i].head; it; it = it->next_path) {
            if (it->index == (ngx_uint_t) n
                && ngx_http_mock_inspect_named(it->cassette, &cassette))
            {
                break;
            }
        }
    }

    if (it == NULL) {
        ngx_shmtx_unlock(&store->shpool->mutex);

        return ngx_http_mock_inspect_error(o, NGX_HTTP_NOT_FOUND,
                                           "no interaction %i in store %ui",
                                           n, sn);
    }

    /* the status line without its code */

    reason = it->status_line;

    if (reason.len >= 3 && (reason.len == 3 || reason.data[3] == ' ')
        && ngx_atoi(reason.data, 3) == (ngx_int_t) it->status)
    {
        reason.data += ngx_min(reason.len, 4);
        reason.len -= ngx_min(reason.len, 4);
    }

    rc = NGX_ERROR;

    if (ngx_http_mock_inspect_out(o, "{\"store\": %ui, \"cassette\": ", sn)
           != NGX_OK
        || ngx_http_mock_inspect_str(o, it->cassette) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"interaction\": %ui, "
                                     "\"request\": {\"method\": ", it->index)
           != NGX_OK
        || ngx_http_mock_inspect_str(o, &it->key.method) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"uri\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &it->uri) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"path\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &it->key.path) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"query\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &it->key.query) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", ") != NGX_OK
        || ngx_http_mock_inspect_body(o, &it->key.body) != NGX_OK
        || ngx_http_mock_inspect_out(o, "}, \"response\": {\"status\": %ui, "
                                     "\"reason\": ", it->status) != NGX_OK
        || ngx_http_mock_inspect_str(o, &reason) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"templated\": %s, "
                                     "\"headers\": [",
                                     it->tpl ? "true" : "false") != NGX_OK)
    {
        goto done;
    }

    for (k = 0; k < it->nheaders; k++) {
        if (ngx_http_mock_inspect_out(o, "%s[", k ? ", " : "") != NGX_OK
            || ngx_http_mock_inspect_str(o, &it->headers[k].name) != NGX_OK
            || ngx_http_mock_inspect_out(o, ", ") != NGX_OK
            || ngx_http_mock_inspect_str(o, &it->headers[k].value) != NGX_OK
            || ngx_http_mock_inspect_out(o, "]") != NGX_OK)
        {
            goto done;
        }
    }

    if (ngx_http_mock_inspect_out(o, "], ") != NGX_OK
        || ngx_http_mock_inspect_body(o, &it->body) != NGX_OK
        || ngx_http_mock_inspect_out(o, "}}\n") != NGX_OK)
    {
        goto done;
    }

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_ui_send(o->r, NGX_HTTP_OK, o->start,
                                 o->pos - o->start);
}


/*
 * "body": text, or "body_base64"; "size", and "truncated" when only the
 * first NGX_HTTP_MOCK_INSPECT_BODY bytes are shown
 */

static ngx_int_t
ngx_http_mock_inspect_body(ngx_http_mock_inspect_t *o, ngx_str_t *whole)
{
    ngx_str_t   encoded, part, *body;
    ngx_uint_t  k;

    part = *whole;

    if (part.len > NGX_HTTP_MOCK_INSPECT_BODY) {
        part.len = NGX_HTTP_MOCK_INSPECT_BODY;

        /* not in the middle of a UTF-8 character */

        for (k = 0; k < 3 && (part.data[part.len] & 0xc0) == 0x80; k++) {
            part.len--;
        }
    }

    body = &part;

    if (ngx_http_mock_inspect_text(body)) {
        if (ngx_http_mock_inspect_out(o, "\"body\": ") != NGX_OK
            || ngx_http_mock_inspect_str(o, body) != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        if (ngx_http_mock_inspect_out(o, "\"body_base64\": \"") != NGX_OK
            || ngx_http_mock_inspect_room(o, ngx_base64_encoded_length(
                                                  body->len) + 1)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        encoded.data = o->pos;
        ngx_encode_base64(&encoded, body);
        o->pos += encoded.len;
        *o->pos++ = '"';
    }

    return ngx_http_mock_inspect_out(o, ", \"size\": %uz%s", whole->len,
                                     (part.len < whole->len)
                                     ? ", \"truncated\": true" : "");
}


/* GET miss?id=N: the report that the miss numbered N in the journal got */

static ngx_int_t
ngx_http_mock_inspect_miss(ngx_http_mock_inspect_t *o)
{
    ngx_int_t                   id, rc;
    ngx_str_t                   text;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(o->r, ngx_http_mock_module);

    id = ngx_http_mock_inspect_number(o, "id", -1);

    if (id < 0) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                           "\"id\" must be the number of a "
                                           "request in the journal");
    }

    rc = ngx_http_mock_report_get(mmcf->sh, id, o->r->pool, &text);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_NOT_FOUND,
                                           "no report of request %i is kept; "
                                           "the last %d misses are",
                                           id, NGX_HTTP_MOCK_REPORTS);
    }

    if (ngx_http_mock_inspect_out(o, "{\"id\": %i, \"report\": ", id)
           != NGX_OK
        || ngx_http_mock_inspect_str(o, &text) != NGX_OK
        || ngx_http_mock_inspect_out(o, "}\n") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_ui_send(o->r, NGX_HTTP_OK, o->start,
                                 o->pos - o->start);
}


/*
 * GET sessions[?after=&limit=]: the sessions the zone holds anything of,
 * in byte order, at most "limit" (100) after "after", each with its
 * number of forced answers.  GET sessions?session=S: S's forced answers.
 * The zone is walked a chunk at a time (see below), each name copied
 * once.
 */

static ngx_int_t
ngx_http_mock_inspect_sessions(ngx_http_mock_inspect_t *o)
{
    ngx_int_t                   limit;
    ngx_str_t                   after, name;
    ngx_uint_t                  i, k, total, listed, more;
    ngx_http_mock_seen_t       *s, **top, a;
    ngx_http_mock_sessions_t    set;

    if (ngx_http_mock_inspect_arg(o, "session", &name) != NGX_OK
        || ngx_http_mock_inspect_arg(o, "after", &after) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (name.len) {
        return ngx_http_mock_inspect_forced(o, &name);
    }

    limit = ngx_http_mock_inspect_number(o, "limit",
                                         NGX_HTTP_MOCK_INSPECT_LIMIT);

    if (limit < 0) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                           "\"limit\" must be a number");
    }

    if (ngx_array_init(&set.seen, o->r->pool, 256,
                       sizeof(ngx_http_mock_seen_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    set.mask = 0;
    set.slots = NULL;

    if (ngx_http_mock_seen_grow(o, &set) != NGX_OK
        || ngx_http_mock_inspect_walk(o, ngx_http_mock_inspect_seen, &set)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = set.seen.elts;
    total = set.seen.nelts;

    /*
     * The first "limit" after "after", in byte order, kept sorted as they
     * are found: in the zone's order few of them are ever moved.
     */

    top = ngx_palloc(o->r->pool,
                     (ngx_min((ngx_uint_t) limit, total) + 1)
                     * sizeof(ngx_http_mock_seen_t *));
    if (top == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a.name = after;
    listed = 0;
    more = 0;

    for (i = 0; i < total; i++) {
        if (after.len && ngx_http_mock_seen_cmp(&s[i], &a) <= 0) {
            continue;
        }

        if (listed == (ngx_uint_t) limit) {
            more = 1;

            if (limit == 0
                || ngx_http_mock_seen_cmp(&s[i], top[listed - 1]) > 0)
            {
                continue;
            }

            listed--;
        }

        for (k = listed; k && ngx_http_mock_seen_cmp(&s[i], top[k - 1]) < 0;
             k--)
        {
            top[k] = top[k - 1];
        }

        top[k] = &s[i];
        listed++;
    }

    if (ngx_http_mock_inspect_out(o, "{\"sessions\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (k = 0; k < listed; k++) {
        if (ngx_http_mock_inspect_out(o, "%s\n{\"session\": ", k ? "," : "")
               != NGX_OK
            || ngx_http_mock_inspect_str(o, &top[k]->name) != NGX_OK
            || ngx_http_mock_inspect_out(o, ", \"forced\": %ui}",
                                         top[k]->forced) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mock_inspect_out(o, "\n], \"total\": %ui, \"more\": %s}\n",
                                  total, more ? "true" : "false")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_ui_send(o->r, NGX_HTTP_OK, o->start,
                                 o->pos - o->start);
}


static ngx_int_t
ngx_http_mock_seen_cmp(ngx_http_mock_seen_t *a, ngx_http_mock_seen_t *b)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(a->name.data, b->name.data,
                    ngx_min(a->name.len, b->name.len));

    if (rc) {
        return rc;
    }

    return (a->name.len > b->name.len) - (a->name.len < b->name.len);
}


/* twice the slots, for at most half of them used */

static ngx_int_t
ngx_http_mock_seen_grow(ngx_http_mock_inspect_t *o,
    ngx_http_mock_sessions_t *set)
{
    ngx_uint_t             i, k, size, *slots;
    ngx_http_mock_seen_t  *s;

    size = set->mask ? 2 * (set->mask + 1) : 1024;

    slots = ngx_pcalloc(o->r->pool, size * sizeof(ngx_uint_t));
    if (slots == NULL) {
        return NGX_ERROR;
    }

    s = set->seen.elts;

    for (i = 0; i < set->seen.nelts; i++) {
        for (k = s[i].hash & (size - 1); slots[k]; k = (k + 1) & (size - 1)) {
            /* void */
        }

        slots[k] = i + 1;
    }

    if (set->slots) {
        ngx_pfree(o->r->pool, set->slots);
    }

    set->slots = slots;
    set->mask = size - 1;

    return NGX_OK;
}


/* a session's forced answers: store, method, path, cassette, interaction */

static ngx_int_t
ngx_http_mock_inspect_forced(ngx_http_mock_inspect_t *o, ngx_str_t *name)
{
    ngx_int_t               rc;
    ngx_str_t               session;
    ngx_uint_t              i;
    ngx_http_mock_forced_t  forced;

    if (name->len > NGX_HTTP_MOCK_SESSION_MAX) {
        return ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                           "\"session\" is longer than %d "
                                           "bytes", NGX_HTTP_MOCK_SESSION_MAX);
    }

    if (ngx_http_mock_session_name(o->r->pool, name, &session) != NGX_OK
        || ngx_http_mock_inspect_out(o, "{\"session\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &session) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"forced\": [") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    forced.session = session;
    forced.n = 0;

    rc = ngx_http_mock_inspect_walk(o, ngx_http_mock_inspect_pinned, &forced);

    if (rc != NGX_OK || ngx_http_mock_inspect_out(o, "\n]}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    i = o->pos - o->start;

    return ngx_http_mock_ui_send(o->r, NGX_HTTP_OK, o->start, i);
}


/* a state's session, copied once, with the forced answers counted */

static ngx_int_t
ngx_http_mock_inspect_seen(ngx_http_mock_inspect_t *o,
    ngx_http_mock_state_t *st, void *data)
{
    ngx_http_mock_sessions_t  *set = data;

    ngx_uint_t             h, k, forced;
    ngx_http_mock_seen_t  *s;

    if (st->session.len == 0) {
        return NGX_OK;
    }

    forced = (st->kind == NGX_HTTP_MOCK_STATE_FORCE) ? 1 : 0;
    h = ngx_hash_key(st->session.data, st->session.len);

    for (k = h & set->mask; set->slots[k]; k = (k + 1) & set->mask) {
        s = (ngx_http_mock_seen_t *) set->seen.elts + set->slots[k] - 1;

        if (s->hash == h && s->name.len == st->session.len
            && ngx_memcmp(s->name.data, st->session.data, s->name.len) == 0)
        {
            s->forced += forced;
            return NGX_OK;
        }
    }

    s = ngx_array_push(&set->seen);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->name.data = ngx_pnalloc(o->r->pool, st->session.len);
    if (s->name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->name.data, st->session.data, st->session.len);
    s->name.len = st->session.len;
    s->hash = h;
    s->forced = forced;

    set->slots[k] = set->seen.nelts;

    if (2 * set->seen.nelts > set->mask) {
        return ngx_http_mock_seen_grow(o, set);
    }

    return NGX_OK;
}


/* a forced answer of the session, written out */

static ngx_int_t
ngx_http_mock_inspect_pinned(ngx_http_mock_inspect_t *o,
    ngx_http_mock_state_t *st, void *data)
{
    ngx_http_mock_forced_t  *forced = data;

    u_char                       *sp;
    ngx_str_t                     method, path;
    ngx_uint_t                    k;
    ngx_http_mock_store_t       **stores;
    ngx_http_mock_main_conf_t    *mmcf;
    ngx_http_mock_interaction_t  *it;

    if (st->kind != NGX_HTTP_MOCK_STATE_FORCE
        || st->session.len != forced->session.len
        || ngx_memcmp(st->session.data, forced->session.data,
                      forced->session.len) != 0)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_get_module_main_conf(o->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    for (k = 0; k < mmcf->stores.nelts; k++) {
        if (stores[k] == st->object) {
            break;
        }
    }

    /* the endpoint is "METHOD path" */

    sp = ngx_strlchr(st->extra.data, st->extra.data + st->extra.len, ' ');
    if (sp == NULL) {
        return NGX_OK;
    }

    method.data = st->extra.data;
    method.len = sp - st->extra.data;
    path.data = sp + 1;
    path.len = st->extra.data + st->extra.len - path.data;
    it = st->value_ptr;

    if (ngx_http_mock_inspect_out(o, "%s\n{\"store\": %ui, \"method\": ",
                                  forced->n++ ? "," : "", k) != NGX_OK
        || ngx_http_mock_inspect_str(o, &method) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"path\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &path) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"cassette\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, it->cassette) != NGX_OK
        || ngx_http_mock_inspect_out(o, ", \"interaction\": %ui}",
                                     it->index) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Every state of the zone, a chunk at a time: between chunks the mutex is
 * let go, so that requests do not wait for a walk of thousands of
 * sessions, and the walk goes on after the last hash it saw.  A chunk
 * ends between two hashes, so no state is seen twice; one added or
 * removed meanwhile may be seen or not.
 */

static ngx_int_t
ngx_http_mock_inspect_walk(ngx_http_mock_inspect_t *o,
    ngx_http_mock_visit_pt visit, void *data)
{
    ngx_int_t                   rc;
    ngx_uint_t                  n;
    ngx_rbtree_node_t          *node, *next;
    ngx_http_mock_shctx_t      *sh;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(o->r, ngx_http_mock_module);
    sh = mmcf->sh;

    if (sh == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mmcf->shpool->mutex);

    node = (sh->rbtree.root == sh->rbtree.sentinel)
           ? NULL
           : ngx_rbtree_min(sh->rbtree.root, sh->rbtree.sentinel);

    for (n = 1; node; n++) {
        rc = visit(o, (ngx_http_mock_state_t *) node, data);

        if (rc != NGX_OK) {
            ngx_shmtx_unlock(&mmcf->shpool->mutex);
            return rc;
        }

        next = ngx_rbtree_next(&sh->rbtree, node);

        if (n >= NGX_HTTP_MOCK_INSPECT_CHUNK && next
            && next->key != node->key)
        {
            n = 0;

            ngx_shmtx_unlock(&mmcf->shpool->mutex);
            ngx_shmtx_lock(&mmcf->shpool->mutex);

            next = ngx_http_mock_inspect_above(&sh->rbtree, node->key);
        }

        node = next;
    }

    ngx_shmtx_unlock(&mmcf->shpool->mutex);

    return NGX_OK;
}


/* the first node whose key is above key */

static ngx_rbtree_node_t *
ngx_http_mock_inspect_above(ngx_rbtree_t *tree, ngx_rbtree_key_t key)
{
    ngx_rbtree_node_t  *node, *found;

    found = NULL;
    node = tree->root;

    while (node != tree->sentinel) {
        if (node->key > key) {
            found = node;
            node = node->left;

        } else {
            node = node->right;
        }
    }

    return found;
}


/* GET locations: each mock location, its cassettes' store and its mode */

static ngx_int_t
ngx_http_mock_inspect_locations(ngx_http_mock_inspect_t *o)
{
    ngx_uint_t                  i, k;
    ngx_http_mock_slot_t       *slots;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(o->r, ngx_http_mock_module);
    slots = mmcf->slots.elts;
    stores = mmcf->stores.elts;

    if (ngx_http_mock_inspect_out(o, "{\"locations\": [") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < mmcf->slots.nelts; i++) {
        for (k = 0; k < mmcf->stores.nelts; k++) {
            if (stores[k] == slots[i].store) {
                break;
            }
        }

        if (ngx_http_mock_inspect_out(o, "%s\n{\"location\": ", i ? "," : "")
               != NGX_OK
            || ngx_http_mock_inspect_str(o, &slots[i].location) != NGX_OK
            || ngx_http_mock_inspect_out(o, ", \"cassette\": ") != NGX_OK
            || ngx_http_mock_inspect_str(o, &slots[i].cassette) != NGX_OK
            || ngx_http_mock_inspect_out(o, ", \"mode\": ") != NGX_OK
            || ngx_http_mock_inspect_str(o,
                                     ngx_http_mock_mode_name(slots[i].mode))
               != NGX_OK
            || ((k < mmcf->stores.nelts)
                ? ngx_http_mock_inspect_out(o, ", \"store\": %ui}", k)
                : ngx_http_mock_inspect_out(o, ", \"store\": null}"))
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mock_inspect_out(o, "\n]}\n") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_ui_send(o->r, NGX_HTTP_OK, o->start,
                                 o->pos - o->start);
}


/* a query parameter, unescaped; empty when absent */

static ngx_int_t
ngx_http_mock_inspect_arg(ngx_http_mock_inspect_t *o, char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    ngx_str_null(value);

    if (ngx_http_arg(o->r, (u_char *) name, ngx_strlen(name), &raw)
        != NGX_OK)
    {
        return NGX_OK;
    }

    dst = ngx_pnalloc(o->r->pool, raw.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->data = dst;
    src = raw.data;
    ngx_unescape_uri(&dst, &src, raw.len, NGX_UNESCAPE_URI);
    value->len = dst - value->data;

    return NGX_OK;
}


/* a number parameter; dflt when absent, -1 when not a number */

static ngx_int_t
ngx_http_mock_inspect_number(ngx_http_mock_inspect_t *o, char *name,
    ngx_int_t dflt)
{
    ngx_int_t  n;
    ngx_str_t  value;

    if (ngx_http_mock_inspect_arg(o, name, &value) != NGX_OK) {
        return -1;
    }

    if (value.len == 0) {
        return dflt;
    }

    n = ngx_atoi(value.data, value.len);

    return (n == NGX_ERROR) ? -1 : n;
}


/*
 * "store": its number or its path; alone it may be left out.  NGX_DECLINED:
 * the error has been answered, with o->rc.
 */

static ngx_int_t
ngx_http_mock_inspect_store(ngx_http_mock_inspect_t *o,
    ngx_http_mock_store_t **storep, ngx_uint_t *n)
{
    ngx_int_t                   k;
    ngx_str_t                   value;
    ngx_uint_t                  i;
    ngx_http_mock_store_t     **stores;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(o->r, ngx_http_mock_module);
    stores = mmcf->stores.elts;

    if (ngx_http_mock_inspect_arg(o, "store", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value.len == 0) {
        if (mmcf->stores.nelts == 1) {
            *storep = stores[0];
            *n = 0;
            return NGX_OK;
        }

        o->rc = ngx_http_mock_inspect_error(o, NGX_HTTP_BAD_REQUEST,
                                            "there are %ui cassette stores: "
                                            "name one with \"store\"",
                                            mmcf->stores.nelts);
        return NGX_DECLINED;
    }

    k = ngx_atoi(value.data, value.len);

    if (k != NGX_ERROR && (ngx_uint_t) k < mmcf->stores.nelts) {
        *storep = stores[k];
        *n = k;
        return NGX_OK;
    }

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (stores[i]->path.len == value.len
            && ngx_strncmp(stores[i]->path.data, value.data, value.len) == 0)
        {
            *storep = stores[i];
            *n = i;
            return NGX_OK;
        }
    }

    o->rc = ngx_http_mock_inspect_error(o, NGX_HTTP_NOT_FOUND,
                                        "no cassette store \"%V\"", &value);
    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mock_inspect_error(ngx_http_mock_inspect_t *o, ngx_uint_t status,
    char *fmt, ...)
{
    u_char     *p;
    va_list     args;
    ngx_str_t   text;
    u_char      buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    text.data = buf;
    text.len = p - buf;

    o->pos = o->start;

    if (ngx_http_mock_inspect_out(o, "{\"error\": ") != NGX_OK
        || ngx_http_mock_inspect_str(o, &text) != NGX_OK
        || ngx_http_mock_inspect_out(o, "}\n") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mock_ui_send(o->r, status, o->start, o->pos - o->start);
}


static ngx_int_t
ngx_http_mock_inspect_out(ngx_http_mock_inspect_t *o, char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (ngx_http_mock_inspect_room(o, p - buf) != NGX_OK) {
        return NGX_ERROR;
    }

    o->pos = ngx_cpymem(o->pos, buf, p - buf);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_inspect_str(ngx_http_mock_inspect_t *o, ngx_str_t *s)
{
    if (ngx_http_mock_inspect_room(o, 2 + 6 * s->len) != NGX_OK) {
        return NGX_ERROR;
    }

    o->pos = ngx_http_mock_json_quote(o->pos, s);

    return NGX_OK;
}


/* one buffer, doubled when it is outgrown */

static ngx_int_t
ngx_http_mock_inspect_room(ngx_http_mock_inspect_t *o, size_t len)
{
    u_char  *p;
    size_t   size, used;

    if ((size_t) (o->end - o->pos) >= len) {
        return NGX_OK;
    }

    used = o->pos - o->start;
    size = ngx_max(4096, 2 * (size_t) (o->end - o->start));

    while (size - used < len) {
        size *= 2;
    }

    p = ngx_pnalloc(o->r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (used) {
        ngx_memcpy(p, o->start, used);
    }

    if (o->start) {
        ngx_pfree(o->r->pool, o->start);
    }

    o->start = p;
    o->pos = p + used;
    o->end = p + size;

    return NGX_OK;
}


/* the cassette's path, or its end after a slash; any when file is empty */

static ngx_uint_t
ngx_http_mock_inspect_named(ngx_str_t *name, ngx_str_t *file)
{
    if (file->len == 0 || (name->len == file->len
                           && ngx_strncmp(name->data, file->data, file->len)
                              == 0))
    {
        return 1;
    }

    return name->len > file->len
           && name->data[name->len - file->len - 1] == '/'
           && ngx_strncmp(name->data + name->len - file->len, file->data,
                          file->len) == 0;
}


/* UTF-8 without NUL and other control bytes than tab, CR and LF */

static ngx_uint_t
ngx_http_mock_inspect_text(ngx_str_t *s)
{
    u_char      *p, *last;
    ngx_uint_t   n;

    p = s->data;
    last = s->data + s->len;

    while (p < last) {
        if (*p < 0x80) {
            if (*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') {
                return 0;
            }

            p++;
            continue;
        }

        if ((*p & 0xe0) == 0xc0 && *p >= 0xc2) {
            n = 1;

        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;

        } else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4) {
            n = 3;

        } else {
            return 0;
        }

        if ((size_t) (last - p) <= n) {
            return 0;
        }

        for (p++; n; n--, p++) {
            if ((*p & 0xc0) != 0x80) {
                return 0;
            }
        }
    }

    return 1;
}
