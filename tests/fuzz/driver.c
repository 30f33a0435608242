/* Stand-in for libFuzzer in ordinary builds: feeds each seed file, then deterministic
 * mutations of it (bit flips, byte sets, truncations, splices of interesting values), to
 * LLVMFuzzerTestOneInput. Under ASan/UBSan this makes every ctest run a small fuzz pass. */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (64u << 20))
                break; /* seeds beyond 64 MiB are cut: the readers only look at headers */
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void mutate(uint8_t *buf, size_t *len)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20};
    size_t n = *len;
    if (n == 0)
        return;
    int edits = 1 + (int)(rng() % 8);
    for (int i = 0; i < edits; i++) {
        /* Most of what a reader trusts sits in the first few KiB; aim there most of the time. */
        size_t span = (rng() % 4) ? (n < 4096 ? n : 4096) : n;
        size_t at = (size_t)(rng() % span);
        switch (rng() % 5) {
        case 0: buf[at] ^= (uint8_t)(1u << (rng() % 8)); break;
        case 1: buf[at] = interesting[rng() % sizeof interesting]; break;
        case 2:
            for (size_t k = 0; k < 8 && at + k < n; k++)
                buf[at + k] = (uint8_t)(rng() & 1 ? 0xff : 0x00);
            break;
        case 3: *len = at; return;
        default: buf[at] = (uint8_t)rng(); break;
        }
    }
}

static int run_file(const char *path, int mutations)
{
    size_t len = 0;
    uint8_t *orig = read_all(path, &len);
    if (!orig) {
        fprintf(stderr, "driver: cannot read seed %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(orig, len);
    uint8_t *work = malloc(len ? len : 1);
    for (int i = 0; i < mutations; i++) {
        size_t n = len;
        memcpy(work, orig, len);
        mutate(work, &n);
        LLVMFuzzerTestOneInput(work, n);
    }
    free(work);
    free(orig);
    return 0;
}

int main(int argc, char **argv)
{
    const char *seeds = NULL;
    int mutations = 100, files = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = argv[++i];
        else if (!strcmp(argv[i], "--mutations") && i + 1 < argc)
            mutations = atoi(argv[++i]);
        else {
            bad |= run_file(argv[i], mutations);
            files++;
        }
    }
    if (seeds) {
        FILE *f = fopen(seeds, "r");
        if (!f) {
            fprintf(stderr, "driver: cannot read seed list %s\n", seeds);
            return 1;
        }
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (!line[0] || line[0] == '#')
                continue;
            glob_t g;
            if (glob(line, 0, NULL, &g) == 0) {
                for (size_t k = 0; k < g.gl_pathc; k++, files++)
                    bad |= run_file(g.gl_pathv[k], mutations);
                globfree(&g);
            }
        }
        fclose(f);
    }
    if (files == 0) {
        fprintf(stderr, "driver: no seed file was found; nothing was fuzzed\n");
        return 1;
    }
    printf("%d seed files, %d mutations each: no crash\n", files, mutations);
    return bad;
}
