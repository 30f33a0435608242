/* Linked with -static: there is no dynamic loader, so nothing can be audited. */
#include <stdio.h>

int main(void)
{
    puts("static program ran");
    return 5;
}
