/* The sandbox's own test program (test_sandbox.py): needs libz (not part of the target) and
 * libm (part of it), and dlopens each name given as an argument (lazily: libthread_db
 * leaves the debugger's ps_* functions undefined). */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "maps.h"

int main(int argc, char **argv)
{
    const char text[] = "bundlefs sandbox bundlefs sandbox bundlefs sandbox";
    unsigned char packed[256], back[256];
    uLongf plen = sizeof packed, blen = sizeof back;
    int ok = compress(packed, &plen, (const unsigned char *)text, sizeof text) == Z_OK &&
             uncompress(back, &blen, packed, plen) == Z_OK && blen == sizeof text &&
             memcmp(back, text, blen) == 0;
    volatile double two = 2.0;
    printf("zlib %s round trip %s, sqrt(2) %.6f\n", zlibVersion(), ok ? "ok" : "FAILED",
           sqrt(two));
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        void *h = dlopen(argv[i], RTLD_LAZY);
        printf("dlopen %s: %s\n", argv[i], h ? "ok" : dlerror());
        failed += !h;
    }
    fflush(stdout);
    maps_report();
    return failed ? 3 : 0;
}
