package main

import (
	"os"
	"testing"
	"time"
)

// parseStat reads the command name even when it holds spaces and
// parentheses, and the CPU fields after it.
func TestParseStat(t *testing.T) {
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194304 10 0 0 0 150 25 7 3 20 0 1 0 100 0 0"
	comm, fields, ok := parseStat(stat)
	if !ok || comm != "a (b) c" {
		t.Fatalf("parseStat: %q, %v", comm, ok)
	}
	if own, reaped := ticks(fields[11])+ticks(fields[12]), ticks(fields[13])+ticks(fields[14]); own != 1750*time.Millisecond || reaped != 100*time.Millisecond {
		t.Errorf("own %v, reaped %v; want 1.75s and 100ms", own, reaped)
	}
	if _, _, ok := parseStat("1 (truncated"); ok {
		t.Error("a truncated line parsed")
	}
}

// readCPU finds this process and counts the CPU it spends.
func TestReadCPUCountsTheServer(t *testing.T) {
	before := readCPU(os.Getpid())
	for start := time.Now(); time.Since(start) < 5*time.Second; {
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); { // busy
		}
		if readCPU(os.Getpid()).server > before.server {
			return
		}
	}
	t.Errorf("the CPU time of a busy process did not grow from %v in 5 s", before.server)
}

// share divides by the requests, and the ceiling is every core busy with
// PostgreSQL's and the load generator's shares alone.
func TestShareAndCeiling(t *testing.T) {
	before := cpuTimes{server: time.Second, postgres: 2 * time.Second, postgresSeen: true}
	after := cpuTimes{server: 3 * time.Second, postgres: 5 * time.Second, postgresSeen: true}
	c, ok := share(before, after, time.Second, 1000)
	if !ok || c.server != 2*time.Millisecond || c.postgres != 3*time.Millisecond || c.load != time.Millisecond {
		t.Fatalf("share: %+v, %v", c, ok)
	}
	if _, ok := share(before, cpuTimes{}, time.Second, 1000); ok {
		t.Error("a share without PostgreSQL on the machine was given")
	}
	if _, ok := share(before, after, time.Second, 0); ok {
		t.Error("a share of no requests was given")
	}
}
