// Command gortbench is Go's side of gort's benchmark table (issue 5 §2): the
// workloads of bench/gort_bench.cc, written the way a Go programmer would,
// with the constants and helpers of bench/common.h mirrored under the same
// names. One workload per process; prints `BENCH go <workload> <procs>
// <value> <unit>` lines (and INFO lines) for bench/run.sh.
//
//	gortbench -workload NAME -procs P [-reps N] [-quick]
//
// park_ready uses Go's runtime semaphore (what sync.Mutex and sync.WaitGroup
// park on, and what gort_semacquire ports), reached with go:linkname as
// sync does; Go 1.19 allows it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "unsafe" // go:linkname
)

//go:linkname semacquire sync.runtime_Semacquire
func semacquire(addr *uint32)

//go:linkname semrelease sync.runtime_Semrelease
func semrelease(addr *uint32, handoff bool, skipframes int)

// Mirrors bench/common.h.
const (
	kRawSwitches     = 10000000
	kYields          = 2000000
	kParkReadyRounds = 1000000
	kChanRounds      = 1000000
	kSpawns          = 1000000
	kSkynetLeaves    = 1000000
	kMutexGoroutines = 4
	kMutexOps        = 1000000
	kBlocked         = 100000
	kFanoutTasks     = 10000
	kFanoutIters     = 25000
	kIdleWarmTasks   = 16
	kIdleSettleMs    = 100
	kQuickDiv        = 10
	sys              = "go"
)

var div int64 = 1

func scaled(n int64) int64 {
	if n/div < 1 {
		return 1
	}
	return n / div
}

func spinWork(seed uint64, iters int64) uint64 {
	x := seed | 1
	for i := int64(0); i < iters; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		panic(err)
	}
	return resident * int64(os.Getpagesize())
}

func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func info(w string, procs int, text string) {
	fmt.Printf("INFO %s %s %d %s\n", sys, w, procs, text)
}

// ---- workloads: each returns one measurement in its row's unit ----

func yield(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kYields)
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	for k := 0; k < 2; k++ {
		go func() {
			for i := int64(0); i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func parkReady(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kParkReadyRounds)
	var a, b uint32
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			semrelease(&b, false, 0)
			semacquire(&a)
		}
		wg.Done()
	}()
	go func() {
		for i := int64(0); i < n; i++ {
			semacquire(&b)
			semrelease(&a, false, 0)
		}
		wg.Done()
	}()
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func chanPingpong(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kChanRounds)
	ping, pong := make(chan int64), make(chan int64)
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			ping <- i
			<-pong
		}
		wg.Done()
	}()
	go func() {
		for i := int64(0); i < n; i++ {
			pong <- <-ping
		}
		wg.Done()
	}()
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func spawnJoin(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kSpawns)
	var wg sync.WaitGroup
	wg.Add(int(n))
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func sky(parent *sync.WaitGroup, psum *int64, num, size int64) {
	if size == 1 {
		atomic.AddInt64(psum, num)
		parent.Done()
		return
	}
	var wg sync.WaitGroup
	var sum int64
	wg.Add(10)
	sub := size / 10
	for i := int64(0); i < 10; i++ {
		go sky(&wg, &sum, num+i*sub, sub)
	}
	wg.Wait()
	atomic.AddInt64(psum, atomic.LoadInt64(&sum))
	parent.Done()
}

func skynet(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	leaves := kSkynetLeaves / div
	var wg sync.WaitGroup
	var sum int64
	wg.Add(1)
	t0 := time.Now()
	go sky(&wg, &sum, 0, leaves)
	wg.Wait()
	if sum != leaves*(leaves-1)/2 {
		panic("skynet: wrong sum")
	}
	return float64(time.Since(t0).Nanoseconds()) / 1e6
}

func mutex(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kMutexOps)
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(kMutexGoroutines)
	t0 := time.Now()
	for k := 0; k < kMutexGoroutines; k++ {
		go func() {
			for i := int64(0); i < n; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	if counter != n*kMutexGoroutines {
		panic("mutex: lost updates")
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n*kMutexGoroutines)
}

// memory: goroutines blocked receiving from one channel; RSS delta / count.
func memory(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kBlocked)
	ch := make(chan int64)
	var started, exited sync.WaitGroup
	started.Add(int(n))
	exited.Add(int(n))
	runtime.GC()
	rss0 := rssBytes()
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			<-ch
			exited.Done()
		}()
	}
	started.Wait()
	runtime.Gosched() // the last one reaches its receive
	per := float64(rssBytes()-rss0) / float64(n)
	close(ch)
	exited.Wait()
	return per
}

var sink uint64

func fanoutSeconds(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	n := scaled(kFanoutTasks)
	var wg sync.WaitGroup
	wg.Add(int(n))
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func(i int64) {
			atomic.AddUint64(&sink, spinWork(uint64(i), kFanoutIters))
			wg.Done()
		}(i)
	}
	wg.Wait()
	return time.Since(t0).Seconds()
}

func fanout(procs int) float64 {
	t1 := fanoutSeconds(1)
	t2 := fanoutSeconds(procs)
	info("fanout", procs, fmt.Sprintf("1 proc %.1f ms, %d procs %.1f ms, %.1f us per task",
		t1*1e3, procs, t2*1e3, t1*1e6/float64(scaled(kFanoutTasks))))
	return t1 / t2
}

func idle(procs int) float64 {
	runtime.GOMAXPROCS(procs)
	var wg sync.WaitGroup
	wg.Add(kIdleWarmTasks)
	for i := 0; i < kIdleWarmTasks; i++ {
		go func() {
			atomic.AddUint64(&sink, spinWork(7, 500000))
			wg.Done()
		}()
	}
	wg.Wait()
	time.Sleep(kIdleSettleMs * time.Millisecond)
	c0, t0 := cpuNs(), time.Now()
	time.Sleep(time.Second)
	c1, t1 := cpuNs(), time.Now()
	return 100 * float64(c1-c0) / float64(t1.Sub(t0).Nanoseconds())
}

func main() {
	w := flag.String("workload", "", "workload name")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	reps := flag.Int("reps", 1, "repetitions")
	quick := flag.Bool("quick", false, "divide the counts by 10 (smoke run)")
	flag.Parse()
	if *quick {
		div = kQuickDiv
	}
	type wl struct {
		unit string
		fn   func(int) float64
	}
	ws := map[string]wl{
		"yield":          {"ns/yield", yield},
		"park_ready":     {"ns/wake", parkReady},
		"chan_pingpong":  {"ns/roundtrip", chanPingpong},
		"spawn_join":     {"ns/goroutine", spawnJoin},
		"skynet":         {"ms", skynet},
		"mutex":          {"ns/lock", mutex},
		"memory_default": {"B/goroutine", memory},
		"memory_2k":      {"B/goroutine", memory},
		"fanout":         {"x", fanout},
		"idle":           {"%cpu", idle},
	}
	if *w == "raw_switch" {
		fmt.Printf("NA %s raw_switch %d Go has no user-level context switch API\n", sys, *procs)
		return
	}
	sel, ok := ws[*w]
	if !ok {
		fmt.Fprintf(os.Stderr, "gortbench: unknown workload %q\n", *w)
		os.Exit(2)
	}
	if *w == "memory_default" || *w == "memory_2k" {
		info(*w, *procs, "Go stacks start at 2 KiB (its default and minimum) and grow; memory_default and memory_2k are the same configuration")
	}
	for r := 0; r < *reps; r++ {
		fmt.Printf("BENCH %s %s %d %.3f %s\n", sys, *w, *procs, sel.fn(*procs), sel.unit)
	}
}
