/* elf_verify against the real loader: each case is a crafted copy of a freshly built library;
 * elf_verify must give the expected verdict, and dlopen() of the same file in a probe program
 * must fail (or succeed) the same way, with the same glibc message. Cases with several
 * problems at once pin glibc's order of checks. */
#include "test_elf_support.h"

enum { EM_X86_64_ = 62, EM_AARCH64_ = 183 };

typedef struct vcase {
    const char *name;
    const char *base; /* "lib" (x86_64 .so), "lib32" (i386 .so), "obj" (.o), "script", "abitag" */
    size_t truncate;  /* keep only this many bytes (0: all) */
    struct {
        size_t at;
        uint8_t val;
    } pokes[3];
    size_t npokes;
    elf_verdict verdict;
    const char *why;
} vcase;

#define POKE(o, v) {(o), (v)}
static const vcase cases[] = {
    {"plain", "lib", 0, {{0}}, 0, ELF_ACCEPT, NULL},
    {"short", "lib", 63, {{0}}, 0, ELF_FATAL, "file too short"},
    {"script", "script", 0, {{0}}, 0, ELF_FATAL, "invalid ELF header"},
    {"badmagic", "lib", 0, {POKE(1, 'e')}, 1, ELF_FATAL, "invalid ELF header"},
    {"class32", "lib32", 0, {{0}}, 0, ELF_SKIP_CLASS, NULL},
    {"class3", "lib", 0, {POKE(4, 3)}, 1, ELF_SKIP_CLASS, NULL},
    {"bigendian", "lib", 0, {POKE(5, 2)}, 1, ELF_FATAL, "ELF file data encoding not little-endian"},
    {"identversion", "lib", 0, {POKE(6, 2)}, 1, ELF_FATAL,
     "ELF file version ident does not match current one"},
    {"osabi_freebsd", "lib", 0, {POKE(7, 9)}, 1, ELF_FATAL, "ELF file OS ABI invalid"},
    {"sysv_abiversion1", "lib", 0, {POKE(8, 1)}, 1, ELF_FATAL, "ELF file ABI version invalid"},
    {"gnu_abiversion3", "lib", 0, {POKE(7, 3), POKE(8, 3)}, 2, ELF_ACCEPT, NULL},
    {"gnu_abiversion4", "lib", 0, {POKE(7, 3), POKE(8, 4)}, 2, ELF_FATAL,
     "ELF file ABI version invalid"},
    {"padding", "lib", 0, {POKE(12, 1)}, 1, ELF_FATAL, "nonzero padding in e_ident"},
    {"eversion", "lib", 0, {POKE(20, 2)}, 1, ELF_FATAL,
     "ELF file version does not match current one"},
    {"machine", "lib", 0, {POKE(18, EM_AARCH64_)}, 1, ELF_SKIP_MACHINE, NULL},
    {"relocatable", "obj", 0, {{0}}, 0, ELF_FATAL, "only ET_DYN and ET_EXEC can be loaded"},
    {"type_core", "lib", 0, {POKE(16, 4)}, 1, ELF_FATAL, "only ET_DYN and ET_EXEC can be loaded"},
    {"type_exec", "lib", 0, {POKE(16, 2)}, 1, ELF_ACCEPT, NULL},
    {"phentsize", "lib", 0, {POKE(54, 32)}, 1, ELF_FATAL,
     "ELF file's phentsize not the expected size"},
    {"phdrs_cut", "lib", 300, {{0}}, 0, ELF_FATAL, "cannot read file data"},
    {"abi_tag_kernel_99", "abitag", 0, {{0}}, 0, ELF_ACCEPT, NULL},
    /* Order: the first failing check in glibc's sequence decides. */
    {"order_magic_class", "lib", 0, {POKE(0, 0), POKE(4, 1)}, 2, ELF_FATAL, "invalid ELF header"},
    {"order_class_data", "lib", 0, {POKE(4, 1), POKE(5, 2)}, 2, ELF_SKIP_CLASS, NULL},
    {"order_data_osabi", "lib", 0, {POKE(5, 2), POKE(7, 9)}, 2, ELF_FATAL,
     "ELF file data encoding not little-endian"},
    {"order_osabi_pad", "lib", 0, {POKE(7, 9), POKE(15, 1)}, 2, ELF_FATAL,
     "ELF file OS ABI invalid"},
    {"order_pad_eversion", "lib", 0, {POKE(9, 1), POKE(20, 0)}, 2, ELF_FATAL,
     "nonzero padding in e_ident"},
    {"order_eversion_machine", "lib", 0, {POKE(20, 0), POKE(18, 3)}, 2, ELF_FATAL,
     "ELF file version does not match current one"},
    {"order_machine_type", "lib", 0, {POKE(18, 3), POKE(16, 1)}, 2, ELF_SKIP_MACHINE, NULL},
    {"order_type_phentsize", "lib", 0, {POKE(16, 1), POKE(54, 0)}, 2, ELF_FATAL,
     "only ET_DYN and ET_EXEC can be loaded"},
};
#undef POKE

