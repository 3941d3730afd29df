
/*
 * Appending recorded interactions to a cassette file, and replacing one.
 *
 * A cassette that is recorded into keeps "interactions" as its last key,
 * a block sequence at column 0, so a new interaction is one more item
 * appended at the end: the file stays valid YAML after every write and
 * is not rewritten to add one.  Each item is written at the end kept
 * in the shared zone, under a lock there that all workers share, and
 * ends with a comment line; a write cut short by a crash leaves an item
 * without it, which the next writer, the loader and the next start cut
 * off.  Replacing an interaction writes the whole file anew to a
 * temporary file that is renamed over the cassette, so that readers only
 * ever see the old file or the new one; every worker then reopens the
 * file before it writes again.
 *
 * After a reload the workers of the old configuration, finishing their
 * requests, and those of the new one write to the same file with a zone
 * each.  So a writer also holds an fcntl() lock on the file, which the
 * kernel drops when its process dies, and takes the file as it finds it:
 * renamed over, it is opened again; longer than the zone says, the
 * interactions the others appended are counted and what a writer that
 * died left is cut off.
 */


#include "ngx_http_mock_module.h"

#if (NGX_LINUX && defined STATX_INO)
#define NGX_HTTP_MOCK_STATX  1
#endif

#if (__SSE2__ && __GNUC__)
#include <emmintrin.h>
#define NGX_HTTP_MOCK_SSE2  1
#endif


/*
 * Whether one of 8 bytes needs more than a copy in a double-quoted
 * scalar: below 0x20, above 0x7e, a quote or a backslash.  The lowest
 * flag set is the first such byte: carries and borrows only go up.
 */
#define NGX_HTTP_MOCK_ONES   0x0101010101010101ULL
#define NGX_HTTP_MOCK_HIGHS  0x8080808080808080ULL

#define ngx_http_mock_yaml_zero8(x)                                          \
    (((x) - NGX_HTTP_MOCK_ONES) & ~(x))

#define ngx_http_mock_yaml_special8(x)                                       \
    (((((x) - 0x20 * NGX_HTTP_MOCK_ONES) & ~(x))                             \
      | (((x) + NGX_HTTP_MOCK_ONES) | (x))                                   \
      | ngx_http_mock_yaml_zero8((x) ^ ('"' * NGX_HTTP_MOCK_ONES))           \
      | ngx_http_mock_yaml_zero8((x) ^ ('\\' * NGX_HTTP_MOCK_ONES)))         \
     & NGX_HTTP_MOCK_HIGHS)

#if (NGX_HTTP_MOCK_SSE2)

/* the same for 16 bytes, a bit each; signed: below 0x20 or above 0x7f */
#define ngx_http_mock_yaml_special16(v)                                      \
    _mm_movemask_epi8(                                                       \
        _mm_or_si128(                                                        \
            _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),             \
                         _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),            \
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),              \
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))))

#endif

#define ngx_http_mock_yaml_plain(c)                                          \
    ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')

/* header names, compared without case; the first byte tells most apart */
#define ngx_http_mock_yaml_same_name(a, b)                                   \
    ((a)->key.len == (b)->key.len                                            \
     && ((a)->key.len == 0                                                   \
         || (ngx_tolower((a)->key.data[0]) == ngx_tolower((b)->key.data[0])  \
             && ngx_strncasecmp((a)->key.data, (b)->key.data, (a)->key.len)  \
                == 0)))


static ngx_int_t ngx_http_mock_writer_rewrite(
    ngx_http_mock_cassette_t *cassette, ngx_log_t *log);
static ngx_int_t ngx_http_mock_write_at(ngx_fd_t fd, u_char *p, size_t len,
    off_t offset);
static ngx_int_t ngx_http_mock_writev_at(ngx_fd_t fd, struct iovec *iov,
    ngx_uint_t n, off_t offset);
static ngx_int_t ngx_http_mock_writer_lock_fd(ngx_fd_t fd, short type);
static ngx_int_t ngx_http_mock_writer_stat(ngx_fd_t fd, off_t *size,
    ngx_uint_t *ino, ngx_uint_t *nlink);
static ngx_int_t ngx_http_mock_writer_settle(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
static ngx_int_t ngx_http_mock_writer_recount(ngx_http_mock_writer_t *writer,
    off_t from, off_t size, ngx_log_t *log);
static void ngx_http_mock_writer_renamed(ngx_http_mock_writer_t *writer,
    u_char *tmp, ngx_log_t *log);
static ngx_int_t ngx_http_mock_writer_reopen(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
static ngx_uint_t ngx_http_mock_writer_item(u_char *data, size_t len,
    ngx_uint_t n, size_t *start, size_t *end);
static u_char *ngx_http_mock_writer_tmp(ngx_http_mock_writer_t *writer,
    u_char *buf);
static u_char *ngx_http_mock_yaml_headers(u_char *p, ngx_array_t *headers,
    ngx_uint_t indent);
static size_t ngx_http_mock_yaml_headers_len(ngx_array_t *headers);
static u_char *ngx_http_mock_yaml_body(u_char *p, ngx_str_t *body);
static size_t ngx_http_mock_yaml_body_len(ngx_str_t *body);
static u_char *ngx_http_mock_yaml_quote(u_char *p, ngx_str_t *s,
    ngx_uint_t text);
static size_t ngx_http_mock_yaml_quote_len(ngx_str_t *s);
static ngx_int_t ngx_http_mock_yaml_printable(uint32_t c);
static size_t ngx_http_mock_yaml_extension_len(ngx_http_mock_record_t *rec);
static u_char *ngx_http_mock_yaml_extension(u_char *p,
    ngx_http_mock_record_t *rec);


/* in the master, before the workers start: the file is made appendable */

ngx_int_t
ngx_http_mock_writer_prepare(ngx_http_mock_cassette_t *cassette,
    ngx_log_t *log)
{
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_file_info_t  fi;

    if (ngx_test_config || cassette->missing || cassette->size == 0) {
        return NGX_OK;
    }

    if (!cassette->appendable) {
        return ngx_http_mock_writer_rewrite(cassette, log);
    }

    if (cassette->valid == cassette->size) {
        return NGX_OK;
    }

    fd = ngx_open_file(cassette->name.data, NGX_FILE_WRONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be opened for recording",
                      &cassette->name);
        return NGX_ERROR;
    }

    rc = NGX_OK;

    /*
     * Unless the file changed since it was read: the workers of the
     * configuration this one replaces may still append to it.
     */

    if (ngx_http_mock_writer_lock_fd(fd, F_WRLCK) == NGX_OK
        && ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && ngx_file_size(&fi) == cassette->size)
    {
        if (ftruncate(fd, cassette->valid) == -1) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "mock: ftruncate() \"%V\" failed", &cassette->name);
            rc = NGX_ERROR;

        } else {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mock: removed an incomplete interaction after byte "
                          "%O of cassette \"%V\"", cassette->valid,
                          &cassette->name);
        }
    }

    (void) ngx_close_file(fd);

    return rc;
}


