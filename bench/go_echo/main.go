// Command gonetechobench is the Go twin of `bench_echo server` (bench/bench_echo.c):
// a TCP echo server, one goroutine per connection, each a read/write loop over
// a 32 KiB buffer (io.Copy's size; io.Copy itself would splice(2) socket to
// socket through a pipe on Linux, a different system-call pattern than the C
// server's, so the loop is spelled out). Standard library only.
//
// Usage: bench_go_echo [-a ADDR] [-i SECS]
//
//	-a  listen address (default 127.0.0.1:0, a free port)
//	-i  re-arm a read deadline of SECS before every read, as an idle timeout
//	    does (default 0: off)
//
// Prints `# listening IP:PORT pid=N` once it accepts, then runs until killed.
// bench/echo.sh runs it pinned to one CPU with GOMAXPROCS=1 and drives it with
// `bench_echo client`.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func serve(c net.Conn, idle time.Duration) {
	defer c.Close()
	buf := make([]byte, 32*1024)
	for {
		if idle > 0 {
			c.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("a", "127.0.0.1:0", "listen address")
	idleS := flag.Float64("i", 0, "read deadline re-armed before every read, seconds (0: none)")
	flag.Parse()
	idle := time.Duration(*idleS * float64(time.Second))
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench_go_echo:", err)
		os.Exit(1)
	}
	fmt.Printf("# listening %s pid=%d\n", l.Addr(), os.Getpid())
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench_go_echo: accept:", err)
			os.Exit(1)
		}
		go serve(c, idle)
	}
}
