// Command report turns the BENCH/NA/INFO lines of bench/run.sh (read from
// stdin) into its markdown table: per workload and procs, each system's
// median [min-max], the ratio of gort's median to each peer's, and the
// verdict on issue 5 §3's target for that row.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

type key struct {
	workload string
	procs    int
}

// The rows, in the order.
var rows = []key{
	{"raw_switch", 1}, {"yield", 1}, {"park_ready", 1}, {"park_ready", 2},
	{"chan_pingpong", 1}, {"chan_pingpong", 2}, {"spawn_join", 1}, {"spawn_join", 2},
	{"skynet", 1}, {"skynet", 2}, {"mutex", 2}, {"memory_default", 1}, {"memory_2k", 1},
	{"fanout", 2}, {"idle", 2},
}

var systems = []string{"gort", "go", "boost", "boost_pool"}
var peers = []string{"go", "boost", "boost_pool"}

type cell struct {
	vals []float64
	na   string
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minmax(v []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// verdict: issue 5 §3's target for the row, judged on medians.
func verdict(k key, med map[string]float64) string {
	g, ok := med["gort"]
	if !ok {
		return "not measurable yet"
	}
	bestBoost := math.Inf(1)
	for _, s := range []string{"boost", "boost_pool"} {
		if v, ok := med[s]; ok {
			bestBoost = math.Min(bestBoost, v)
		}
	}
	yes := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	switch k.workload {
	case "raw_switch":
		return fmt.Sprintf("≤ Boost fcontext: %s (%.2f×)", yes(g <= med["boost"]), g/med["boost"])
	case "yield", "park_ready", "chan_pingpong", "spawn_join", "skynet":
		goOK := g <= 0.5*med["go"]
		bOK := g < bestBoost
		return fmt.Sprintf("≤ 0.5× Go: %s (%.2f×); < best Boost: %s (%.2f×)",
			yes(goOK), g/med["go"], yes(bOK), g/bestBoost)
	case "memory_2k":
		return fmt.Sprintf("≤ Go: %s (%.2f×)", yes(g <= med["go"]), g/med["go"])
	case "memory_default":
		return fmt.Sprintf("≤ 2× Go: %s (%.2f×)", yes(g <= 2*med["go"]), g/med["go"])
	case "fanout":
		return fmt.Sprintf("≥ 1.9×: %s", yes(g >= 1.9))
	case "idle":
		return fmt.Sprintf("< 1%%: %s", yes(g < 1))
	}
	return "no target"
}

func main() {
	data := map[key]map[string]*cell{}
	units := map[key]string{}
	var infos []string
	seen := map[string]bool{}
	get := func(k key, s string) *cell {
		if data[k] == nil {
			data[k] = map[string]*cell{}
		}
		if data[k][s] == nil {
			data[k][s] = &cell{}
		}
		return data[k][s]
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		p, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		k := key{f[2], p}
		switch f[0] {
		case "BENCH":
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil || len(f) < 6 {
				continue
			}
			c := get(k, f[1])
			c.vals = append(c.vals, v)
			units[k] = f[5]
		case "NA":
			get(k, f[1]).na = strings.Join(f[4:], " ")
		case "INFO":
			line := fmt.Sprintf("%s %s (procs %d): %s", f[1], f[2], p, strings.Join(f[4:], " "))
			if !seen[line] {
				seen[line] = true
				infos = append(infos, line)
			}
		}
	}

	fmt.Println("| workload | procs | unit | gort | go | boost | boost_pool | gort/go | gort/boost | gort/boost_pool | §3 target |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, k := range rows {
		cs := data[k]
		if cs == nil {
			continue
		}
		med := map[string]float64{}
		line := fmt.Sprintf("| %s | %d | %s |", k.workload, k.procs, units[k])
		for _, s := range systems {
			c := cs[s]
			switch {
			case c == nil:
				line += " — |"
			case len(c.vals) == 0:
				line += " " + c.na + " |"
			default:
				m := median(c.vals)
				lo, hi := minmax(c.vals)
				med[s] = m
				line += fmt.Sprintf(" %s [%s–%s] |", num(m), num(lo), num(hi))
			}
		}
		for _, s := range peers {
			g, ok1 := med["gort"]
			p, ok2 := med[s]
			if ok1 && ok2 && p != 0 {
				line += fmt.Sprintf(" %.2f |", g/p)
			} else {
				line += " — |"
			}
		}
		line += " " + verdict(k, med) + " |"
		fmt.Println(line)
	}
	if len(infos) > 0 {
		fmt.Println()
		fmt.Println("Notes printed by the programs:")
		fmt.Println()
		for _, l := range infos {
			fmt.Println("- " + l)
		}
	}
}
