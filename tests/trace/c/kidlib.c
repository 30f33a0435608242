int kid_value(void);

int kid_value(void)
{
    return 7;
}
