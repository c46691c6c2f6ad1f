package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Where the machine's CPU goes during a run: the server, PostgreSQL and
// the load generator (wrk or pgbench), each per request. The benchmark's
// processes share the machine's cores, so what PostgreSQL and wrk spend on
// each request bounds the ratio the server can reach at all (ceiling).

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTimes are the CPU times, user and system, the server and PostgreSQL
// have spent so far. PostgreSQL's are its live processes' and those of
// the backends it has reaped (pgbench's connections end with its run).
type cpuTimes struct {
	server, postgres time.Duration
	postgresSeen     bool // a PostgreSQL server runs on this machine
}

// readCPU reads the CPU times of the server process pid and of every
// PostgreSQL process on the machine.
func readCPU(pid int) cpuTimes {
	var t cpuTimes
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		comm, fields, ok := parseStat(string(raw))
		if !ok {
			continue
		}
		own := ticks(fields[11]) + ticks(fields[12])    // utime, stime
		reaped := ticks(fields[13]) + ticks(fields[14]) // cutime, cstime
		switch p, _ := strconv.Atoi(filepath.Base(filepath.Dir(path))); {
		case p == pid:
			t.server += own
		case comm == "postgres":
			t.postgres += own + reaped
			t.postgresSeen = true
		}
	}
	return t
}

// parseStat splits /proc/<pid>/stat into the command name and the fields
// after it (the state is fields[0]).
func parseStat(stat string) (string, []string, bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open || end+2 > len(stat) {
		return "", nil, false
	}
	fields := strings.Fields(stat[end+2:])
	return stat[open+1 : end], fields, len(fields) > 14
}

func ticks(field string) time.Duration {
	n, _ := strconv.ParseInt(field, 10, 64)
	return time.Duration(n) * clockTick
}

// cpuShare is the CPU each participant spent per request (or per pgbench
// transaction) in one run.
type cpuShare struct {
	server, postgres, load time.Duration
}

// share divides the CPU spent between before and after, and load's, by n.
func share(before, after cpuTimes, load time.Duration, n int64) (cpuShare, bool) {
	if n == 0 || !after.postgresSeen {
		return cpuShare{}, false
	}
	per := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	return cpuShare{per(after.server - before.server), per(after.postgres - before.postgres), per(load)}, true
}

// ceiling is the rate the endpoint would reach if the server cost no CPU
// at all and PostgreSQL and the load generator kept their costs per
// request: every core busy with those two alone.
func (c cpuShare) ceiling() float64 {
	perRequest := c.postgres + c.load
	if perRequest <= 0 {
		return 0
	}
	return float64(runtime.NumCPU()) * float64(time.Second) / float64(perRequest)
}

func micros(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + " µs" }
