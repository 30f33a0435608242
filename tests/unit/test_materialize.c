/* Materialize against the facts on disk: every written file must hold exactly the bytes of its
 * entry's image (read back with image_read, the mount's path), the plain copies must equal
 * their sources, the rewritten library must show its new RPATH to readelf, and modes and
 * nanosecond times must be the layout's. Failures (an existing DEST, a changed or missing
 * source, a layout breaking the rules, a full disk) must leave the destination's folder as it
 * was; inotify proves that the refusals happen before anything is created there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundlefs/layout.h"
#include "bundlefs/materialize.h"
#include "test_util.h"

static char *base; /* every file of the tests, removed at the end */
static int outs;   /* output folders made so far */

static const char fake_hash[] = "0123456789abcdef0123456789abcdef";
static const char launcher[] = "#!/bin/sh\nexec \"${0%/*}/b/app\" \"$@\"\n";
static const char rpath[] = "$ORIGIN/../../symlinks/libtiny-0123456789abcdef.so";

enum { BIG_LEN = 2 << 20 };

static char *path_in(const char *dir, const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static int64_t stat_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void set_mtime_ns(const char *path, int64_t ns)
{
    struct timespec t = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    assert_int_equal(utimensat(AT_FDCWD, path, (struct timespec[2]){t, t}, 0), 0);
}

/* Sources with times of their own, so a copied time cannot be the time of writing. */
static int setup(void **state)
{
    umask(022);
    base = test_tmpdir("materialize");
    test_run("cd '%s' && mkdir src && head -c 100000 /dev/urandom > src/plain && "
             ": > src/empty && head -c %d /dev/urandom > src/big && "
             "printf 'int tiny(void) { return 42; }\\n' > tiny.c && "
             "gcc -shared -fPIC -Wl,-soname,libtiny.so -o src/libtiny.so tiny.c && "
             "printf '{\"format\": \"bundlefs-layout\"}\\n' > bundle-in.json",
             base, BIG_LEN);
    static const char *const srcs[] = {"src/plain", "src/empty", "src/big", "src/libtiny.so"};
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        char *p = path_in(base, srcs[i]);
        set_mtime_ns(p, 1600000000123456789 + (int64_t)i);
        free(p);
    }
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(base);
    return 0;
}

/* ---- Layouts built in memory */

typedef struct builder {
    arena *a;
    layout l;
    size_t cap;
} builder;

static layout_entry *add(builder *b, const char *path, enum layout_type type, uint32_t mode,
                         int64_t mtime_ns)
{
    layout_entry e = {.path = arena_strdup(b->a, path), .type = type, .mode = mode,
                      .mtime_ns = mtime_ns};
    arena_push(b->a, &b->l.entries, &b->l.nentries, &b->cap, &e, sizeof e);
    return &b->l.entries[b->l.nentries - 1];
}

static layout_entry *add_file(builder *b, const char *path, const char *source, uint32_t mode)
{
    struct stat st;
    assert_int_equal(stat(source, &st), 0);
    layout_entry *e = add(b, path, LAYOUT_FILE, mode, stat_mtime_ns(&st));
    e->source = arena_strdup(b->a, source);
    e->size = (uint64_t)st.st_size;
    memcpy(e->hash, fake_hash, sizeof e->hash);
    return e;
}

static void add_symlink(builder *b, const char *path, const char *target)
{
    add(b, path, LAYOUT_SYMLINK, 0777, 0)->target = arena_strdup(b->a, target);
}

static void add_generated(builder *b, const char *path, const char *content, uint32_t mode,
                          int64_t mtime_ns)
{
    layout_entry *e = add(b, path, LAYOUT_GENERATED, mode, mtime_ns);
    e->content = content;
    e->content_len = strlen(content);
}

/* Every layout has what a real one starts with: bin/ and its launcher. */
static builder *builder_new(void)
{
    arena *a = arena_new();
    builder *b = arena_alloc(a, sizeof *b);
    b->a = a;
    b->l = (layout){.version = LAYOUT_FORMAT_VERSION, .name = "app",
                    .platform = "linux-x86_64", .launcher = "bin/app"};
    add(b, "bin", LAYOUT_DIR, 0755, 1500000000000000001);
    add_generated(b, "bin/app", launcher, 0755, 1500000000000000002);
    return b;
}

