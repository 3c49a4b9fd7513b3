// Command gonetbench is the Go twin of bench/bench_runtime.c: the same runtime
// microbenchmarks, the same figure names and the same output lines, so that
// bench/compare.sh can pair them. Standard library only.
//
// What it measures (each figure at every GOMAXPROCS in -p, default 1 and 2;
// each repeated R times, default 5, and the MEDIAN printed):
//
//	yield_switch    two goroutines calling runtime.Gosched in a loop: ns per call
//	chan_roundtrip  ping-pong over two unbuffered channels: ns per round trip
//	chan_buffered   one producer, one consumer, chan int64 of capacity 128:
//	                ns per element (one send plus one receive)
//	spawn_exit      spawn goroutines that only call wg.Done, 1000 at a time,
//	                wg.Wait for each 1000: ns per spawn+exit (1,000,000 spawns
//	                per repetition, after one warm-up)
//	rss_100k        VmRSS growth per goroutine, KB (1024 bytes), with 100,000 /
//	rss_1m          1,000,000 goroutines parked in time.Sleep(time.Hour); each
//	                repetition runs in a fresh child process (this program
//	                re-executed with -child)
//	timer_late_*    10,000 goroutines released at once (a closed channel) each
//	                time.Sleep(1 ms); lateness = wake - (start + 1 ms) in us:
//	                the median over R runs of each run's p50/p99/max
//
// Output: `name procs=P unit=value` (unit ns, kb or us), lower is better;
// lines starting with '#' are informational.
//
// Usage: bench_go [-r R] [-m M] [-p 1,2] [group...]
// groups: yield chan chanbuf spawn rss timer (default all), or a figure name.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	reps    = flag.Int("r", 5, "repetitions per figure (the median is printed)")
	memReps = flag.Int("m", 0, "repetitions of the RSS figures (0: min(R,3) at 100k, 1 at 1M)")
	procsF  = flag.String("p", "1,2", "GOMAXPROCS values, comma-separated")
	child   = flag.Int("child", 0, "internal: measure RSS with this many goroutines and exit")
	scale   = 1
)

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func report(name string, procs int, unit string, v []float64) {
	m := median(v)
	prec := 1
	if m < 100 {
		prec = 2
	}
	fmt.Printf("%s procs=%d %s=%.*f\n", name, procs, unit, prec, m)
}

func repeat(n int, f func() float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = f()
	}
	return v
}

// ---- yield ping-pong ----
func benchYield(procs int) {
	n := 2000000 / scale
	report("yield_switch", procs, "ns", repeat(*reps, func() float64 {
		var wg sync.WaitGroup
		wg.Add(2)
		t0 := time.Now()
		for k := 0; k < 2; k++ {
			go func() {
				for i := 0; i < n; i++ {
					runtime.Gosched()
				}
				wg.Done()
			}()
		}
		wg.Wait()
		return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
	}))
}

// ---- unbuffered ping-pong ----
func benchChan(procs int) {
	n := 500000 / scale
	report("chan_roundtrip", procs, "ns", repeat(*reps, func() float64 {
		ping, pong := make(chan int64), make(chan int64)
		var wg sync.WaitGroup
		wg.Add(2)
		t0 := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				v := <-ping
				pong <- v
			}
			wg.Done()
		}()
		go func() {
			var v int64
			for i := 0; i < n; i++ {
				ping <- v
				v = <-pong
				v++
			}
			wg.Done()
		}()
		wg.Wait()
		return float64(time.Since(t0).Nanoseconds()) / float64(n)
	}))
}

// ---- buffered channel throughput ----
func benchChanBuf(procs int) {
	n := 5000000 / scale
	report("chan_buffered", procs, "ns", repeat(*reps, func() float64 {
		c := make(chan int64, 128)
		var wg sync.WaitGroup
		var sum int64
		wg.Add(2)
		t0 := time.Now()
		go func() {
			var s int64
			for i := 0; i < n; i++ {
				s += <-c
			}
			sum = s
			wg.Done()
		}()
		go func() {
			for i := int64(0); i < int64(n); i++ {
				c <- i
			}
			wg.Done()
		}()
		wg.Wait()
		ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
		if sum != int64(n)*int64(n-1)/2 {
			fmt.Fprintf(os.Stderr, "bench_go: chan_buffered: wrong sum %d\n", sum)
			os.Exit(1)
		}
		return ns
	}))
}

// ---- spawn + exit ----
const spawnBatch = 1000

