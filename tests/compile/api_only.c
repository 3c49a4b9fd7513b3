/* The API part of gonet.h alone: must compile as C99 and as C++ with -pedantic. */
#include "../../gonet.h"
int main(void) { return gn_strerror(GN_EOF) == 0; }
