/* The NEEDED chain liba -> libb -> libc_: the same source built three times, each level
 * calling the next (CHAIN_NEXT) so that every DT_NEEDED entry is really used. */
int CHAIN_SELF(void);
#ifdef CHAIN_NEXT
int CHAIN_NEXT(void);
#endif

int CHAIN_SELF(void)
{
#ifdef CHAIN_NEXT
    return CHAIN_LEVEL + CHAIN_NEXT();
#else
    return CHAIN_LEVEL;
#endif
}
