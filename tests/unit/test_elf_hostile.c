/* Hostile and hand-made inputs. A small builder writes a minimal shared object image in
 * memory, in any class and byte order (PT_LOAD at a vaddr different from its offset,
 * PT_DYNAMIC, PT_INTERP, a string table, version needs); the tests check its parse and then
 * break it in the ways a corrupt or malicious file would. Every input is also cut at every
 * length: the result must be an error or exactly the full file's result, never a crash. */
#include "test_elf_support.h"

enum {
    IMG_SIZE = 0x800,
    BASE = 0x10000, /* vaddr of file offset 0 */
    PHOFF = 0x40,
    INTERP_OFF = 0x100,
    STR_OFF = 0x200,
    VN_OFF = 0x400,
    DYN_OFF = 0x600,
    NPHDR = 3,
};

typedef struct builder {
    uint8_t buf[IMG_SIZE];
    bool is64, big;
    size_t ndyn, strsz;
} builder;

static void put(builder *b, size_t off, uint64_t v, size_t width)
{
    assert_true(off + width <= IMG_SIZE);
    for (size_t i = 0; i < width; i++) {
        size_t shift = 8 * (b->big ? width - 1 - i : i);
        b->buf[off + i] = (uint8_t)(v >> shift);
    }
}

static void put_addr(builder *b, size_t off, uint64_t v)
{
    put(b, off, v, b->is64 ? 8 : 4);
}

static size_t dyn_entsize(const builder *b)
{
    return b->is64 ? 16 : 8;
}

static void put_phdr(builder *b, size_t i, uint32_t type, uint64_t off, uint64_t vaddr,
                     uint64_t filesz)
{
    size_t at = PHOFF + i * (b->is64 ? 56 : 32);
    put(b, at, type, 4);
    if (b->is64) {
        put(b, at + 8, off, 8);
        put(b, at + 16, vaddr, 8);
        put(b, at + 24, vaddr, 8);
        put(b, at + 32, filesz, 8);
        put(b, at + 40, filesz, 8);
    } else {
        put(b, at + 4, off, 4);
        put(b, at + 8, vaddr, 4);
        put(b, at + 12, vaddr, 4);
        put(b, at + 16, filesz, 4);
        put(b, at + 20, filesz, 4);
    }
}

static uint32_t add_str(builder *b, const char *s)
{
    size_t n = strlen(s) + 1, at = b->strsz;
    assert_true(STR_OFF + at + n <= VN_OFF);
    memcpy(b->buf + STR_OFF + at, s, n);
    b->strsz += n;
    return (uint32_t)at;
}

static void add_dyn(builder *b, uint64_t tag, uint64_t val)
{
    size_t at = DYN_OFF + b->ndyn++ * dyn_entsize(b);
    put_addr(b, at, tag);
    put_addr(b, at + dyn_entsize(b) / 2, val);
}

/* The offset of the last dynamic entry with this tag (the one a reader must use). */
static size_t find_dyn(const builder *b, uint64_t tag)
{
    size_t found = 0, half = dyn_entsize(b) / 2;
    for (size_t i = 0; i < b->ndyn; i++) {
        size_t at = DYN_OFF + i * dyn_entsize(b);
        uint64_t t = 0;
        for (size_t k = 0; k < half; k++)
            t = b->big ? t << 8 | b->buf[at + k] : t | (uint64_t)b->buf[at + k] << (8 * k);
        if (t == tag)
            found = at;
    }
    if (!found)
        fail_msg("no dynamic entry with tag 0x%llx", (unsigned long long)tag);
    return found;
}

static void set_dyn(builder *b, uint64_t tag, uint64_t val)
{
    put_addr(b, find_dyn(b, tag) + dyn_entsize(b) / 2, val);
}

/* Turns an entry into one of a tag the reader does not know (as if the tag were absent). */
static void hide_dyn(builder *b, uint64_t tag)
{
    put_addr(b, find_dyn(b, tag), 0x6ffff000);
}