static char *src(const char *name)
{
    return path_in(base, name);
}

/* A layout with one of each kind, odd modes and times (one before 1970), and a folder whose
 * mode forbids writing into it. */
static builder *full_layout(void)
{
    builder *b = builder_new();
    char *plain = src("src/plain"), *empty = src("src/empty"), *lib = src("src/libtiny.so");
    add(b, "reals", LAYOUT_DIR, 0755, 1500000000000000003);
    add(b, "reals/r", LAYOUT_DIR, 0750, 1500000000000000004);
    add_file(b, "reals/r/plain", plain, 0640);
    add_file(b, "reals/r/empty", empty, 0444);
    layout_entry *e = add_file(b, "reals/r/libtiny-0123456789abcdef.so", lib, 0755);
    e->has_edit = true;
    e->edit.rpath = rpath;
    add(b, "ro", LAYOUT_DIR, 0555, -1500000000);
    add_file(b, "ro/inside", plain, 0600);
    add_generated(b, "ro/old", "made before 1970\n", 0644, -2500000001);
    add_symlink(b, "ro/link", "../reals/r/plain");
    add_symlink(b, "bin/tiny", "../reals/r/libtiny-0123456789abcdef.so");
    free(plain);
    free(empty);
    free(lib);
    return b;
}

static void builder_free(builder *b)
{
    arena_free(b->a);
}

/* ---- The destination's folder */

/* A new empty folder to materialize into (as parent/dest). */
static char *fresh_parent(void)
{
    char name[32];
    snprintf(name, sizeof name, "out-%d", outs++);
    char *p = path_in(base, name);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* Watches dir for anything created or moved into it. */
static int watch(const char *dir)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(fd >= 0);
    assert_true(inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) >= 0);
    return fd;
}

static void assert_nothing_created(int fd)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0)
        fail_msg("materialize created %s before failing",
                 ((struct inotify_event *)(void *)buf)->name);
    assert_int_equal(errno, EAGAIN);
    close(fd);
}

/* fs_materialize must fail with a message holding want, before creating anything. */
static void assert_refused(const layout *l, const fs_materialize_opts *opts, const char *want)
{
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    int w = watch(parent);
    bf_err err = {{0}};
    assert_int_equal(fs_materialize(l, dest, opts, NULL, &err), BF_FAIL);
    if (!strstr(err.msg, want))
        fail_msg("expected \"%s\" in: %s", want, err.msg);
    assert_nothing_created(w);
    assert_int_equal(count_entries(parent), 0);
    free(dest);
    free(parent);
}

/* ---- What was written */

