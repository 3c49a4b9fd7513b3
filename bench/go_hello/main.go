// Command gonethellobench is the Go twin of examples/hello.c: a net/http
// server that answers GET / (and HEAD /) with "Hello, World!\n" as
// text/plain; charset=utf-8, and 404 for every other path. Standard library
// only, default http.Server settings (keep-alive on, no timeouts).
//
// Usage: bench_go_hello [ADDR]     (default 127.0.0.1:0, a free port)
//
// Prints `# listening IP:PORT pid=N` once it accepts, then serves until
// killed. bench/http.sh runs it pinned to one CPU with GOMAXPROCS=1 and drives
// it with wrk; bench/bench_idle.c measures its memory per idle keep-alive
// connection.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

var body = []byte("Hello, World!\n")

func hello(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(body)
}

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench_go_hello:", err)
		os.Exit(1)
	}
	fmt.Printf("# listening %s pid=%d\n", l.Addr(), os.Getpid())
	err = http.Serve(l, http.HandlerFunc(hello))
	fmt.Fprintln(os.Stderr, "bench_go_hello:", err)
	os.Exit(1)
}
