"""gort.trace: run a workload under GORT_DEBUG=schedtrace=N and draw it.

    python3 -m gort.trace [-i MS] [-o trace.png] [--csv FILE] -- CMD [ARGS...]

runs CMD with schedtrace every MS milliseconds (default 10), passes its
output through (minus the SCHED lines), and saves a picture of the global and
per-P run-queue lengths and of the thread counts over time (needs Debian's
python3-matplotlib; without it, --csv still works). Exit status: CMD's.

The trace comes from sysmon in the traced process, on its stderr, so the
workload is a separate process: any program using libgort (Python or not).
From Python code: samples = gort.trace.run([...]); gort.trace.plot(samples,
"out.png").
"""
import argparse
import dataclasses
import os
import re
import subprocess
import sys
import threading

_LINE = re.compile(r"SCHED (\d+)ms: gomaxprocs=(\d+) idleprocs=(\d+) threads=(\d+) spinningthreads=(\d+) "
                   r"idlethreads=(\d+) runqueue=(\d+)(?: \[([\d ]*)\])?")


@dataclasses.dataclass
class Sample:
    t_ms: int
    gomaxprocs: int
    idleprocs: int
    threads: int
    spinningthreads: int
    idlethreads: int
    runqueue: int
    local: list  # per-P run-queue lengths (runnext included)


def parse_line(line):
    m = _LINE.search(line)
    if not m:
        return None
    g = m.groups()
    local = [int(x) for x in g[7].split()] if g[7] else []
    return Sample(*(int(x) for x in g[:7]), local)


def parse(text):
    return [s for s in map(parse_line, text.splitlines()) if s is not None]


def run(cmd, interval_ms=10, echo=True):
    """Runs cmd (a list) with schedtrace; returns (returncode, samples). The
    child's stdout is inherited; its stderr minus SCHED lines is echoed."""
    if not cmd:
        raise ValueError("no command to trace")
    env = dict(os.environ)
    dbg = env.get("GORT_DEBUG", "")
    env["GORT_DEBUG"] = (dbg + "," if dbg else "") + "schedtrace=%d" % int(interval_ms)
    p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, errors="replace")
    samples = []

    def reader():
        for line in p.stderr:
            s = parse_line(line)
            if s is not None:
                samples.append(s)
            elif echo:
                sys.stderr.write(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    rc = p.wait()
    t.join()
    return rc, samples


def write_csv(samples, path):
    nprocs = max((len(s.local) for s in samples), default=0)
    with open(path, "w") as f:
        f.write("t_ms,gomaxprocs,idleprocs,threads,spinningthreads,idlethreads,runqueue%s\n" %
                "".join(",p%d" % i for i in range(nprocs)))
        for s in samples:
            loc = s.local + [""] * (nprocs - len(s.local))
            f.write(",".join(str(v) for v in (s.t_ms, s.gomaxprocs, s.idleprocs, s.threads, s.spinningthreads,
                                              s.idlethreads, s.runqueue, *loc)) + "\n")


def plot(samples, path, title=None):
    """Saves a PNG: run-queue lengths (global and per P) and thread counts
    against time. ImportError if matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("gort.trace.plot needs matplotlib (Debian: apt-get install python3-matplotlib)") from e
    if not samples:
        raise ValueError("no SCHED samples to plot (did the workload start a gort runtime?)")
    t = [s.t_ms / 1000.0 for s in samples]
    fig, (a1, a2) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    a1.step(t, [s.runqueue for s in samples], where="post", label="global", linewidth=2)
    nprocs = max(len(s.local) for s in samples)
    for i in range(nprocs):
        a1.step(t, [s.local[i] if i < len(s.local) else 0 for s in samples], where="post", label="P%d" % i)
    a1.set_ylabel("run queue length")
    a1.legend(loc="upper right", fontsize="small", ncol=min(nprocs + 1, 6))
    for name in ("threads", "idlethreads", "spinningthreads", "idleprocs"):
        a2.step(t, [getattr(s, name) for s in samples], where="post", label=name)
    a2.set_ylabel("count")
    a2.set_xlabel("time since the first trace (s)")
    a2.legend(loc="upper right", fontsize="small")
    fig.suptitle(title or "gort schedtrace")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    i = argv.index("--")
    ap = argparse.ArgumentParser(prog="python3 -m gort.trace")
    ap.add_argument("-i", "--interval", type=int, default=10, help="schedtrace period in ms (default 10)")
    ap.add_argument("-o", "--output", default="gort-trace.png", help="PNG to write (default gort-trace.png)")
    ap.add_argument("--csv", help="also write the samples as CSV")
    ap.add_argument("--no-plot", action="store_true", help="no PNG (matplotlib not needed)")
    opts = ap.parse_args(argv[:i])
    cmd = argv[i + 1:]
    if not cmd:
        ap.error("no command after --")
    rc, samples = run(cmd, opts.interval)
    print("gort.trace: %d SCHED samples from %s" % (len(samples), " ".join(cmd)), file=sys.stderr)
    if opts.csv:
        write_csv(samples, opts.csv)
    if not opts.no_plot and samples:
        plot(samples, opts.output, title=" ".join(cmd)[:80])
        print("gort.trace: wrote %s" % opts.output, file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
