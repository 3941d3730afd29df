
/*
 * Secrets read from files while the configuration is read: the file's
 * content without its last line end ("\n" or "\r\n"), never logged.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_SECRET_MAX  4096


/*
 * NGX_CONF_OK, with the file's full name in path; or an error said
 * against the directive's line
 */

char *
ngx_http_mock_secret_read(ngx_conf_t *cf, ngx_str_t *path, const char *what,
    ngx_str_t *secret)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        name;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mock: %s \"%V\" cannot be opened", what, &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_HTTP_MOCK_SECRET_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mock: %s \"%V\" cannot be read or is larger "
                           "than %d bytes", what, &name,
                           NGX_HTTP_MOCK_SECRET_MAX);
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    secret->data = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (secret->data == NULL) {
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    n = ngx_read_file(&file, secret->data, ngx_file_size(&fi), 0);

    (void) ngx_close_file(fd);

    if (n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mock: %s \"%V\" cannot be read", what, &name);
        return NGX_CONF_ERROR;
    }

    /* one line end, "\n" or "\r\n", as an editor leaves it; no more */

    if (n && secret->data[n - 1] == '\n') {
        n--;

        if (n && secret->data[n - 1] == '\r') {
            n--;
        }
    }

    secret->len = n;
    secret->data[n] = '\0';

    *path = name;

    return NGX_CONF_OK;
}