static void put_verneed(builder *b, size_t rel, uint16_t cnt, uint32_t file, uint32_t aux,
                        uint32_t next)
{
    put(b, VN_OFF + rel, 1, 2);
    put(b, VN_OFF + rel + 2, cnt, 2);
    put(b, VN_OFF + rel + 4, file, 4);
    put(b, VN_OFF + rel + 8, aux, 4);
    put(b, VN_OFF + rel + 12, next, 4);
}

static void put_vernaux(builder *b, size_t rel, uint32_t name, uint32_t next)
{
    put(b, VN_OFF + rel + 8, name, 4);
    put(b, VN_OFF + rel + 12, next, 4);
}

/* The ELF header and program headers; the dynamic array is written by the caller and closed
 * with finish(). */
static void begin(builder *b, bool is64, bool big)
{
    memset(b, 0, sizeof *b);
    b->is64 = is64;
    b->big = big;
    memcpy(b->buf, "\177ELF", 4);
    b->buf[4] = is64 ? 2 : 1;
    b->buf[5] = big ? 2 : 1;
    b->buf[6] = 1;
    put(b, 16, 3 /* ET_DYN */, 2);
    put(b, 18, is64 ? 21 : 20 /* EM_PPC64 / EM_PPC */, 2);
    put(b, 20, 1, 4);
    put_addr(b, is64 ? 32 : 28, PHOFF);
    put(b, is64 ? 52 : 40, is64 ? 64 : 52, 2);
    put(b, is64 ? 54 : 42, is64 ? 56 : 32, 2);
    put(b, is64 ? 56 : 44, NPHDR, 2);
    static const char interp[] = "/lib/ld-test.so.1";
    memcpy(b->buf + INTERP_OFF, interp, sizeof interp);
    put_phdr(b, 0, 1 /* PT_LOAD */, 0, BASE, IMG_SIZE);
    put_phdr(b, 2, 3 /* PT_INTERP */, INTERP_OFF, BASE + INTERP_OFF, sizeof interp);
    add_str(b, "");
}

static void finish(builder *b)
{
    add_dyn(b, 0 /* DT_NULL */, 0);
    put_phdr(b, 1, 2 /* PT_DYNAMIC */, DYN_OFF, BASE + DYN_OFF, b->ndyn * dyn_entsize(b));
}

/* The reference image: every field elf_parse reports, with string tags before DT_STRTAB and
 * a repeated DT_SONAME (the last one counts). */
static void build_good(builder *b, bool is64, bool big)
{
    begin(b, is64, big);
    add_dyn(b, 1 /* DT_NEEDED */, add_str(b, "liba.so.1"));
    add_dyn(b, 0x7ffffffd /* DT_AUXILIARY */, add_str(b, "libaux.so"));
    add_dyn(b, 1, add_str(b, "libb.so.2"));
    add_dyn(b, 0x7fffffff /* DT_FILTER */, add_str(b, "libfilter.so"));
    add_dyn(b, 14 /* DT_SONAME */, add_str(b, "libold.so.0"));
    add_dyn(b, 14, add_str(b, "libgood.so.1"));
    add_dyn(b, 15 /* DT_RPATH */, 0); /* the empty string: present but empty */
    add_dyn(b, 29 /* DT_RUNPATH */, add_str(b, "$ORIGIN/../lib"));
    add_dyn(b, 30 /* DT_FLAGS */, 0x8);
    add_dyn(b, 0x6ffffffb /* DT_FLAGS_1 */, 0x8000801);
    uint32_t libc = add_str(b, "libc.so.6"), libm = add_str(b, "libm.so.6");
    uint32_t v225 = add_str(b, "GLIBC_2.2.5"), v210 = add_str(b, "GLIBC_2.10");
    uint32_t v29 = add_str(b, "GLIBC_2.29"), priv = add_str(b, "GLIBC_PRIVATE");
    put_verneed(b, 0x00, 3, libc, 0x10, 0x40);
    put_vernaux(b, 0x10, v225, 0x10);
    put_vernaux(b, 0x20, v210, 0x10);
    put_vernaux(b, 0x30, priv, 0);
    put_verneed(b, 0x40, 1, libm, 0x10, 0);
    put_vernaux(b, 0x50, v29, 0);
    add_dyn(b, 5 /* DT_STRTAB */, BASE + STR_OFF);
    add_dyn(b, 10 /* DT_STRSZ */, b->strsz);
    add_dyn(b, 0x6ffffffe /* DT_VERNEED */, BASE + VN_OFF);
    add_dyn(b, 0x6fffffff /* DT_VERNEEDNUM */, 2);
    finish(b);
}

