// Command gcref is a reference point for bench/gc_bench.cc (issue 6): the
// time of one runtime.GC() in Go with N goroutines parked on a channel
// receive, each holding two small heap objects in its frame. Go's cycle
// scans every goroutine's stack (the work gort_quiesce hands to a host's
// scan_g) and also marks and sweeps the heap, so it is an upper reference,
// not the same workload.
//
//	gcref [-goroutines 100000,1000000] [-procs 2] [-reps 5]
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type obj struct{ a, b *obj }

var sinkObj *obj

func park(ch chan struct{}, started *sync.WaitGroup) {
	x := &obj{}
	y := &obj{a: x}
	started.Done()
	<-ch
	sinkObj = y.a // x and y stay live across the receive
}

func main() {
	gs := flag.String("goroutines", "100000,1000000", "comma-separated goroutine counts")
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	reps := flag.Int("reps", 5, "runtime.GC calls per count")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	fmt.Printf("%-18s %8s %2s %10s %10s %10s\n", "workload", "gs", "P", "median", "min", "max")
	for _, s := range strings.Split(*gs, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			panic(err)
		}
		ch := make(chan struct{})
		var started sync.WaitGroup
		started.Add(n)
		for i := 0; i < n; i++ {
			go park(ch, &started)
		}
		started.Wait()
		runtime.GC()
		var ms []float64
		for r := 0; r < *reps; r++ {
			t0 := time.Now()
			runtime.GC()
			ms = append(ms, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		sort.Float64s(ms)
		fmt.Printf("%-18s %8d %2d %10.2f %10.2f %10.2f ms\n", "go_runtime_gc", n, *procs, ms[len(ms)/2], ms[0], ms[len(ms)-1])
		close(ch)
	}
}