/* The entry's image, all of it, as the mount would read it. */
static unsigned char *image_bytes(const layout_entry *e, size_t *len)
{
    int fd = e->type == LAYOUT_FILE ? open(e->source, O_RDONLY) : -1;
    arena *a = arena_new();
    image *im;
    bf_err err;
    if (layout_entry_image(e, fd, a, &im, &err) != BF_OK)
        fail_msg("%s", err.msg);
    *len = (size_t)image_size(im);
    unsigned char *buf = malloc(*len + 1);
    size_t got;
    if (image_read(im, 0, buf, *len, &got, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(got, *len);
    arena_free(a);
    if (fd >= 0)
        close(fd);
    return buf;
}

static void assert_same_bytes(const char *path, const unsigned char *want, size_t len)
{
    size_t got_len;
    uint8_t *got = test_read_file(path, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
}

/* Every entry of l is in dest as the layout says; returns the bytes of its files. */
static uint64_t assert_tree(const layout *l, const char *dest)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < l->nentries; i++) {
        const layout_entry *e = &l->entries[i];
        char *p = path_in(dest, e->path);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        if (e->type == LAYOUT_SYMLINK) {
            assert_true(S_ISLNK(st.st_mode));
            char target[4096];
            ssize_t n = readlink(p, target, sizeof target);
            assert_true(n > 0);
            assert_int_equal((size_t)n, strlen(e->target));
            assert_memory_equal(target, e->target, (size_t)n);
        } else {
            assert_int_equal(st.st_mode & 07777, e->mode);
            assert_int_equal(stat_mtime_ns(&st), e->mtime_ns);
            assert_true(e->type == LAYOUT_DIR ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
        }
        if (e->type == LAYOUT_FILE || e->type == LAYOUT_GENERATED) {
            size_t len;
            unsigned char *want = image_bytes(e, &len);
            assert_same_bytes(p, want, len);
            bytes += len;
            free(want);
        }
        free(p);
    }
    return bytes;
}

/* ---- Tests */

static void test_entry_image(void **state)
{
    builder *b = full_layout();
    bf_err err;
    image *im;
    for (size_t i = 0; i < b->l.nentries; i++) {
        const layout_entry *e = &b->l.entries[i];
        if (e->type == LAYOUT_DIR || e->type == LAYOUT_SYMLINK) {
            assert_int_equal(layout_entry_image(e, -1, b->a, &im, &err), BF_FAIL);
            assert_non_null(strstr(err.msg, e->path));
        }
        if (e->type == LAYOUT_FILE) {
            /* Without its source a file has no bytes to describe. */
            assert_int_equal(layout_entry_image(e, -1, b->a, &im, &err), BF_FAIL);
            assert_non_null(strstr(err.msg, e->source));
            size_t len;
            unsigned char *got = image_bytes(e, &len);
            if (e->has_edit) {
                assert_true(len >= e->size);
            } else {
                assert_int_equal(len, e->size);
                assert_same_bytes(e->source, got, len);
            }
            free(got);
        }
        if (e->type == LAYOUT_GENERATED) {
            size_t len;
            unsigned char *got = image_bytes(e, &len);
            assert_int_equal(len, e->content_len);
            assert_memory_equal(got, e->content, len);
            free(got);
        }
    }
    builder_free(b);
}

static void test_full_tree(void **state)
{
    builder *b = full_layout();
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    char *layout_in = src("bundle-in.json");
    fs_materialize_opts opts = {.layout_path = layout_in};
    fs_materialize_stats st;
    bf_err err;
    /* Modes and the root's mode must not depend on what umask allows, except the root's. */
    mode_t old = umask(077);
    int rc = fs_materialize(&b->l, dest, &opts, &st, &err);
    umask(old);
    if (rc != BF_OK)
        fail_msg("%s", err.msg);
    uint64_t bytes = assert_tree(&b->l, dest);
    assert_int_equal(st.files, 6);
    assert_int_equal(st.dirs, 4);
    assert_int_equal(st.symlinks, 2);
    assert_int_equal(st.bytes, bytes);

    /* The plain copy is the source itself; the library differs by its new RPATH only. */
    char *plain = path_in(dest, "reals/r/plain"), *lib = path_in(dest, b->l.entries[6].path);
    char *src_plain = src("src/plain"), *src_lib = src("src/libtiny.so");
    test_run("cmp -s '%s' '%s'", plain, src_plain);
    char *dyn = test_capture("readelf -d '%s'", lib);
    assert_non_null(dyn);
    char want[256];
    snprintf(want, sizeof want, "Library rpath: [%s]", rpath);
    if (!strstr(dyn, want))
        fail_msg("no \"%s\" in readelf -d of %s:\n%s", want, lib, dyn);
    char *src_dyn = test_capture("readelf -d '%s'", src_lib);
    assert_null(strstr(src_dyn, "rpath"));
    free(dyn);
    free(src_dyn);

    /* bundle.json is the layout file as given; the root has mkdir's mode under that umask. */
    char *copy = path_in(dest, "bundle.json");
    test_run("cmp -s '%s' '%s'", copy, layout_in);
    struct stat sb;
    assert_int_equal(stat(copy, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0644);
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    assert_int_equal(count_entries(parent), 1);
    free(copy);
    free(plain);
    free(lib);
    free(src_plain);
    free(src_lib);
    free(layout_in);
    free(dest);
    free(parent);
    builder_free(b);
}

static void test_existing_dest(void **state)
{
    builder *b = full_layout();
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    test_run("mkdir '%s' && echo keep > '%s/marker'", dest, dest);
    int w = watch(parent);
    bf_err err;
    assert_int_equal(fs_materialize(&b->l, dest, NULL, NULL, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, dest));
    assert_non_null(strstr(err.msg, "--force"));
    assert_nothing_created(w);
    test_run("test \"$(cat '%s/marker')\" = keep", dest);
    assert_int_equal(count_entries(parent), 1);

    /* A trailing slash names the same folder. */
    char *slashed = path_in(dest, "");
    assert_int_equal(fs_materialize(&b->l, slashed, NULL, NULL, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "--force"));
    free(slashed);
    free(dest);
    free(parent);
    builder_free(b);
}

static void test_force(void **state)
{
    builder *b = full_layout();
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    fs_materialize_opts force = {.force = true};
    bf_err err;
    /* An old tree with a folder the owner cannot write to must still go. */
    test_run("mkdir -p '%s/old/deep' && echo old > '%s/old/deep/f' && chmod 0555 '%s/old/deep'",
             dest, dest, dest);
    if (fs_materialize(&b->l, dest, &force, NULL, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_tree(&b->l, dest);
    char *old = path_in(dest, "old");
    assert_int_equal(access(old, F_OK), -1);
    assert_int_equal(count_entries(parent), 1);

    /* Again over the tree just written (read-only folders included), then over a file. */
    if (fs_materialize(&b->l, dest, &force, NULL, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_tree(&b->l, dest);
    test_run("rm -rf '%s' && echo file > '%s'", dest, dest);
    if (fs_materialize(&b->l, dest, &force, NULL, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_tree(&b->l, dest);
    assert_int_equal(count_entries(parent), 1);

    /* --force without an existing DEST just writes it. */
    test_run("rm -rf '%s'", dest);
    if (fs_materialize(&b->l, dest, &force, NULL, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_tree(&b->l, dest);
    assert_int_equal(count_entries(parent), 1);
    free(old);
    free(dest);
    free(parent);
    builder_free(b);
}

/* The changed source is the last entry: the check must come before any other is written. */
static void test_changed_source(void **state)
{
    char *changing = src("changing");
    test_run("cp -p '%s/src/plain' '%s'", base, changing);
    builder *b = full_layout();
    add_file(b, "reals/r/changing", changing, 0644);

    test_run("echo more >> '%s'", changing);
    assert_refused(&b->l, NULL, changing);

    /* Same size again, but a new time. */
    test_run("truncate -s 100000 '%s'", changing);
    set_mtime_ns(changing, 1700000000000000000);
    assert_refused(&b->l, NULL, changing);

    /* And a time differing by one nanosecond. */
    set_mtime_ns(changing, b->l.entries[b->l.nentries - 1].mtime_ns + 1);
    assert_refused(&b->l, NULL, changing);
    free(changing);
    builder_free(b);
}

static void test_missing_source(void **state)
{
    char *gone = src("gone");
    test_run("cp -p '%s/src/plain' '%s'", base, gone);
    builder *b = full_layout();
    add_file(b, "reals/r/gone", gone, 0644);
    test_run("rm '%s'", gone);
    assert_refused(&b->l, NULL, gone);

    /* The layout file to copy counts as a source too. */
    builder *c = full_layout();
    fs_materialize_opts opts = {.layout_path = gone};
    assert_refused(&c->l, &opts, gone);
    free(gone);
    builder_free(b);
    builder_free(c);
}

static void test_invalid_layout(void **state)
{
    char *plain = src("src/plain");
    builder *up = full_layout();
    add_file(up, "../x", plain, 0644);
    assert_refused(&up->l, NULL, "../x");

    builder *abs = full_layout();
    add_generated(abs, "/tmp/x", "x", 0644, 0);
    assert_refused(&abs->l, NULL, "/tmp/x");

    builder *esc = full_layout();
    add_symlink(esc, "bin/passwd", "../../etc/passwd");
    assert_refused(&esc->l, NULL, "bin/passwd");

    /* The copy of the layout may not overwrite an entry. */
    builder *own = full_layout();
    add_generated(own, "bundle.json", "{}", 0644, 0);
    char *layout_in = src("bundle-in.json");
    fs_materialize_opts opts = {.layout_path = layout_in};
    assert_refused(&own->l, &opts, "bundle.json");
    free(layout_in);
    free(plain);
    builder_free(up);
    builder_free(abs);
    builder_free(esc);
    builder_free(own);
}

/* A 1 MiB tmpfs of the test's own (a mount namespace of its own when it can make one, so the
 * mount goes away with the process whatever happens). */
static bool mount_small(const char *dir)
{
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    return mount("bundlefs-test", dir, "tmpfs", 0, "size=1m") == 0;
}

static void test_disk_full(void **state)
{
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    if (!mount_small(parent)) {
        free(dest);
        free(parent);
        skip(); /* no permission to mount: not root, no user namespace */
    }
    builder *b = full_layout();
    char *big = src("src/big");
    add_file(b, "reals/r/big", big, 0644);
    bf_err err;
    assert_int_equal(fs_materialize(&b->l, dest, NULL, NULL, &err), BF_FAIL);
    if (!strstr(err.msg, dest) || !strstr(err.msg, strerror(ENOSPC)))
        fail_msg("the error should name %s and the full disk: %s", dest, err.msg);
    assert_int_equal(count_entries(parent), 0);
    assert_int_equal(umount2(parent, MNT_DETACH), 0);
    free(big);
    free(dest);
    free(parent);
    builder_free(b);
}

/* As a user who is not root: folders written read-only (0555) must not keep the next
 * --force from removing the old tree. Root is exempt from those permissions, so root runs
 * this in a child that becomes nobody. */
static void test_force_read_only_as_user(void **state)
{
    enum { NOBODY = 65534 };
    builder *b = full_layout();
    char *parent = fresh_parent(), *dest = path_in(parent, "dest");
    bool root = geteuid() == 0;
    if (root) {
        /* nobody must reach the sources and own the destination's folder. */
        assert_int_equal(chmod(base, 0755), 0);
        assert_int_equal(chown(parent, NOBODY, NOBODY), 0);
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (root && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            _exit(3);
        fs_materialize_opts force = {.force = true};
        bf_err err;
        for (int i = 0; i < 2; i++) {
            if (fs_materialize(&b->l, dest, &force, NULL, &err) != BF_OK) {
                fprintf(stderr, "%s\n", err.msg);
                _exit(1);
            }
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (root)
        assert_int_equal(chmod(base, 0700), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_tree(&b->l, dest);
    assert_int_equal(count_entries(parent), 1);
    free(dest);
    free(parent);
    builder_free(b);
}

typedef struct racer {
    int fd;           /* inotify on the destination's folder */
    const char *dest;
    bool made;        /* the racer created DEST */
} racer;

/* Creates DEST as soon as materialize creates its temporary folder. */
static void *race_dest(void *arg)
{
    racer *r = arg;
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    if (poll(&pfd, 1, 10000) == 1)
        r->made = mkdir(r->dest, 0755) == 0;
    return NULL;
}

/* A DEST that appears while the tree is written is never replaced without --force: either
 * DEST came too late (materialize won) or materialize must refuse and leave it. */
static void test_dest_appears(void **state)
{
    builder *b = full_layout();
    char *big = src("src/big");
    add_file(b, "reals/r/big", big, 0644); /* writing takes a while */
    int made = 0;
    for (int i = 0; i < 3; i++) {
        char *parent = fresh_parent(), *dest = path_in(parent, "dest");
        racer r = {.fd = watch(parent), .dest = dest};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, race_dest, &r), 0);
        bf_err err;
        int rc = fs_materialize(&b->l, dest, NULL, NULL, &err);
        assert_int_equal(pthread_join(t, NULL), 0);
        close(r.fd);
        if (r.made) {
            made++;
            assert_int_equal(rc, BF_FAIL);
            assert_non_null(strstr(err.msg, "--force"));
            assert_int_equal(count_entries(dest), 0);
        } else {
            assert_int_equal(rc, BF_OK);
            assert_tree(&b->l, dest);
        }
        assert_int_equal(count_entries(parent), 1);
        free(dest);
        free(parent);
    }
    print_message("DEST appeared during %d of 3 runs\n", made);
    free(big);
    builder_free(b);
}

/* ---- The command */

/* bundlefs itself, found from this program: both are in the same build tree. */
static char *bundlefs_path(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    assert_non_null(slash);
    *slash = '\0';
    char *p = NULL;
    assert_true(asprintf(&p, "%s/../../tools/bundlefs", self) > 0);
    if (access(p, X_OK) != 0)
        fail_msg("%s not found: build the bundlefs target", p);
    return p;
}

typedef struct run {
    int status;
    char *out, *err; /* in the arena */
} run;

static run run_cli(arena *a, const char *dir, const char *args)
{
    char *exe = bundlefs_path();
    run r = {0};
    char *res = test_output(a, "cd '%s' && '%s' materialize %s >out.txt 2>err.txt; echo $?", dir,
                            exe, args);
    r.status = atoi(res);
    char *out = path_in(dir, "out.txt"), *err = path_in(dir, "err.txt");
    size_t len;
    uint8_t *o = test_read_file(out, &len);
    r.out = arena_strndup(a, (const char *)o, len);
    free(o);
    uint8_t *e = test_read_file(err, &len);
    r.err = arena_strndup(a, (const char *)e, len);
    free(e);
    free(out);
    free(err);
    free(exe);
    return r;
}

static void test_cli(void **state)
{
    builder *b = full_layout();
    char *dir = fresh_parent(), *json = path_in(dir, "app.bundle.json");
    char *dest = path_in(dir, "dest");
    bf_err err;
    if (layout_write_file(&b->l, json, &err) != BF_OK)
        fail_msg("%s", err.msg);
    arena *a = arena_new();

    run r = run_cli(a, dir, "--json app.bundle.json dest");
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_string_equal(r.err, "");
    uint64_t bytes = assert_tree(&b->l, dest);
    char want[256];
    snprintf(want, sizeof want,
             "{\n \"dest\": \"dest\",\n \"files\": 6,\n \"dirs\": 4,\n \"symlinks\": 2,\n"
             " \"bytes\": %llu\n}\n", (unsigned long long)bytes);
    assert_string_equal(r.out, want);
    char *copy = path_in(dest, "bundle.json");
    test_run("cmp -s '%s' '%s'", copy, json);

    r = run_cli(a, dir, "app.bundle.json dest");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "bundlefs materialize: dest"));
    assert_non_null(strstr(r.err, "--force"));

    /* Replaced quietly; a source changed since: refused, naming it. */
    r = run_cli(a, dir, "--force app.bundle.json dest/");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    assert_tree(&b->l, dest);
    test_run("cp -p '%s/src/plain' '%s/plain' && touch '%s/plain'", base, dir, dir);
    char *plain = path_in(dir, "plain");
    builder *c = full_layout();
    add_file(c, "reals/r/moved", plain, 0644);
    if (layout_write_file(&c->l, json, &err) != BF_OK)
        fail_msg("%s", err.msg);
    test_run("echo more >> '%s'", plain);
    r = run_cli(a, dir, "--force app.bundle.json dest");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bundlefs materialize: "));
    assert_non_null(strstr(r.err, plain));
    assert_tree(&b->l, dest); /* the earlier tree, untouched */

    /* A file that is not a layout, usage errors, help. */
    test_write_text(dir, "broken.json", "{\"format\": ");
    r = run_cli(a, dir, "broken.json dest2");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bundlefs materialize: broken.json"));
    assert_int_equal(access(dest, F_OK), 0);
    r = run_cli(a, dir, "app.bundle.json");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage: bundlefs materialize"));
    r = run_cli(a, dir, "--nonsense app.bundle.json dest");
    assert_int_equal(r.status, 2);
    r = run_cli(a, dir, "--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: bundlefs materialize [--force] [--json]"));
    free(plain);
    free(copy);
    free(dest);
    free(json);
    free(dir);
    arena_free(a);
    builder_free(b);
    builder_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_image),
        cmocka_unit_test(test_full_tree),
        cmocka_unit_test(test_existing_dest),
        cmocka_unit_test(test_force),
        cmocka_unit_test(test_force_read_only_as_user),
        cmocka_unit_test(test_dest_appears),
        cmocka_unit_test(test_changed_source),
        cmocka_unit_test(test_missing_source),
        cmocka_unit_test(test_invalid_layout),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