static const struct combo {
    bool is64, big;
} combos[] = {{false, false}, {false, true}, {true, false}, {true, true}};

static int parse(const uint8_t *buf, size_t len, arena *a, elf_info *in, bf_err *err)
{
    return elf_parse(buf, len, "libtest.so", a, in, err);
}

/* The result is an error or exactly `full`; checked on an exact-size heap copy so that the
 * sanitizer build sees any read past the end. */
static void check_every_truncation(const uint8_t *buf, size_t len, const char *full)
{
    const elf_host host = {.elf_class = 2, .data = 1, .machine = 62};
    size_t ok = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, buf, n);
        arena *a = arena_new();
        elf_info in;
        bf_err err;
        if (parse(cut, n, a, &in, &err) == BF_OK) {
            char *got = test_canon_info(&in);
            if (strcmp(got, full) != 0)
                fail_msg("cut at %zu bytes: parse differs from the full file:\n%s---\n%s", n, got,
                         full);
            free(got);
            ok++;
        } else {
            assert_non_null(strstr(err.msg, "libtest.so: "));
        }
        const char *why;
        elf_verify(cut, n, &host, &why);
        arena_free(a);
        free(cut);
    }
    /* Cuts past the last byte read (section headers, padding) leave the result intact. */
    print_message("%zu of %zu cuts parse to the full result\n", ok, len);
}

/* The reference image in the class and byte order of combos[c], parsed into a. */
static void parse_good(builder *b, size_t c, arena *a, elf_info *in)
{
    build_good(b, combos[c].is64, combos[c].big);
    bf_err err;
    if (parse(b->buf, IMG_SIZE, a, in, &err) != BF_OK)
        fail_msg("combo %zu: %s", c, err.msg);
}

static void test_builder_images(void **state)
{
    for (size_t c = 0; c < 4; c++) {
        builder b;
        arena *a = arena_new();
        elf_info in;
        parse_good(&b, c, a, &in);
        assert_int_equal(in.elf_class, combos[c].is64 ? 2 : 1);
        assert_int_equal(in.data, combos[c].big ? 2 : 1);
        assert_int_equal(in.type, 3);
        assert_int_equal(in.machine, combos[c].is64 ? 21 : 20);
        char *canon = test_canon_info(&in);
        assert_string_equal(canon, "NEEDED liba.so.1\n"
                                   "AUXILIARY libaux.so\n"
                                   "NEEDED libb.so.2\n"
                                   "FILTER libfilter.so\n"
                                   "SONAME libgood.so.1\n"
                                   "RPATH \n"
                                   "RUNPATH $ORIGIN/../lib\n"
                                   "FLAGS 0x8\n"
                                   "FLAGS_1 0x8000801\n"
                                   "VERNEED libc.so.6: GLIBC_2.2.5 GLIBC_2.10 GLIBC_PRIVATE\n"
                                   "VERNEED libm.so.6: GLIBC_2.29\n"
                                   "INTERP /lib/ld-test.so.1\n");
        assert_string_equal(elf_highest_version(&in, "GLIBC_"), "GLIBC_2.29");
        /* Strings live in the arena, not in the input. */
        assert_false((const uint8_t *)in.soname >= b.buf &&
                     (const uint8_t *)in.soname < b.buf + IMG_SIZE);
        check_every_truncation(b.buf, IMG_SIZE, canon);
        free(canon);
        arena_free(a);
    }
}

/* A corruption of the reference image and a phrase the error must contain. */
typedef struct hostile {
    const char *name;
    void (*corrupt)(builder *b);
    const char *expect; /* NULL: must parse */
} hostile;