ngx_int_t
ngx_http_mock_writer_open(ngx_http_mock_writer_t *writer, ngx_cycle_t *cycle,
    ngx_log_t *log)
{
    u_char    *slash;
    ngx_fd_t   fd;
    ngx_str_t  dir;

    /* a cassette that fallback rewrites is replaced by a file of a worker */

    if (writer->replaces) {
        slash = writer->name.data + writer->name.len;

        while (slash > writer->name.data && slash[-1] != '/') {
            slash--;
        }

        dir.data = writer->name.data;
        dir.len = (slash > writer->name.data + 1) ? slash - 1 - dir.data : 1;

        /* without it fresh answers are not recorded: a warning, no error */

        (void) ngx_http_mock_writer_writable(cycle, &dir, NGX_LOG_WARN,
                                             "fallback rewrites its "
                                             "cassettes in", log);
    }

    if (ngx_test_config) {
        return NGX_OK;
    }

    if (ngx_http_mock_writer_prepare(writer->cassette, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* written at the end the zone keeps: no O_APPEND, which pwrite ignores */

    fd = ngx_open_file(writer->name.data, NGX_FILE_RDWR,
                       NGX_FILE_CREATE_OR_OPEN, NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be opened for recording",
                      &writer->name);
        return NGX_ERROR;
    }

    writer->fd = fd;

    /* a new cassette is valid YAML before anything is recorded */

    if (lseek(fd, 0, SEEK_END) == 0
        && ngx_http_mock_write_at(fd, (u_char *) NGX_HTTP_MOCK_CASSETTE_HEAD,
                                  sizeof(NGX_HTTP_MOCK_CASSETTE_HEAD) - 1, 0)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be written",
                      &writer->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Workers that create files in a directory (session cassettes, the files
 * that fallback renames over its cassettes) do it as the user they run
 * as: a directory they cannot write to is told, at "level", when the
 * configuration is loaded.
 */

ngx_int_t
ngx_http_mock_writer_writable(ngx_cycle_t *cycle, ngx_str_t *dir,
    ngx_uint_t level, const char *what, ngx_log_t *log)
{
    u_char           *name;
    ngx_core_conf_t  *ccf;
    ngx_file_info_t   fi;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT
        || ccf->user == 0)
    {
        return NGX_OK;
    }

    name = ngx_pnalloc(cycle->pool, dir->len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, dir->data, dir->len);
    name[dir->len] = '\0';

    if (ngx_file_info(name, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_file_info_n " \"%V\" failed", dir);
        return NGX_ERROR;
    }

    if ((fi.st_uid == ccf->user
         && (fi.st_mode & (S_IWUSR|S_IXUSR)) == (S_IWUSR|S_IXUSR))
        || (fi.st_gid == ccf->group
            && (fi.st_mode & (S_IWGRP|S_IXGRP)) == (S_IWGRP|S_IXGRP))
        || (fi.st_mode & (S_IWOTH|S_IXOTH)) == (S_IWOTH|S_IXOTH))
    {
        return NGX_OK;
    }

    ngx_log_error(level, log, 0,
                  "mock: %s \"%V\", which user \"%s\" of the worker "
                  "processes cannot write to", what, dir, ccf->username);

    return NGX_ERROR;
}


/*
 * A cassette written by vcrpy keeps "version" after "interactions"; it is
 * rewritten once, through a temporary file and rename(), with the same
 * interactions last.
 */

static ngx_int_t
ngx_http_mock_writer_rewrite(ngx_http_mock_cassette_t *cassette,
    ngx_log_t *log)
{
    off_t                    offset;
    u_char                  *p;
    ngx_fd_t                 fd;
    ngx_int_t                rc;
    ngx_str_t                entry;
    ngx_uint_t               i;
    ngx_pool_t              *pool;
    ngx_http_mock_record_t  *rec;
    u_char                   tmp[NGX_MAX_PATH];

    p = ngx_snprintf(tmp, NGX_MAX_PATH - 1, "%V.%P.tmp", &cassette->name,
                     ngx_pid);
    *p = '\0';

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "mock: \"%s\" cannot be created to rewrite cassette "
                      "\"%V\"", tmp, &cassette->name);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        goto failed;
    }

    offset = sizeof(NGX_HTTP_MOCK_CASSETTE_HEAD) - 1;

    rc = ngx_http_mock_write_at(fd, (u_char *) NGX_HTTP_MOCK_CASSETTE_HEAD,
                                offset, 0);

    rec = cassette->records.elts;

    for (i = 0; rc == NGX_OK && i < cassette->records.nelts; i++) {
        if (ngx_http_mock_yaml_entry(pool, &rec[i], &entry) != NGX_OK) {
            rc = NGX_ERROR;
            break;
        }

        rc = ngx_http_mock_write_at(fd, entry.data, entry.len, offset);
        offset += entry.len;
        ngx_reset_pool(pool);
    }

    ngx_destroy_pool(pool);

    if (rc != NGX_OK || fsync(fd) == -1) {
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR
        || ngx_rename_file(tmp, cassette->name.data) == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be rewritten",
                      &cassette->name);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "mock: cassette \"%V\" rewritten with \"interactions\" "
                  "last, so that recordings can be appended", &cassette->name);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                  "mock: cassette \"%V\" cannot be rewritten", &cassette->name);

    (void) ngx_close_file(fd);
    (void) ngx_delete_file(tmp);

    return NGX_ERROR;
}


/*
 * Takes the file's lock.  What a worker that died holding it left is
 * put right: a rename it had made is taken into account, a partial
 * interaction it wrote is cut off.  The file is reopened if another
 * worker has renamed a new one over it since this worker last wrote.
 */

