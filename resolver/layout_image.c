/* The bytes of a layout entry as an image: what the mount serves and materialize writes, so
 * both go through this one function. */
#include "bundlefs/layout.h"

int layout_entry_image(const layout_entry *e, int src_fd, arena *a, image **out, bf_err *err)
{
    image *im;
    switch (e->type) {
    case LAYOUT_FILE:
        if (src_fd < 0)
            return err_set(err, "%s: its source %s is not open", e->path, e->source);
        if (e->has_edit) {
            elf_rewrite_result res;
            return elf_rewrite(src_fd, e->size, e->source, &e->edit, a, out, &res, err);
        }
        im = image_new(a, src_fd, e->source);
        image_add_source(im, 0, e->size);
        break;
    case LAYOUT_GENERATED:
        im = image_new(a, -1, NULL);
        image_add_bytes(im, e->content, e->content_len);
        break;
    default:
        return err_set(err, "%s: a %s has no bytes", e->path,
                       e->type == LAYOUT_DIR ? "directory" : "symlink");
    }
    if (image_check(im, err) != BF_OK)
        return BF_FAIL;
    *out = im;
    return BF_OK;
}
