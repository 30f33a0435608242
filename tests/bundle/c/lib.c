/* Every library of app (c), one source: LIB_FN returns LIB_TEXT, followed by what LIB_NEXT
 * (a function of the library this one needs) answers, if there is one. Each library has its
 * own function name, so a library bound to the wrong file fails at load time instead of
 * answering for another. */
#include <stdio.h>

#ifdef LIB_NEXT
const char *LIB_NEXT(void);
#endif

const char *LIB_FN(void)
{
    static char buf[512];
#ifdef LIB_NEXT
    snprintf(buf, sizeof buf, "%s > %s", LIB_TEXT, LIB_NEXT());
#else
    snprintf(buf, sizeof buf, "%s", LIB_TEXT);
#endif
    return buf;
}