ngx_int_t
ngx_http_mock_writer_lock_file(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    ngx_uint_t             taken;
    ngx_http_mock_file_t  *file;
    u_char                 tmp[NGX_MAX_PATH];

    file = writer->file;

    taken = ngx_http_mock_writer_lock(&file->lock);

    if (taken && file->renaming) {
        ngx_http_mock_writer_renamed(writer,
                                     ngx_http_mock_writer_tmp(writer, tmp),
                                     log);
    }

    if (writer->generation != file->generation
        && ngx_http_mock_writer_reopen(writer, log) != NGX_OK)
    {
        ngx_http_mock_writer_unlock(&file->lock);
        return NGX_ERROR;
    }

    if (ngx_http_mock_writer_settle(writer, log) != NGX_OK) {
        ngx_http_mock_writer_unlock(&file->lock);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * With the file's fcntl() lock: the file the name leads to is the one
 * written, and the zone's end and count are the file's.
 */

static ngx_int_t
ngx_http_mock_writer_settle(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    off_t                  size;
    ngx_uint_t             i, same, ino, nlink;
    ngx_http_mock_file_t  *file;

    file = writer->file;

    for (i = 0; /* void */; i++) {

        if (ngx_http_mock_writer_lock_fd(writer->fd, F_WRLCK) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "mock: fcntl(F_SETLKW) \"%V\" failed",
                          &writer->name);
            return NGX_ERROR;
        }

        if (ngx_http_mock_writer_stat(writer->fd, &size, &ino, &nlink)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          ngx_fd_info_n " \"%V\" failed", &writer->name);
            goto failed;
        }

        if (nlink > 0) {
            break;
        }

        /* renamed over by a worker of another configuration */

        if (i == 8 || ngx_http_mock_writer_reopen(writer, log) != NGX_OK) {
            goto failed;
        }
    }

    /* the zone's first write learns which file its end is of */

    same = (file->ino == 0 || ino == file->ino);

    if (same && file->end == size) {
        file->ino = ino;
        return NGX_OK;
    }

    /*
     * Appended to by a worker of another configuration (read on from the
     * zone's end), or replaced (read whole).
     */

    if (ngx_http_mock_writer_recount(writer,
                                     (same && file->end < size) ? file->end
                                                                : 0,
                                     size, log)
        != NGX_OK)
    {
        goto failed;
    }

    file->ino = ino;

    return NGX_OK;

failed:

    (void) ngx_http_mock_writer_lock_fd(writer->fd, F_UNLCK);

    return NGX_ERROR;
}


/*
 * The file from "from" on is not what the zone knows: interactions that
 * others appended are counted, and a partial one at the end, left by a
 * writer that died, is cut off.  From 0, the file was replaced: all of
 * it is counted, and none of it cut.  Where the others' interactions
 * begin is left in "foreign", for the store to read them into the zone.
 */

static ngx_int_t
ngx_http_mock_writer_recount(ngx_http_mock_writer_t *writer, off_t from,
    off_t size, ngx_log_t *log)
{
    u_char                *data, *p, *last, *line, *valid;
    size_t                 s, e;
    ssize_t                n;
    ngx_uint_t             count;
    ngx_http_mock_file_t  *file;

    static u_char  mark[] = NGX_HTTP_MOCK_RECORDED_MARK;

    file = writer->file;

    data = ngx_alloc(size - from + 1, log);
    if (data == NULL) {
        return NGX_ERROR;
    }

    n = pread(writer->fd, data, size - from, from);

    if (n != size - from) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be read back",
                      &writer->name);
        ngx_free(data);
        return NGX_ERROR;
    }

    last = data + n;

    if (from == 0) {

        /* the items from the zone's count on are the others' appends */

        count = ngx_http_mock_writer_item(data, n, file->count, &s, &e);

        if (count > file->count) {
            file->foreign = s;
            file->foreign_index = file->count;
        }

        file->count = count;
        file->end = size;

        ngx_free(data);
        return NGX_OK;
    }

    file->foreign = from;
    file->foreign_index = file->count;

    /* what is after the last "recorded" mark is a partial interaction */

    count = 0;
    valid = data;

    for (line = data; line < last; line = p + 1) {
        p = ngx_strlchr(line, last, '\n');
        if (p == NULL) {
            break;
        }

        if (*line == '-' && (line[1] == ' ' || line[1] == '\n')) {
            count++;

        } else if ((size_t) (p - line) >= sizeof(mark) - 1
                   && ngx_strncmp(line, mark, sizeof(mark) - 1) == 0)
        {
            valid = p + 1;
            file->count += count;
            count = 0;
        }
    }

    file->end = from + (valid - data);

    if (file->foreign == file->end) {
        file->foreign = 0;
    }

    ngx_free(data);

    if (file->end == size) {
        return NGX_OK;
    }

    if (ftruncate(writer->fd, file->end) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "mock: ftruncate() \"%V\" failed", &writer->name);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "mock: cut what a worker that died while recording "
                  "left after byte %O of cassette \"%V\"", file->end,
                  &writer->name);

    return NGX_OK;
}


void
ngx_http_mock_writer_unlock_file(ngx_http_mock_writer_t *writer)
{
    (void) ngx_http_mock_writer_lock_fd(writer->fd, F_UNLCK);
    ngx_http_mock_writer_unlock(&writer->file->lock);
}


/*
 * The file's lock is held, but a descriptor of the file that was closed
 * has dropped its fcntl() lock: it is taken again.  NGX_DECLINED: the
 * file changed meanwhile (the zone is put right, as the lock does).
 */