static void h_strtab_outside(builder *b) { set_dyn(b, 5, 0x900000); }
static void h_strsz_too_big(builder *b) { set_dyn(b, 10, IMG_SIZE); }
static void h_unterminated(builder *b) { set_dyn(b, 10, b->strsz - 1); }
static void h_offset_past_strsz(builder *b) { set_dyn(b, 14, 0x7fffffff); }
static void h_no_strtab(builder *b) { hide_dyn(b, 5); }
static void h_verneed_outside(builder *b) { set_dyn(b, 0x6ffffffe, 0x20); }
static void h_verneednum_huge(builder *b) { set_dyn(b, 0x6fffffff, 0xffffffff); }
static void h_vn_next_wraps(builder *b) { put(b, VN_OFF + 12, 0xfffffff0, 4); }
static void h_vna_next_wraps(builder *b) { put(b, VN_OFF + 0x10 + 12, 0xfffffff0, 4); }
static void h_vn_cnt_huge(builder *b) { put(b, VN_OFF + 2, 0xffff, 2); }
static void h_vn_aux_outside(builder *b) { put(b, VN_OFF + 8, 0x7ffffff0, 4); }
static void h_vn_version(builder *b) { put(b, VN_OFF, 2, 2); }
static void h_dynamic_past_end(builder *b) { put_phdr(b, 1, 2, IMG_SIZE - 8, 0, 64); }
static void h_phoff_past_end(builder *b) { put_addr(b, b->is64 ? 32 : 28, IMG_SIZE - 16); }
static void h_phnum_huge(builder *b) { put(b, b->is64 ? 56 : 44, 0xffff, 2); }
static void h_phentsize(builder *b) { put(b, b->is64 ? 54 : 42, 40, 2); }
static void h_interp_unterminated(builder *b) { put_phdr(b, 2, 3, INTERP_OFF, 0, 5); }
static void h_bad_class(builder *b) { b->buf[4] = 7; }
static void h_bad_data(builder *b) { b->buf[5] = 0; }
static void h_not_elf(builder *b) { b->buf[0] = 'M'; }

/* Thirty Verneed records all pointing at one shared two-record Vernaux chain: each record is
 * in bounds, but the walk visits more records than the area holds, so the budget stops it
 * (a file like this could otherwise make the walk quadratic). */
static void h_vn_shared_aux(builder *b)
{
    uint32_t file = add_str(b, "libshared.so"), name = add_str(b, "V_1");
    set_dyn(b, 10, b->strsz);
    for (size_t rel = 0; rel < 0x1e0; rel += 16)
        put_verneed(b, rel, 2, file, (uint32_t)(0x1e0 - rel), 16);
    put_vernaux(b, 0x1e0, name, 16);
    put_vernaux(b, 0x1f0, name, 0);
    set_dyn(b, 0x6fffffff, 0x1e0 / 16);
}

/* Tolerated: DT_STRSZ missing (the segment bounds the table), no DT_NULL (the segment end
 * stops the walk), no DT_VERNEEDNUM (the vn_next chain ends the walk), entries after DT_NULL
 * (ignored). */
static void h_no_strsz(builder *b) { hide_dyn(b, 10); }
static void h_no_verneednum(builder *b) { hide_dyn(b, 0x6fffffff); }
static void h_no_dt_null(builder *b)
{
    put_phdr(b, 1, 2, DYN_OFF, BASE + DYN_OFF, (b->ndyn - 1) * dyn_entsize(b));
}
static void h_after_null(builder *b)
{
    add_dyn(b, 1, 1);
    put_phdr(b, 1, 2, DYN_OFF, BASE + DYN_OFF, b->ndyn * dyn_entsize(b));
}

