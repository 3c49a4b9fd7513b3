/* The whole implementation in one translation unit, included twice to check that
 * a second inclusion (say, through a user header) does no harm.                 */
#define GONET_IMPLEMENTATION
#include "../../gonet.h"
#include "../../gonet.h"
int main(void) { return gn_version()[0] == 0; }