static const elf_host host64 = {.elf_class = 2, .data = 1, .machine = EM_X86_64_};

/* The bases every case starts from, and the probe that asks the real loader. */
static void build_bases(const char *d)
{
    test_write_text(d, "foo.c", "int foo(void) { return 42; }\n");
    test_write_text(d, "script.so", "/* GNU ld script: text, not ELF, so a fatal candidate */\n"
                                    "INPUT(libfoo.so.1 AS_NEEDED(libbar.so.1))\n");
    /* An NT_GNU_ABI_TAG note asking for Linux 99.0.0 (glibc before 2.36 skipped such files). */
    test_write_text(d, "tag.s", "\t.section .note.ABI-tag,\"a\",@note\n\t.p2align 2\n"
                                "\t.long 4, 16, 1\n\t.asciz \"GNU\"\n\t.long 0, 99, 0, 0\n"
                                "\t.section .note.GNU-stack,\"\",@progbits\n");
    test_write_text(d, "probe.c",
                    "#include <dlfcn.h>\n#include <stdio.h>\n"
                    "int main(int argc, char **argv) {\n"
                    "    for (int i = 1; i < argc; i++) {\n"
                    "        void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);\n"
                    "        printf(\"%s\\n\", h ? \"OK\" : dlerror());\n"
                    "    }\n"
                    "    return 0;\n"
                    "}\n");
    test_run("cd '%s' && gcc -shared -fPIC foo.c -o lib.so && gcc -c foo.c -o obj.so"
             " && gcc -m32 -shared -fPIC -nostdlib foo.c -o lib32.so"
             " && gcc -shared -fPIC foo.c tag.s -o abitag.so"
             " && readelf -n abitag.so | grep -q 'ABI: 99.0.0' && gcc probe.c -o probe",
             d);
}

static uint8_t *make_case(const char *d, const vcase *c, size_t *len, char *path, size_t pathsz)
{
    char base[512];
    snprintf(base, sizeof base, "%s/%s.so", d, c->base);
    uint8_t *buf = test_read_file(base, len);
    if (c->truncate)
        *len = c->truncate;
    for (size_t k = 0; k < c->npokes; k++) {
        assert_true(c->pokes[k].at < *len);
        buf[c->pokes[k].at] = c->pokes[k].val;
    }
    snprintf(path, pathsz, "%s/case-%s.so", d, c->name);
    test_write_file(path, buf, *len);
    return buf;
}