static const hostile hostiles[] = {
    {"strtab_outside", h_strtab_outside, "DT_STRTAB 0x900000 lies outside every PT_LOAD segment"},
    {"strsz_too_big", h_strsz_too_big, "DT_STRSZ 2048 runs past the end"},
    {"unterminated", h_unterminated, "is not NUL-terminated"},
    {"offset_past_strsz", h_offset_past_strsz, "DT_SONAME string offset 2147483647 lies outside"},
    {"no_strtab", h_no_strtab, "there is no DT_STRTAB"},
    {"verneed_outside", h_verneed_outside, "DT_VERNEED 0x20 lies outside every PT_LOAD segment"},
    {"verneednum_huge", h_verneednum_huge, "DT_VERNEEDNUM 4294967295 is more than"},
    {"vn_next_wraps", h_vn_next_wraps, "a Verneed record at offset"},
    {"vna_next_wraps", h_vna_next_wraps, "a Vernaux record at offset"},
    {"vn_cnt_huge", h_vn_cnt_huge, "hold more records than fit in the 1024 bytes"},
    {"vn_aux_outside", h_vn_aux_outside, "a Vernaux record at offset"},
    {"vn_version", h_vn_version, "vn_version 2"},
    {"vn_shared_aux", h_vn_shared_aux, "hold more records than fit in the 1024 bytes"},
    {"dynamic_past_end", h_dynamic_past_end, "PT_DYNAMIC (offset 0x7f8, 64 bytes) runs past"},
    {"phoff_past_end", h_phoff_past_end, "the program header table (e_phoff 0x7f0"},
    {"phnum_huge", h_phnum_huge, "65535 entries) runs past the end"},
    {"phentsize", h_phentsize, "e_phentsize is 40"},
    {"interp_unterminated", h_interp_unterminated, "PT_INTERP string is not NUL-terminated"},
    {"bad_class", h_bad_class, "unknown ELF class 7"},
    {"bad_data", h_bad_data, "unknown byte order 0"},
    {"not_elf", h_not_elf, "not an ELF file"},
    {"no_strsz", h_no_strsz, NULL},
    {"no_dt_null", h_no_dt_null, NULL},
    {"no_verneednum", h_no_verneednum, NULL},
    {"after_null", h_after_null, NULL},
};

static void test_hostile_images(void **state)
{
    for (size_t c = 0; c < 4; c++) {
        builder good;
        arena *a = arena_new();
        elf_info in;
        parse_good(&good, c, a, &in);
        bf_err err;
        char *full = test_canon_info(&in);
        for (size_t h = 0; h < sizeof hostiles / sizeof *hostiles; h++) {
            builder b = good;
            hostiles[h].corrupt(&b);
            int rc = parse(b.buf, IMG_SIZE, a, &in, &err);
            if (hostiles[h].expect) {
                if (rc != BF_FAIL || !strstr(err.msg, hostiles[h].expect) ||
                    strncmp(err.msg, "libtest.so: ", 12) != 0)
                    fail_msg("combo %zu, %s: rc %d, message \"%s\", expected one with \"%s\"", c,
                             hostiles[h].name, rc, rc ? err.msg : "", hostiles[h].expect);
                assert_int_equal(in.ndeps, 0); /* *out is zeroed on failure */
                assert_null(in.soname);
            } else {
                if (rc != BF_OK)
                    fail_msg("combo %zu, %s: %s", c, hostiles[h].name, err.msg);
                char *got = test_canon_info(&in);
                if (strcmp(got, full) != 0)
                    fail_msg("combo %zu, %s:\n%s---\n%s", c, hostiles[h].name, got, full);
                free(got);
            }
        }
        free(full);
        arena_free(a);
    }
}

/* A small real library, cut at every length. */
static void test_truncated_real_library(void **state)
{
    char *d = test_tmpdir("elf");
    test_run("cd '%s' && printf '#include <stdio.h>\\nint f(void) { return puts(\"x\"); }\\n' > f.c"
             " && gcc -shared -fPIC f.c -o libtest.so -Wl,-soname,libtest.so.1"
             " -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN'",
             d);
    char path[512];
    snprintf(path, sizeof path, "%s/libtest.so", d);
    size_t len;
    uint8_t *buf = test_read_file(path, &len);
    arena *a = arena_new();
    elf_info in;
    bf_err err;
    assert_int_equal(parse(buf, len, a, &in, &err), BF_OK);
    assert_string_equal(in.runpath, "$ORIGIN");
    char *full = test_canon_info(&in);
    check_every_truncation(buf, len, full);
    free(full);
    arena_free(a);
    free(buf);
    test_rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_images),
        cmocka_unit_test(test_hostile_images),
        cmocka_unit_test(test_truncated_real_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
