/* Linked into every scenario executable: reports what the real ld.so bound.
 *
 * Output (stdout, one record per line, tab-separated):
 *   SECURE  <AT_SECURE>
 *   OBJ     <l_name>                          link map at start of main
 *   EDGE    <requester> <needed> <l_name|?|!why>  every DT_NEEDED of every
 *           object; ? = the name has a DST, so it cannot be asked by name;
 *           !why = the loader did not answer (a reporter failure)
 *   DLOPEN  <caller> <name> <l_name|ERROR: dlerror()>
 *   EDGE    ...                               for objects the dlopen calls added
 *   FINAL   <l_name>                          link map at the end
 * The main program is printed as "<exe>" (its l_name is "" or the path given
 * to an explicit ld.so invocation).
 *
 * Arguments come in pairs CALLER NAME: CALLER "-" makes the executable call
 * dlopen(NAME); otherwise CALLER is a loaded object (path or SONAME) whose
 * fixture_dlopen(), compiled from fixture_lib.c, makes the call so that
 * ld.so sees that library as the caller.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

typedef void *(*reporter_dlopen_fn)(const char *name);

static struct link_map *reporter_main;

static const char *reporter_name(const struct link_map *lm)
{
    return lm == reporter_main ? "<exe>" : lm->l_name;
}

static struct link_map *reporter_map_of(void *handle)
{
    struct link_map *lm = NULL;
    if (handle == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0)
        return NULL;
    return lm;
}

/* ld.so relocates d_ptr in writable dynamic sections but not in read-only
 * ones (the vDSO); an address below the load base is still unrelocated. */
static const char *reporter_strtab(const struct link_map *lm)
{
    for (const ElfW(Dyn) *d = lm->l_ld; d != NULL && d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_STRTAB) {
            ElfW(Addr) p = d->d_un.d_ptr;
            if (p < lm->l_addr)
                p += lm->l_addr;
            return (const char *)p;
        }
    }
    return NULL;
}

/* RTLD_NOLOAD answers with the object the loader's already-loaded check
 * finds for this name, which is the object the DT_NEEDED entry was bound to:
 * every processed name is the l_name, a recorded name or the SONAME of its
 * object. DST names were stored expanded, so they cannot be asked this way. */
static void reporter_print_edges(const struct link_map *lm)
{
    const char *strtab = reporter_strtab(lm);
    if (strtab == NULL)
        return;
    for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
        if (d->d_tag != DT_NEEDED)
            continue;
        const char *needed = strtab + d->d_un.d_val;
        if (strchr(needed, '$') != NULL) {
            printf("EDGE\t%s\t%s\t?\n", reporter_name(lm), needed);
            continue;
        }
        void *h = dlopen(needed, RTLD_NOLOAD | RTLD_LAZY);
        const struct link_map *target = reporter_map_of(h);
        if (target != NULL)
            printf("EDGE\t%s\t%s\t%s\n", reporter_name(lm), needed, reporter_name(target));
        else
            printf("EDGE\t%s\t%s\t!%s\n", reporter_name(lm), needed,
                   h == NULL ? dlerror() : "dlinfo failed");
    }
}

static void reporter_print_objects(const char *tag)
{
    for (const struct link_map *lm = reporter_main; lm != NULL; lm = lm->l_next)
        printf("%s\t%s\n", tag, reporter_name(lm));
}

static int reporter_count_objects(void)
{
    int n = 0;
    for (const struct link_map *lm = reporter_main; lm != NULL; lm = lm->l_next)
        n++;
    return n;
}

static void reporter_print_result(const char *caller, const char *name, void *h)
{
    const struct link_map *lm = reporter_map_of(h);
    if (lm != NULL)
        printf("DLOPEN\t%s\t%s\t%s\n", caller, name, reporter_name(lm));
    else
        printf("DLOPEN\t%s\t%s\tERROR: %s\n", caller, name, h == NULL ? dlerror() : "dlinfo failed");
}

static void reporter_dlopen_from(const char *caller, const char *name)
{
    void *owner = dlopen(caller, RTLD_NOLOAD | RTLD_LAZY);
    const struct link_map *lm = reporter_map_of(owner);
    reporter_dlopen_fn fn = owner == NULL ? NULL : (reporter_dlopen_fn)dlsym(owner, "fixture_dlopen");
    if (lm == NULL || fn == NULL) {
        printf("DLOPEN\t%s\t%s\tERROR: reporter: caller not loaded or has no fixture_dlopen\n",
               caller, name);
        return;
    }
    reporter_print_result(reporter_name(lm), name, fn(name));
}

int main(int argc, char **argv)
{
    reporter_main = reporter_map_of(dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD));
    if (reporter_main == NULL) {
        fprintf(stderr, "reporter: cannot find the main link map: %s\n", dlerror());
        return 2;
    }
    printf("SECURE\t%lu\n", getauxval(AT_SECURE));
    reporter_print_objects("OBJ");
    for (const struct link_map *lm = reporter_main; lm != NULL; lm = lm->l_next)
        reporter_print_edges(lm);

    int before = reporter_count_objects();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-") == 0)
            reporter_print_result("<exe>", argv[i + 1], dlopen(argv[i + 1], RTLD_LAZY));
        else
            reporter_dlopen_from(argv[i], argv[i + 1]);
    }
    int index = 0;
    for (const struct link_map *lm = reporter_main; lm != NULL; lm = lm->l_next)
        if (index++ >= before)
            reporter_print_edges(lm);
    reporter_print_objects("FINAL");
    return fflush(stdout) == 0 ? 0 : 2;
}
