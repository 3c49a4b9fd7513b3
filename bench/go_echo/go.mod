module gonetechobench

go 1.19
