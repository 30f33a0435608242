/* Every dlopen'd fixture library: the same tiny object built under many names. */
int plugin_value(void);

int plugin_value(void)
{
    return 42;
}