ngx_int_t
ngx_http_mock_writer_relock(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    off_t                  end;
    ngx_uint_t             ino, count;
    ngx_http_mock_file_t  *file;

    file = writer->file;

    end = file->end;
    ino = file->ino;
    count = file->count;

    if (ngx_http_mock_writer_settle(writer, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (file->end != end || file->count != count
        || (ino && file->ino != ino))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the whole file, waiting; the kernel drops it when its process dies */

static ngx_int_t
ngx_http_mock_writer_lock_fd(ngx_fd_t fd, short type)
{
    struct flock  fl;

    ngx_memzero(&fl, sizeof(struct flock));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;

    while (fcntl(fd, type == F_UNLCK ? F_SETLK : F_SETLKW, &fl) == -1) {
        if (ngx_errno != NGX_EINTR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The size, inode and links of the file, before each write.  Where the
 * kernel has statx(), its times are not asked for: a file whose times
 * were read gets a fine-grained time at its next write, and with it an
 * update of its inode in the journal, which costs the write a third
 * more; unread, the time is updated as coarsely as the kernel likes.
 */

static ngx_int_t
ngx_http_mock_writer_stat(ngx_fd_t fd, off_t *size, ngx_uint_t *ino,
    ngx_uint_t *nlink)
{
    ngx_file_info_t  fi;

#if (NGX_HTTP_MOCK_STATX)
    struct statx     sx;

    if (statx(fd, "", AT_EMPTY_PATH, STATX_SIZE | STATX_INO | STATX_NLINK,
              &sx)
        == 0)
    {
        /* a file system that gives less is asked as before */

        if ((sx.stx_mask & (STATX_SIZE | STATX_INO | STATX_NLINK))
            == (STATX_SIZE | STATX_INO | STATX_NLINK))
        {
            *size = (off_t) sx.stx_size;
            *ino = (ngx_uint_t) sx.stx_ino;
            *nlink = sx.stx_nlink;
            return NGX_OK;
        }

    } else if (ngx_errno != NGX_ENOSYS) {
        return NGX_ERROR;
    }
#endif

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return NGX_ERROR;
    }

    *size = ngx_file_size(&fi);
    *ino = (ngx_uint_t) fi.st_ino;
    *nlink = fi.st_nlink;

    return NGX_OK;
}


/* the file's lock is held */

ngx_int_t
ngx_http_mock_writer_append_entry(ngx_http_mock_writer_t *writer,
    ngx_str_t *entry, ngx_http_mock_record_t *rec, ngx_log_t *log)
{
    return ngx_http_mock_writer_append(writer, entry, 1, &rec->index, log);
}


/*
 * n entries, in one write as far as the kernel takes them; the first is
 * numbered *index, the others follow.  The file's lock is held.
 */

ngx_int_t
ngx_http_mock_writer_append(ngx_http_mock_writer_t *writer,
    ngx_str_t *entries, ngx_uint_t n, ngx_uint_t *index, ngx_log_t *log)
{
    off_t                  end;
    size_t                 len;
    ngx_err_t              err;
    ngx_uint_t             i, k;
    struct iovec           iov[NGX_HTTP_MOCK_APPEND_MAX];
    ngx_http_mock_file_t  *file;

    static u_char  head[] = NGX_HTTP_MOCK_CASSETTE_HEAD;

    file = writer->file;
    end = file->end;

    for (i = 0; i < n; /* void */) {
        k = 0;
        len = 0;

        if (end == 0) {
            iov[k].iov_base = head;
            iov[k++].iov_len = sizeof(head) - 1;
            len = sizeof(head) - 1;
        }

        for ( /* void */ ; i < n && k < NGX_HTTP_MOCK_APPEND_MAX; i++, k++) {
            iov[k].iov_base = entries[i].data;
            iov[k].iov_len = entries[i].len;
            len += entries[i].len;
        }

        if (ngx_http_mock_writev_at(writer->fd, iov, k, end) != NGX_OK) {
            goto failed;
        }

        end += len;
    }

    file->end = end;
    *index = file->count;
    file->count += n;

    return NGX_OK;

failed:

    err = ngx_errno;

    /* leave no partial interaction behind: the file stays valid */

    if (ftruncate(writer->fd, file->end) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "mock: ftruncate() \"%V\" failed", &writer->name);
    }

    ngx_log_error(NGX_LOG_ERR, log, err,
                  "mock: cannot record into cassette \"%V\"", &writer->name);

    return NGX_ERROR;
}


/*
 * Interaction n of the file becomes the entry; the file's lock is held.
 * The file is copied with the entry in place of the old one to a
 * temporary file, which is renamed over the cassette.  The zone notes the rename
 * before it is made, so a worker that takes the lock over from one that
 * died in between knows which file it finds.  NGX_DECLINED: the file is
 * as it was, and an error says why (once a minute).
 */

ngx_int_t
ngx_http_mock_writer_replace(ngx_http_mock_writer_t *writer, ngx_uint_t n,
    ngx_str_t *entry, ngx_http_mock_record_t *rec, ngx_log_t *log)
{
    off_t                  len;
    size_t                 start, end;
    u_char                *data;
    ssize_t                got;
    ngx_fd_t               fd;
    ngx_err_t              err;
    ngx_file_info_t        fi;
    const char            *why;
    ngx_http_mock_file_t  *file;
    u_char                 tmp[NGX_MAX_PATH];

    file = writer->file;
    len = file->end;

    data = ngx_alloc(len + 1, log);
    if (data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_mock_writer_tmp(writer, tmp);

    /*
     * The file written to is the one of that name: renames hold the lock.
     * It is read through the descriptor that holds the fcntl() lock:
     * closing another one of the file would drop it.
     */

    got = pread(writer->fd, data, len, 0);
    err = ngx_errno;

    if (got != len) {
        ngx_set_errno(err);
        why = "it cannot be read back";
        goto failed;
    }

    if (ngx_http_mock_writer_item(data, len, n, &start, &end) != file->count
        || n >= file->count)
    {
        ngx_set_errno(0);
        why = "its interactions cannot be told apart in the file";
        goto failed;
    }

    /* read and written once it is the cassette */

    fd = ngx_open_file(tmp, NGX_FILE_RDWR, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        why = "the file to rename over it cannot be created";
        goto failed;
    }

    if (ngx_http_mock_write_at(fd, data, start, 0) != NGX_OK
        || ngx_http_mock_write_at(fd, entry->data, entry->len, start)
           != NGX_OK
        || ngx_http_mock_write_at(fd, data + end, len - end,
                                  start + entry->len)
           != NGX_OK
        || ngx_fd_info(fd, &fi) == NGX_FILE_ERROR)
    {
        why = "the file to rename over it cannot be written";
        goto removed;
    }

    file->next_end = len - (end - start) + entry->len;
    file->next_ino = fi.st_ino;
    ngx_memory_barrier();
    file->renaming = 1;

    if (ngx_rename_file(tmp, writer->name.data) == NGX_FILE_ERROR) {
        file->renaming = 0;
        why = "the file cannot be renamed over it";
        goto removed;
    }

    file->end = file->next_end;
    file->ino = file->next_ino;
    file->generation++;
    ngx_memory_barrier();
    file->renaming = 0;

    /* the new file is the cassette: it is written from here on */

    if (dup2(fd, writer->fd) != -1) {
        writer->generation = file->generation;
    }

    (void) ngx_close_file(fd);
    ngx_free(data);

    rec->index = n;

    return NGX_OK;

removed:

    err = ngx_errno;
    (void) ngx_close_file(fd);
    (void) ngx_delete_file(tmp);
    ngx_set_errno(err);

failed:

    err = ngx_errno;
    ngx_free(data);

    if (ngx_time() - writer->logged >= 60) {
        writer->logged = ngx_time();

        ngx_log_error(NGX_LOG_ERR, log, err,
                      "mock: the new answer for interaction %ui of cassette "
                      "\"%V\" is not recorded: %s (\"%s\")", n,
                      &writer->name, why, tmp);
    }

    return NGX_DECLINED;
}


/*
 * A whole cassette written anew to "tmp" from its records, with
 * "interactions" last, as recording keeps it.  Without records, a file
 * that recording appends to is left empty (recording writes its head
 * again), and another one says "interactions: []".  NGX_OK: the bytes
 * are on disk, with their size and the file's inode; otherwise tmp is
 * removed and errno says why.
 */

ngx_int_t
ngx_http_mock_writer_save(u_char *tmp, ngx_array_t *records,
    ngx_uint_t appendable, ngx_pool_t *pool, off_t *size, ngx_uint_t *ino)
{
    off_t                    offset;
    ngx_fd_t                 fd;
    ngx_err_t                err;
    ngx_str_t                entry;
    ngx_int_t                rc;
    ngx_uint_t               i;
    ngx_file_info_t          fi;
    ngx_http_mock_record_t  *rec;

    static u_char  head[] = NGX_HTTP_MOCK_CASSETTE_HEAD;
    static u_char  none[] = "version: 1\ninteractions: []\n";

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    rc = NGX_OK;
    offset = 0;

    if (records->nelts) {
        rc = ngx_http_mock_write_at(fd, head, sizeof(head) - 1, 0);
        offset = sizeof(head) - 1;

    } else if (!appendable) {
        rc = ngx_http_mock_write_at(fd, none, sizeof(none) - 1, 0);
        offset = sizeof(none) - 1;
    }

    rec = records->elts;

    for (i = 0; rc == NGX_OK && i < records->nelts; i++) {
        if (ngx_http_mock_yaml_entry(pool, &rec[i], &entry) != NGX_OK) {
            ngx_set_errno(NGX_ENOMEM);
            rc = NGX_ERROR;
            break;
        }

        rc = ngx_http_mock_write_at(fd, entry.data, entry.len, offset);
        offset += entry.len;
    }

    if (rc != NGX_OK || fsync(fd) == -1
        || ngx_fd_info(fd, &fi) == NGX_FILE_ERROR)
    {
        err = ngx_errno;
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        ngx_set_errno(err);
        return NGX_ERROR;
    }

    *size = offset;
    *ino = fi.st_ino;

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        ngx_set_errno(err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * tmp, as ngx_http_mock_writer_save() wrote it, renamed over the
 * cassette.  For a file that is recorded into (writer, whose lock is
 * held), the zone notes the rename before it is made, as a replacement
 * does, and every worker reopens the file before it writes again.
 */

ngx_int_t
ngx_http_mock_writer_install(ngx_http_mock_writer_t *writer, u_char *tmp,
    u_char *name, off_t size, ngx_uint_t ino, ngx_uint_t count)
{
    ngx_err_t              err;
    ngx_http_mock_file_t  *file;

    if (writer == NULL) {
        return (ngx_rename_file(tmp, name) == NGX_FILE_ERROR) ? NGX_ERROR
                                                              : NGX_OK;
    }

    file = writer->file;

    file->next_end = size;
    file->next_ino = ino;
    ngx_memory_barrier();
    file->renaming = 1;

    if (ngx_rename_file(tmp, name) == NGX_FILE_ERROR) {
        err = ngx_errno;
        file->renaming = 0;
        ngx_set_errno(err);
        return NGX_ERROR;
    }

    file->end = size;
    file->count = count;
    file->ino = ino;
    file->generation++;
    ngx_memory_barrier();
    file->renaming = 0;

    return NGX_OK;
}


/* a worker died holding the lock while it replaced an interaction */

static void
ngx_http_mock_writer_renamed(ngx_http_mock_writer_t *writer, u_char *tmp,
    ngx_log_t *log)
{
    ngx_file_info_t        fi;
    ngx_http_mock_file_t  *file;

    file = writer->file;

    if (ngx_file_info(writer->name.data, &fi) != NGX_FILE_ERROR
        && (ngx_uint_t) fi.st_ino == file->next_ino)
    {
        file->end = file->next_end;
        file->ino = file->next_ino;
        file->generation++;

    } else {
        (void) ngx_delete_file(tmp);
    }

    ngx_memory_barrier();
    file->renaming = 0;

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "mock: a worker died while it replaced an interaction of "
                  "cassette \"%V\"; the file is %s", &writer->name,
                  file->end == file->next_end ? "the new one" : "unchanged");
}


/* the cassette that another worker renamed into place, on the same fd */

static ngx_int_t
ngx_http_mock_writer_reopen(ngx_http_mock_writer_t *writer, ngx_log_t *log)
{
    ngx_fd_t  fd;

    fd = ngx_open_file(writer->name.data, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "mock: cassette \"%V\" cannot be opened again for "
                      "recording", &writer->name);
        return NGX_ERROR;
    }

    /* the descriptor keeps its number, which the cycle's cleanup closes */

    if (dup2(fd, writer->fd) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "mock: dup2() on cassette \"%V\" failed",
                      &writer->name);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    writer->generation = writer->file->generation;

    return NGX_OK;
}


/*
 * Finds interaction n among the entries of the block sequence that
 * follows "interactions:" at column 0: each starts with "-" at column 0,
 * and runs up to the next one or the end.  Returns how many entries there
 * are.
 */

static ngx_uint_t
ngx_http_mock_writer_item(u_char *data, size_t len, ngx_uint_t n,
    size_t *start, size_t *end)
{
    u_char      *p, *last;
    ngx_uint_t   count, k, seq;

    static ngx_str_t  keys[] = {
        ngx_string("interactions:"),
        ngx_string("\"interactions\":"),
        ngx_string("'interactions':")
    };

    last = data + len;
    count = 0;
    seq = 0;
    *start = len;
    *end = len;

    for (p = data; p < last; p++) {

        /* p starts a line */

        if (!seq) {
            for (k = 0; k < sizeof(keys) / sizeof(ngx_str_t); k++) {
                if ((size_t) (last - p) >= keys[k].len
                    && ngx_strncmp(p, keys[k].data, keys[k].len) == 0)
                {
                    seq = 1;
                }
            }

        } else if (*p == '-'
                   && (p + 1 == last || p[1] == ' ' || p[1] == '\n'
                       || p[1] == '\r'))
        {
            if (count == n) {
                *start = p - data;

            } else if (count == n + 1) {
                *end = p - data;
            }

            count++;
        }

        p = ngx_strlchr(p, last, '\n');
        if (p == NULL) {
            break;
        }
    }

    return count;
}


/* "<cassette>.tmp": one at a time, under the file's lock */

static u_char *
ngx_http_mock_writer_tmp(ngx_http_mock_writer_t *writer, u_char *buf)
{
    u_char  *p;

    p = ngx_snprintf(buf, NGX_MAX_PATH - 1, "%V.tmp", &writer->name);
    *p = '\0';

    return buf;
}


/* 1: taken over from a worker that died holding it */

ngx_uint_t
ngx_http_mock_writer_lock(ngx_atomic_t *lock)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  holder;

    for ( ;; ) {

        for (i = 0; i < 2048; i++) {
            holder = *lock;

            if (holder == 0 && ngx_atomic_cmp_set(lock, 0, ngx_pid)) {
                return 0;
            }

            ngx_cpu_pause();
        }

        holder = *lock;

        if (holder
            && kill((ngx_pid_t) holder, 0) == -1 && ngx_errno == NGX_ESRCH
            && ngx_atomic_cmp_set(lock, holder, ngx_pid))
        {
            return 1;
        }

        ngx_sched_yield();
    }
}


void
ngx_http_mock_writer_unlock(ngx_atomic_t *lock)
{
    (void) ngx_atomic_cmp_set(lock, ngx_pid, 0);
}


static ngx_int_t
ngx_http_mock_write_at(ngx_fd_t fd, u_char *p, size_t len, off_t offset)
{
    struct iovec  iov;

    iov.iov_base = p;
    iov.iov_len = len;

    return ngx_http_mock_writev_at(fd, &iov, 1, offset);
}


/* all of the buffers, whatever part of them a write takes */

static ngx_int_t
ngx_http_mock_writev_at(ngx_fd_t fd, struct iovec *iov, ngx_uint_t n,
    off_t offset)
{
    ssize_t  w;

    for ( ;; ) {

        /* nothing to write is not a full disk */

        while (n && iov->iov_len == 0) {
            iov++;
            n--;
        }

        if (n == 0) {
            return NGX_OK;
        }

        w = pwritev(fd, iov, (int) n, offset);

        if (w == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return NGX_ERROR;
        }

        if (w == 0) {
            ngx_set_errno(NGX_ENOSPC);
            return NGX_ERROR;
        }

        offset += w;

        /* what the kernel took: the rest is written again */

        while (n && (size_t) w >= iov->iov_len) {
            w -= iov->iov_len;
            iov++;
            n--;
        }

        if (n) {
            iov->iov_base = (u_char *) iov->iov_base + w;
            iov->iov_len -= w;
        }
    }
}


/* one interaction as vcrpy writes it, then the "recorded" mark */

ngx_int_t
ngx_http_mock_yaml_entry(ngx_pool_t *pool, ngx_http_mock_record_t *rec,
    ngx_str_t *out)
{
    u_char  *p;
    size_t   len;

    len = sizeof("- request:\n    body: \n    headers:\n    method: \n"
                 "    uri: \n  response:\n    body:\n      string: \n"
                 "    headers:\n    status:\n      code: 000\n"
                 "      message: \n") - 1
          + ngx_http_mock_yaml_body_len(&rec->req_body)
          + ngx_http_mock_yaml_headers_len(&rec->req_headers)
          + ngx_http_mock_yaml_quote_len(&rec->key.method)
          + ngx_http_mock_yaml_quote_len(&rec->uri)
          + ngx_http_mock_yaml_body_len(&rec->body)
          + ngx_http_mock_yaml_headers_len(&rec->headers)
          + ngx_http_mock_yaml_quote_len(&rec->reason)
          + ngx_http_mock_yaml_extension_len(rec)
          + sizeof(NGX_HTTP_MOCK_RECORDED_MARK "\n") - 1
          + ngx_cached_http_log_iso8601.len;

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_http_mock_cpymem(p, "- request:\n    body: ", 21);

    if (rec->req_body.len) {
        p = ngx_http_mock_yaml_body(p, &rec->req_body);

    } else {
        p = ngx_http_mock_cpymem(p, "null", 4);
    }

    p = ngx_http_mock_cpymem(p, "\n    headers:", 13);
    p = ngx_http_mock_yaml_headers(p, &rec->req_headers, 6);
    p = ngx_http_mock_cpymem(p, "\n    method: ", 13);
    p = ngx_http_mock_yaml_quote(p, &rec->key.method, 0);
    p = ngx_http_mock_cpymem(p, "\n    uri: ", 10);
    p = ngx_http_mock_yaml_quote(p, &rec->uri, 0);
    p = ngx_http_mock_cpymem(p, "\n  response:\n    body:\n      string: ", 37);
    p = ngx_http_mock_yaml_body(p, &rec->body);
    p = ngx_http_mock_cpymem(p, "\n    headers:", 13);
    p = ngx_http_mock_yaml_headers(p, &rec->headers, 6);
    p = ngx_http_mock_cpymem(p, "\n    status:\n      code: ", 25);

    /* a status is 3 digits: the cassette loader takes 200 to 999 */
    *p++ = (u_char) ('0' + rec->status / 100 % 10);
    *p++ = (u_char) ('0' + rec->status / 10 % 10);
    *p++ = (u_char) ('0' + rec->status % 10);

    p = ngx_http_mock_cpymem(p, "\n      message: ", 16);
    p = ngx_http_mock_yaml_quote(p, &rec->reason, 0);
    p = ngx_http_mock_yaml_extension(p, rec);
    p = ngx_http_mock_cpymem(p, "\n" NGX_HTTP_MOCK_RECORDED_MARK,
                             sizeof("\n" NGX_HTTP_MOCK_RECORDED_MARK) - 1);
    p = ngx_cpymem(p, ngx_cached_http_log_iso8601.data,
                   ngx_cached_http_log_iso8601.len);
    *p++ = '\n';

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The interaction's extension key, which vcrpy ignores:
 *
 *   x_mock:
 *     recorded: '2026-12-01T08:00:00Z'
 *     stream: "1764576000000-0"
 *     templated: ["$.id", "header Location"]
 *     timing: {wait: 12, receive: 340}
 *     chunks:
 *     - {at: 0, size: 9}
 *
 * "stream" is the entry of the fleet's stream that brought a recording
 * of another instance.
 */

static size_t
ngx_http_mock_yaml_extension_len(ngx_http_mock_record_t *rec)
{
    size_t      len;
    ngx_str_t  *t;
    ngx_uint_t  i;

    if (rec->recorded == 0 && rec->stream.len == 0
        && rec->latency.type == NGX_HTTP_MOCK_LATENCY_UNSET && !rec->stale
        && (rec->templated == NULL || rec->templated->nelts == 0)
        && !rec->timing.timed && rec->timing.nchunks == 0)
    {
        return 0;
    }

    /* a year past 9999 has more digits */

    len = sizeof("\n  x_mock:\n    recorded: '1970-01-01T00:00:00Z'"
                 "\n    stream: \n    templated: []") - 1 + NGX_INT_T_LEN
          + ngx_http_mock_yaml_quote_len(&rec->stream)
          + sizeof("\n    latency: 'lognormal median=ms sigma= seed='") - 1
          + sizeof("\n    stale: true") - 1
          + 4 * NGX_INT_T_LEN;

    if (rec->templated) {
        t = rec->templated->elts;

        for (i = 0; i < rec->templated->nelts; i++) {
            len += sizeof(", ") - 1 + ngx_http_mock_yaml_quote_len(&t[i]);
        }
    }

    len += sizeof("\n    timing: {wait: , receive: }") - 1
           + 2 * NGX_INT_T_LEN
           + sizeof("\n    chunks:") - 1
           + rec->timing.nchunks * (sizeof("\n    - {at: , size: }") - 1
                                    + NGX_INT_T_LEN + NGX_SIZE_T_LEN);

    return len;
}


static u_char *
ngx_http_mock_yaml_extension(u_char *p, ngx_http_mock_record_t *rec)
{
    ngx_tm_t    tm;
    ngx_str_t  *t;
    ngx_uint_t  i;

    /* recordings come many a second: the time is formatted once for each */

    static time_t   last;
    static size_t   len;
    static u_char   text[sizeof("\n    recorded: '1970-01-01T00:00:00Z'")
                         + NGX_INT_T_LEN];

    if (rec->recorded == 0 && rec->stream.len == 0
        && rec->latency.type == NGX_HTTP_MOCK_LATENCY_UNSET && !rec->stale
        && (rec->templated == NULL || rec->templated->nelts == 0)
        && !rec->timing.timed && rec->timing.nchunks == 0)
    {
        return p;
    }

    p = ngx_http_mock_cpymem(p, "\n  x_mock:", 10);

    if (rec->recorded) {
        if (rec->recorded != last || len == 0) {
            ngx_gmtime(rec->recorded, &tm);

            len = ngx_sprintf(text,
                              "\n    recorded: '%4d-%02d-%02dT%02d:%02d:%02dZ'",
                              tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                              tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec)
                  - text;
            last = rec->recorded;
        }

        p = ngx_cpymem(p, text, len);
    }

    if (rec->stale) {
        p = ngx_cpymem(p, "\n    stale: true",
                       sizeof("\n    stale: true") - 1);
    }

    if (rec->latency.type != NGX_HTTP_MOCK_LATENCY_UNSET) {
        p = ngx_http_mock_cpymem(p, "\n    latency: '", 15);
        p = ngx_http_mock_latency_print(p, &rec->latency);
        *p++ = '\'';
    }

    if (rec->stream.len) {
        p = ngx_http_mock_cpymem(p, "\n    stream: ", 13);
        p = ngx_http_mock_yaml_quote(p, &rec->stream, 0);
    }

    if (rec->templated && rec->templated->nelts) {
        p = ngx_http_mock_cpymem(p, "\n    templated: [", 17);
        t = rec->templated->elts;

        for (i = 0; i < rec->templated->nelts; i++) {
            if (i) {
                *p++ = ','; *p++ = ' ';
            }

            p = ngx_http_mock_yaml_quote(p, &t[i], 0);
        }

        *p++ = ']';
    }

    /* in HAR's terms: "wait" from the connect on, as nginx measures it */

    if (rec->timing.timed) {
        p = ngx_sprintf(p, "\n    timing: {wait: %M, receive: %M}",
                        rec->timing.header, rec->timing.body);
    }

    if (rec->timing.nchunks) {
        p = ngx_cpymem(p, "\n    chunks:", sizeof("\n    chunks:") - 1);

        for (i = 0; i < rec->timing.nchunks; i++) {
            p = ngx_sprintf(p, "\n    - {at: %M, size: %uz}",
                            rec->timing.chunks[i].at,
                            rec->timing.chunks[i].len);
        }
    }

    return p;
}


/*
 * headers:
 *   "Name":
 *   - "value"
 *
 * A name that repeats gets all its values in one list, in order.
 */

static size_t
ngx_http_mock_yaml_headers_len(ngx_array_t *headers)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    len = sizeof(" {}") - 1;
    h = headers->elts;

    for (i = 0; i < headers->nelts; i++) {
        len += sizeof("\n      :\n      - ") - 1
               + ngx_http_mock_yaml_quote_len(&h[i].key)
               + ngx_http_mock_yaml_quote_len(&h[i].value);
    }

    return len;
}


static u_char *
ngx_http_mock_yaml_headers(u_char *p, ngx_array_t *headers, ngx_uint_t indent)
{
    uint64_t          seen, bit;
    ngx_uint_t        i, j;
    ngx_table_elt_t  *h;

    h = headers->elts;

    if (headers->nelts == 0) {
        return ngx_http_mock_cpymem(p, " {}", 3);
    }

    /*
     * Names that differ in length or first letter do not repeat: where
     * none share a bit for those, each header is written as it comes.
     */

    seen = 0;

    for (i = 0; i < headers->nelts; i++) {
        bit = (uint64_t) 1 << ((h[i].key.len * 7
                                + (h[i].key.len
                                   ? ngx_tolower(h[i].key.data[0]) : 0))
                               & 63);

        if (seen & bit) {
            break;
        }

        seen |= bit;
    }

    if (i == headers->nelts) {
        for (i = 0; i < headers->nelts; i++) {
            *p++ = '\n';
            p = ngx_http_mock_cpymem(p, "            ", indent);
            p = ngx_http_mock_yaml_quote(p, &h[i].key, 0);
            *p++ = ':';
            *p++ = '\n';
            p = ngx_http_mock_cpymem(p, "            ", indent);
            *p++ = '-'; *p++ = ' ';
            p = ngx_http_mock_yaml_quote(p, &h[i].value, 0);
        }

        return p;
    }

    for (i = 0; i < headers->nelts; i++) {

        for (j = 0; j < i; j++) {
            if (ngx_http_mock_yaml_same_name(&h[j], &h[i])) {
                break;
            }
        }

        if (j < i) {
            /* listed with the first header of that name */
            continue;
        }

        *p++ = '\n';
        p = ngx_http_mock_cpymem(p, "            ", indent);
        p = ngx_http_mock_yaml_quote(p, &h[i].key, 0);
        *p++ = ':';

        for (j = i; j < headers->nelts; j++) {
            if (j > i && !ngx_http_mock_yaml_same_name(&h[j], &h[i])) {
                continue;
            }

            *p++ = '\n';
            p = ngx_http_mock_cpymem(p, "            ", indent);
            *p++ = '-'; *p++ = ' ';
            p = ngx_http_mock_yaml_quote(p, &h[j].value, 0);
        }
    }

    return p;
}


/* text as a quoted string, anything else as !!binary */

static size_t
ngx_http_mock_yaml_body_len(ngx_str_t *body)
{
    return ngx_max(ngx_http_mock_yaml_quote_len(body),
                   sizeof("!!binary \"\"") - 1
                   + ngx_base64_encoded_length(body->len));
}


static u_char *
ngx_http_mock_yaml_body(u_char *p, ngx_str_t *body)
{
    u_char     *q;
    ngx_str_t   b64;

    q = ngx_http_mock_yaml_quote(p, body, 1);
    if (q) {
        return q;
    }

    p = ngx_http_mock_cpymem(p, "!!binary \"", 10);

    b64.data = p;
    ngx_encode_base64(&b64, body);

    p += b64.len;
    *p++ = '"';

    return p;
}


/* what YAML can hold in a scalar as it is */

static ngx_int_t
ngx_http_mock_yaml_printable(uint32_t c)
{
    return c == 0x85
           || (c >= 0xa0 && c <= 0xd7ff)
           || (c >= 0xe000 && c <= 0xfffd && c != 0xfeff)
           || (c >= 0x10000 && c <= 0x10ffff);
}


static size_t
ngx_http_mock_yaml_quote_len(ngx_str_t *s)
{
    /* the worst case: every byte escaped as \xNN */
    return 2 + 4 * s->len;
}


/*
 * A double-quoted scalar.  Quote, backslash, control characters and the
 * line breaks that YAML would fold are escaped; a byte that is not part
 * of valid UTF-8 becomes \xNN, the character of that number.
 *
 * With "text", only text is written: valid UTF-8 without control
 * characters other than white space.  Anything else gives NULL, and the
 * caller writes !!binary instead; the string is scanned once either way.
 */

static u_char *
ngx_http_mock_yaml_quote(u_char *p, ngx_str_t *s, ngx_uint_t text)
{
    u_char    *q, *next, *last;
    size_t     n;
    uint32_t   c, u, w;
    uint64_t   x, y, m;
#if (NGX_HTTP_MOCK_SSE2)
    __m128i    v;
#endif

    static u_char  hex[] = "0123456789abcdef";

    *p++ = '"';

    q = s->data;
    last = s->data + s->len;

    for ( ;; ) {

        /*
         * Most bytes need no escape: they are copied 16 at a time, each
         * block whole, as the room for the worst case allows.  A quote
         * or a backslash, common in JSON, is escaped in the loop.
         */

#if (NGX_HTTP_MOCK_SSE2)

        while (last - q >= 16) {
            v = _mm_loadu_si128((__m128i *) q);
            _mm_storeu_si128((__m128i *) p, v);

            m = ngx_http_mock_yaml_special16(v);

            if (m == 0) {
                p += 16;
                q += 16;
                continue;
            }

            n = __builtin_ctz((unsigned int) m);
            p += n;
            q += n;

            if (*q != '"' && *q != '\\') {
                break;
            }

            p[0] = '\\';
            p[1] = *q++;
            p += 2;
        }

#else

        while (last - q >= 16) {
            ngx_memcpy(&x, q, 8);
            ngx_memcpy(p, &x, 8);

            m = ngx_http_mock_yaml_special8(x);

            if (m) {
#if (NGX_HAVE_LITTLE_ENDIAN && defined __GNUC__)
                n = __builtin_ctzll(m) >> 3;
#else
                n = 0;
#endif
                p += n;
                q += n;
                break;
            }

            p += 8;
            q += 8;
        }

#endif

        /*
         * Fewer than 16 bytes left: two words, which may overlap, are
         * read and written within the string when neither needs an
         * escape.
         */

        n = last - q;

        if (n >= 8 && n < 16) {
            ngx_memcpy(&x, q, 8);
            ngx_memcpy(&y, last - 8, 8);

#if (NGX_HTTP_MOCK_SSE2)
            v = _mm_set_epi64x(y, x);
            m = ngx_http_mock_yaml_special16(v);
#else
            m = ngx_http_mock_yaml_special8(x)
                | ngx_http_mock_yaml_special8(y);
#endif

            if (m == 0) {
                ngx_memcpy(p, &x, 8);
                ngx_memcpy(p + n - 8, &y, 8);
                p += n;
                break;
            }

        } else if (n >= 4 && n < 8) {
            ngx_memcpy(&u, q, 4);
            ngx_memcpy(&w, last - 4, 4);

            x = u | ((uint64_t) w << 32);

            if (ngx_http_mock_yaml_special8(x) == 0) {
                ngx_memcpy(p, &u, 4);
                ngx_memcpy(p + n - 4, &w, 4);
                p += n;
                break;
            }
        }

        while (q < last && ngx_http_mock_yaml_plain(*q)) {
            *p++ = *q++;
        }

        if (q == last) {
            break;
        }

        switch (*q) {

        case '"':
        case '\\':
            *p++ = '\\';
            *p++ = *q++;
            continue;

        case '\n':
            *p++ = '\\'; *p++ = 'n';
            q++;
            continue;

        case '\r':
            *p++ = '\\'; *p++ = 'r';
            q++;
            continue;

        case '\t':
            *p++ = '\\'; *p++ = 't';
            q++;
            continue;
        }

        if (*q >= 0x80) {
            next = q;
            c = ngx_utf8_decode(&next, last - q);

            if (ngx_http_mock_yaml_printable(c) && c != 0x85) {
                p = ngx_cpymem(p, q, next - q);
                q = next;
                continue;
            }

            if (text) {
                return NULL;
            }

            if (c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff)) {

                if (c <= 0xffff) {
                    p = ngx_sprintf(p, "\\u%04xD", c);

                } else {
                    p = ngx_sprintf(p, "\\U%08xD", c);
                }

                q = next;
                continue;
            }

        } else if (text) {
            return NULL;
        }

        *p++ = '\\'; *p++ = 'x';
        *p++ = hex[*q >> 4];
        *p++ = hex[*q & 0xf];
        q++;
    }

    *p++ = '"';

    return p;
}
