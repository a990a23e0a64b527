#include <stdio.h>
int main(void) { puts("gen"); return 0; }
