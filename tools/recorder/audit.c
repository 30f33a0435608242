/* The LD_AUDIT callbacks: every decision of the loader, as it makes it. la_objsearch gives
 * the name asked for and each candidate path with its search step, la_objopen the object
 * that was mapped, la_objclose a dlclose, la_activity the end of a batch of loads. Loads of
 * an object that is already mapped never reach the audit interface, so the dlopen and
 * dlmopen entries are redirected (la_symbind) through a hook that notes name and caller
 * first; see dlopen_hook_x86_64.S. */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder.h"

/* Objects are kept in fixed chunks that never move: the dlopen hook reads the table without
 * the loader's lock while la_objopen appends to it. */
enum { OBJ_CHUNK = 512, OBJ_CHUNKS = 1024 };

typedef struct rec_obj {
    const struct link_map *map;
} rec_obj;

static rec_obj *obj_chunks[OBJ_CHUNKS];
static long obj_count;
static int recorder_exiting;

void *recorder_real_dlopen;
void *recorder_real_dlmopen;

static long obj_add(const struct link_map *map)
{
    long idx = obj_count;
    if (idx >= (long)OBJ_CHUNK * OBJ_CHUNKS)
        return -1;
    rec_obj **chunk = &obj_chunks[idx / OBJ_CHUNK];
    if (!*chunk) {
        *chunk = calloc(OBJ_CHUNK, sizeof **chunk);
        if (!*chunk)
            return -1;
    }
    (*chunk)[idx % OBJ_CHUNK].map = map;
    __atomic_store_n(&obj_count, idx + 1, __ATOMIC_RELEASE);
    return idx;
}

long recorder_object_of_map(const void *map)
{
    for (long i = __atomic_load_n(&obj_count, __ATOMIC_ACQUIRE) - 1; i >= 0; i--)
        if (obj_chunks[i / OBJ_CHUNK][i % OBJ_CHUNK].map == map)
            return i;
    return -1;
}

static long cookie_object(const uintptr_t *cookie)
{
    return cookie && *cookie < (uintptr_t)__atomic_load_n(&obj_count, __ATOMIC_ACQUIRE)
               ? (long)*cookie
               : -1;
}

RECORDER_EXPORT unsigned int la_version(unsigned int version)
{
    if (version == 0 || !rec_init())
        return 0;
    return version < LAV_CURRENT ? version : LAV_CURRENT;
}

/* Whether the object is where the program's dlopen and dlmopen live (libc since glibc
 * 2.34, libdl before). */
static int obj_defines_dlopen(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return !strncmp(base, "libc.so.", 8) || !strncmp(base, "libdl.so.", 9);
}

RECORDER_EXPORT unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
    long idx = obj_add(map);
    *cookie = idx >= 0 ? (uintptr_t)idx : UINTPTR_MAX;

    const char *name = map->l_name ? map->l_name : "";
    /* The main program's l_name is empty; its file is the one the kernel executed. */
    char exe[PATH_MAX];
    const char *file = name;
    if (!*name && idx == 0) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        file = exe;
    }
    struct stat st;
    int have_st = *file && stat(file, &st) == 0;
    char *real = *file ? realpath(file, NULL) : NULL;

    rec_line l;
    rec_begin_event(&l, 'O');
    rec_num(&l, idx);
    rec_num(&l, lmid);
    rec_unum(&l, have_st ? (unsigned long long)st.st_dev : 0);
    rec_unum(&l, have_st ? (unsigned long long)st.st_ino : 0);
    rec_str(&l, name);
    rec_str(&l, real);
    rec_emit(&l);
    free(real);

    unsigned int flags = LA_FLG_BINDFROM;
    if (obj_defines_dlopen(name))
        flags |= LA_FLG_BINDTO;
    return flags;
}

RECORDER_EXPORT char *la_objsearch(const char *name, uintptr_t *cookie, unsigned int flag)
{
    rec_line l;
    rec_begin_event(&l, 'S');
    rec_num(&l, cookie_object(cookie));
    rec_unum(&l, flag);
    rec_str(&l, name);
    rec_emit(&l);
    return (char *)name;
}

RECORDER_EXPORT void la_activity(uintptr_t *cookie, unsigned int flag)
{
    if (recorder_exiting)
        return;
    rec_line l;
    rec_begin_event(&l, 'A');
    rec_num(&l, cookie_object(cookie));
    rec_unum(&l, flag);
    rec_emit(&l);
    if (flag == LA_ACT_CONSISTENT)
        rec_flush();
}

RECORDER_EXPORT unsigned int la_objclose(uintptr_t *cookie)
{
    /* At exit the loader reports every object as closed; only a dlclose is a fact. */
    if (recorder_exiting)
        return 0;
    rec_line l;
    rec_begin_event(&l, 'C');
    rec_num(&l, cookie_object(cookie));
    rec_emit(&l);
    return 0;
}

RECORDER_EXPORT void la_preinit(uintptr_t *cookie)
{
    rec_line l;
    rec_begin_event(&l, 'P');
    rec_emit(&l);
    rec_flush();
}

#if defined(__x86_64__)
RECORDER_EXPORT uintptr_t la_symbind64(Elf64_Sym *sym, unsigned int ndx, uintptr_t *refcook,
                       uintptr_t *defcook, unsigned int *flags, const char *symname)
{
    void *target = (void *)sym->st_value;
    void **real = NULL;
    void (*entry)(void) = NULL;
    if (!strcmp(symname, "dlopen")) {
        real = &recorder_real_dlopen;
        entry = recorder_dlopen_entry;
    } else if (!strcmp(symname, "dlmopen")) {
        real = &recorder_real_dlmopen;
        entry = recorder_dlmopen_entry;
    }
    if (!real)
        return sym->st_value;
    void *expected = NULL;
    /* One hook per function: a second, different definition stays unhooked. */
    if (!__atomic_compare_exchange_n(real, &expected, target, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE) &&
        expected != target)
        return sym->st_value;
    return (uintptr_t)entry;
}
#endif

static void note_call(long lmid, const char *file, long mode, void *caller)
{
    if (!file)
        return; /* dlopen(NULL) names the main program: nothing is loaded */
    Dl_info info;
    struct link_map *map = NULL;
    long from = -1;
    if (dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) && map)
        from = recorder_object_of_map(map);
    rec_line l;
    rec_begin_event(&l, 'D');
    rec_num(&l, from);
    rec_num(&l, lmid);
    rec_num(&l, mode);
    rec_str(&l, file);
    rec_emit(&l);
    rec_flush();
}

void recorder_note_dlopen(const char *file, long mode, void *caller)
{
    note_call(LM_ID_BASE, file, mode, caller);
}

void recorder_note_dlmopen(long lmid, const char *file, long mode, void *caller)
{
    note_call(lmid, file, mode, caller);
}

__attribute__((destructor)) static void recorder_exit(void)
{
    rec_line l;
    rec_begin_event(&l, 'X');
    rec_emit(&l);
    recorder_exiting = 1;
    rec_flush();
}
