module gonethellobench

go 1.19