/* What dlopen() prints for a file with this verdict. */
static void check_loader_line(const char *path, const char *line, elf_verdict v, const char *why)
{
    if (v == ELF_ACCEPT) {
        /* Past open_verify an ET_EXEC is refused when mapped, which is not elf_verify's job. */
        if (strcmp(line, "OK") != 0 && !strstr(line, "cannot dynamically load executable"))
            fail_msg("%s: elf_verify accepts it but dlopen says: %s", path, line);
        return;
    }
    test_buf want = {0};
    const char *loader_says = why;
    if (v == ELF_SKIP_CLASS)
        loader_says = "wrong ELF class: ELFCLASS32";
    else if (v == ELF_SKIP_MACHINE)
        loader_says = "cannot open shared object file: No such file or directory";
    test_buf_printf(&want, "%s: %s", path, loader_says);
    if (strncmp(line, want.s, want.n) != 0)
        fail_msg("%s: elf_verify says \"%s\" (verdict %d) but dlopen says: %s", path,
                 why ? why : "", v, line);
    free(want.s);
}

static void test_verify_against_loader(void **state)
{
    char *d = test_tmpdir("elf");
    build_bases(d);
    size_t n = sizeof cases / sizeof *cases;
    test_buf cmd = {0};
    test_buf_printf(&cmd, "'%s/probe'", d);
    char paths[sizeof cases / sizeof *cases][512];
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *buf = make_case(d, &cases[i], &len, paths[i], sizeof paths[i]);
        const char *why;
        elf_verdict v = elf_verify(buf, len, &host64, &why);
        if (v != cases[i].verdict || (why == NULL) != (cases[i].why == NULL) ||
            (why && strcmp(why, cases[i].why) != 0))
            fail_msg("case %s: verdict %d \"%s\", expected %d \"%s\"", cases[i].name, v,
                     why ? why : "", cases[i].verdict, cases[i].why ? cases[i].why : "");
        /* glibc decides on its first 832 bytes; so does a caller passing only those. */
        if (len > 832) {
            const char *why832;
            assert_int_equal(elf_verify(buf, 832, &host64, &why832), v);
        }
        free(buf);
        test_buf_printf(&cmd, " '%s'", paths[i]);
    }
    char *out = test_capture("%s", cmd.s);
    assert_non_null(out);
    char *save, *line = strtok_r(out, "\n", &save);
    for (size_t i = 0; i < n; i++, line = strtok_r(NULL, "\n", &save)) {
        assert_non_null(line);
        check_loader_line(paths[i], line, cases[i].verdict, cases[i].why);
    }
    free(out);
    free(cmd.s);
    test_rmdir(d);
}

/* Other hosts: a 32-bit little-endian and a 64-bit big-endian loader. */
static void test_verify_other_hosts(void **state)
{
    char *d = test_tmpdir("elf");
    build_bases(d);
    char path[512];
    size_t len32, len64;
    snprintf(path, sizeof path, "%s/lib32.so", d);
    uint8_t *lib32 = test_read_file(path, &len32);
    snprintf(path, sizeof path, "%s/lib.so", d);
    uint8_t *lib64 = test_read_file(path, &len64);
    const elf_host i386 = {.elf_class = 1, .data = 1, .machine = 3};
    const elf_host ppc64 = {.elf_class = 2, .data = 2, .machine = 21};
    const char *why;
    assert_int_equal(elf_verify(lib32, len32, &i386, &why), ELF_ACCEPT);
    assert_null(why);
    assert_int_equal(elf_verify(lib64, len64, &i386, &why), ELF_SKIP_CLASS);
    assert_int_equal(elf_verify(lib32, len32, &host64, &why), ELF_SKIP_CLASS);
    assert_int_equal(elf_verify(lib64, len64, &ppc64, &why), ELF_FATAL);
    assert_string_equal(why, "ELF file data encoding not big-endian");
    /* A 32-bit loader reads 52 header bytes and has a 512-byte buffer. */
    assert_int_equal(elf_verify(lib32, 51, &i386, &why), ELF_FATAL);
    assert_string_equal(why, "file too short");
    assert_int_equal(elf_verify(lib32, 100, &i386, &why), ELF_FATAL);
    assert_string_equal(why, "cannot read file data");
    lib32[18] = 62;
    assert_int_equal(elf_verify(lib32, len32, &i386, &why), ELF_SKIP_MACHINE);
    free(lib32);
    free(lib64);
    test_rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_against_loader),
        cmocka_unit_test(test_verify_other_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
