/* Reads bundle.json. The file may come from anywhere (a bundle is copied between machines),
 * so nothing in it is trusted: the JSON parser bounds nesting and refuses integers it cannot
 * hold, every member is type-checked, and the result passes layout_validate before anyone
 * sees it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout_internal.h"

/* Duplicate keys are refused, not resolved to one of them; without JSON_DECODE_ANY the
 * document must be an object or a list, and without JSON_DISABLE_EOF_CHECK nothing may follow
 * it. jansson stops nesting at JSON_PARSER_MAX_DEPTH, so no input recurses deeply. */
enum { LAYOUT_JSON_FLAGS = JSON_REJECT_DUPLICATES };

static int layout_from_json(const json_t *root, const char *name, arena *a, layout *out,
                            bf_err *err)
{
    const json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "bundlefs-layout"))
        return err_set(err, "%s: not a bundlefs layout (\"format\" is not \"bundlefs-layout\")",
                       name);
    if (!json_is_integer(ver) || json_integer_value(ver) != LAYOUT_FORMAT_VERSION)
        return err_set(err, "%s: layout format version %s is not supported (this bundlefs "
                            "reads version %d); run bundlefs build again with this bundlefs",
                       name, json_is_integer(ver)
                                 ? arena_printf(a, "%lld", (long long)json_integer_value(ver))
                                 : "(missing)",
                       LAYOUT_FORMAT_VERSION);
    out->version = LAYOUT_FORMAT_VERSION;
    if (layout_fields_from_json(root, layout_fields, out, a, name, err))
        return BF_FAIL;
    return layout_validate(out, name, err);
}

static int layout_from_loaded(json_t *root, const json_error_t *je, const char *name, arena *a,
                              layout *out, bf_err *err)
{
    memset(out, 0, sizeof *out);
    if (!root)
        return err_set(err, "%s: not a readable layout (line %d, column %d: %s); run bundlefs "
                            "build again", name, je->line, je->column, je->text);
    int rc = json_is_object(root) ? layout_from_json(root, name, a, out, err)
                                  : err_set(err, "%s: not a bundlefs layout (not a JSON "
                                                 "object)", name);
    json_decref(root);
    return rc;
}

int layout_read_buffer(const char *buf, size_t len, const char *name, arena *a, layout *out,
                       bf_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(buf, len, LAYOUT_JSON_FLAGS, &je);
    return layout_from_loaded(root, &je, name, a, out, err);
}

int layout_read_file(const char *path, arena *a, layout *out, bf_err *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(err, "%s: cannot open the layout: %s", path, strerror(errno));
    /* a FIFO or a device could block or never end */
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: not a regular file, so not a layout", path);
    }
    /* through stdio: json_loadfd reads a byte per system call */
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return err_set(err, "%s: cannot read the layout: out of memory", path);
    }
    json_error_t je;
    json_t *root = json_loadf(f, LAYOUT_JSON_FLAGS, &je);
    fclose(f);
    return layout_from_loaded(root, &je, path, a, out, err);
}
