"""Producer/consumer between Python threads and goroutines: two
threading.Threads produce work into a gort.Chan, four goroutines square it
and send results on, the main thread collects them with select and a
timeout, and a done channel tells the workers to stop.

    GORT_LIB=build/libgort.so python3 bindings/python/examples/producer_consumer.py [items]
"""
import os.path as _p, sys as _s
_s.path.insert(1, _p.join(_p.dirname(_p.abspath(__file__)), ".."))  # this checkout's package
import sys
import threading

import gort

items = int(sys.argv[1]) if len(sys.argv) > 1 else 10000

with gort.Runtime(maxprocs=2):
    work, results = gort.Chan(64), gort.Chan(64)
    wg = gort.WaitGroup()

    producers = gort.WaitGroup()

    def producer(start, step):  # a Python thread
        for i in range(start, items, step):
            work.send(i)
        producers.done()  # any thread may call done

    def worker(name):  # a goroutine
        n = 0
        for i in work:  # until work is closed
            results.send((name, i, i * i))
            n += 1
        wg.done()
        return n

    wg.add(4)
    workers = [gort.go(worker, "w%d" % k) for k in range(4)]
    producers.add(2)
    threads = [threading.Thread(target=producer, args=(k, 2)) for k in range(2)]
    for t in threads:
        t.start()

    def closer():  # a goroutine: close work once the producers are done, results once the workers are
        producers.wait()  # parks the goroutine (a thread's join() would hold its P)
        work.close()
        wg.wait()
        results.close()

    gort.go(closer)
    seen, total, idle = set(), 0, 0
    while True:
        i, v = gort.select((results,), timeout=1.0)
        if i < 0:
            idle += 1
            continue
        if v is gort.CLOSED:
            break
        name, x, sq = v
        assert sq == x * x and x not in seen
        seen.add(x)
        total += sq
    counts = [g.join() for g in workers]
    for t in threads:
        t.join()
    ok = seen == set(range(items))
    print("%d items, sum of squares %d, per worker %s: %s" % (len(seen), total, counts, "ok" if ok else "WRONG"))
    sys.exit(0 if ok else 1)