func benchSpawn(procs int) {
	n := 1000000 / scale
	var wg sync.WaitGroup
	round := func() float64 {
		t0 := time.Now()
		for i := 0; i < n; i += spawnBatch {
			wg.Add(spawnBatch)
			for j := 0; j < spawnBatch; j++ {
				go func() { wg.Done() }()
			}
			wg.Wait()
		}
		return float64(time.Since(t0).Nanoseconds()) / float64(n)
	}
	round() // warm-up
	report("spawn_exit", procs, "ns", repeat(*reps, round))
}

// ---- RSS per sleeping goroutine ----
func vmKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line[len(field)+1:])
			if len(fs) > 0 {
				v, _ := strconv.ParseInt(fs[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

// rssChild runs in the child process: prints "kb pte_kb seconds".
func rssChild(n int) {
	rss0, pte0 := vmKB("VmRSS"), vmKB("VmPTE")
	var started atomic.Int64
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Add(1)
			time.Sleep(time.Hour)
		}()
	}
	for started.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	secs := time.Since(t0).Seconds()
	rss1, pte1 := vmKB("VmRSS"), vmKB("VmPTE")
	fmt.Printf("%g %g %g\n", float64(rss1-rss0)/float64(n), float64(pte1-pte0)/float64(n), secs)
}

func benchRSSN(procs, n, r int, name string) {
	var v, pte, sp []float64
	for i := 0; i < r; i++ {
		cmd := exec.Command(os.Args[0], "-child", strconv.Itoa(n), "-p", strconv.Itoa(procs))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		var a, b, c float64
		if err == nil {
			_, err = fmt.Sscan(string(out), &a, &b, &c)
		}
		if err != nil {
			fmt.Printf("# %s procs=%d FAILED: %v\n", name, procs, err)
			os.Exit(1)
		}
		v, pte, sp = append(v, a), append(pte, b), append(sp, c)
	}
	report(name, procs, "kb", v)
	fmt.Printf("# %s procs=%d page tables %.3f KB/goroutine (VmPTE, not in VmRSS), spawn+park %.2f s\n",
		name, procs, median(pte), median(sp))
}

func memRepsFor(n int) int {
	if *memReps > 0 {
		return *memReps
	}
	if n >= 1000000 {
		return 1
	}
	if *reps < 3 {
		return *reps
	}
	return 3
}

// ---- timer lateness ----
const timerN = 10000

func benchTimer(procs int) {
	var p50, p99, mx []float64
	for r := 0; r < *reps; r++ {
		late := make([]float64, timerN)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(timerN)
		for i := 0; i < timerN; i++ {
			go func(i int) {
				<-gate
				t0 := time.Now()
				time.Sleep(time.Millisecond)
				late[i] = float64(time.Since(t0).Nanoseconds()-int64(time.Millisecond)) / 1e3
				wg.Done()
			}(i)
		}
		time.Sleep(10 * time.Millisecond)
		close(gate)
		wg.Wait()
		sort.Float64s(late)
		p50 = append(p50, late[timerN/2])
		p99 = append(p99, late[timerN*99/100])
		mx = append(mx, late[timerN-1])
	}
	report("timer_late_p50", procs, "us", p50)
	report("timer_late_p99", procs, "us", p99)
	report("timer_late_max", procs, "us", mx)
}

func main() {
	flag.Parse()
	var procs []int
	for _, s := range strings.Split(*procsF, ",") {
		if p, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && p > 0 {
			procs = append(procs, p)
		}
	}
	if len(procs) == 0 {
		procs = []int{1, 2}
	}
	if *child > 0 {
		runtime.GOMAXPROCS(procs[0])
		rssChild(*child)
		return
	}
	if *reps < 1 {
		*reps = 5
	}
	if os.Getenv("BENCH_SCALE") == "small" {
		scale = 10
	}
	want := func(group, alt string) bool {
		if flag.NArg() == 0 {
			return true
		}
		for _, a := range flag.Args() {
			if a == group || (alt != "" && a == alt) {
				return true
			}
		}
		return false
	}
	fmt.Printf("# %s bench_go: reps=%d (median printed)\n", runtime.Version(), *reps)
	for _, p := range procs {
		runtime.GOMAXPROCS(p)
		if want("yield", "yield_switch") {
			benchYield(p)
		}
		if want("chan", "chan_roundtrip") {
			benchChan(p)
		}
		if want("chanbuf", "chan_buffered") {
			benchChanBuf(p)
		}
		if want("spawn", "spawn_exit") {
			benchSpawn(p)
		}
		if want("rss", "rss_100k") {
			benchRSSN(p, 100000, memRepsFor(100000), "rss_100k")
		}
		if want("rss", "rss_1m") {
			benchRSSN(p, 1000000, memRepsFor(1000000), "rss_1m")
		}
		if want("timer", "") {
			benchTimer(p)
		}
	}
}
