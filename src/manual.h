/* gonet.h v0.1.0 — Go's networking model for C, in one header.

   Do this in exactly one .c file:
       #define GONET_IMPLEMENTATION
       #include "gonet.h"
   and include "gonet.h" without the define anywhere else.

   (the manual is written in src/manual.h)
*/
