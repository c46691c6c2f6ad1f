package main

// Hostile clients against the built binary: what only a real server and a
// real socket show (timeouts, connection limits, memory, answers made
// before routing).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"stores-api/internal/testdb"
)

// peakRSS is the peak resident set size of a process, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to read memory from: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// gzipBomb is about 200 KiB of gzip that inflates to 200 MiB.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 200 {
		w.Write(zeros)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGzipBomb: a small compressed body that inflates far past the body
// limit is refused with 413 at once, and the server's memory hardly moves.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t)})
	bomb := gzipBomb(t)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes, over the 1 MiB the server reads", len(bomb))
	}
	var before int64
	for i := range 7 {
		if i == 2 { // after a warm-up, as the process settles its pools
			before = peakRSS(t, p.cmd.Process.Pid)
		}
		req, err := http.NewRequest("POST", p.base+"/register", bytes.NewReader(bomb))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("the bomb took %s to answer", elapsed)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":413`) {
			t.Fatalf("the bomb got %d: %s", resp.StatusCode, body)
		}
	}
	if grown := peakRSS(t, p.cmd.Process.Pid) - before; grown > 8<<20 {
		t.Errorf("the server's peak memory grew by %d MiB for five bombs", grown>>20)
	}
}

// closedWithin reports whether the server closes conn within d, reading
// (and discarding) whatever it answers first.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowAndSilentClientsAreCutOff: a connection that sends nothing, a
// client that trickles its headers one byte at a time and an idle
// keep-alive connection are closed once READ_TIMEOUT (or IDLE_TIMEOUT)
// passes, and the trickled request is never served.
func TestSlowAndSilentClientsAreCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "READ_TIMEOUT": "1s", "IDLE_TIMEOUT": "1s"})
	addr := strings.TrimPrefix(p.base, "http://")
	dial := func() net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("silent", func(t *testing.T) {
		if !closedWithin(dial(), 4*time.Second) {
			t.Fatal("a connection that sent nothing is still open after 4s")
		}
	})

	t.Run("trickled headers", func(t *testing.T) {
		conn := dial()
		request := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + strings.Repeat("a", 60) + "\r\n\r\n"
		start := time.Now()
		var writeErr error
		for i := 0; i < len(request) && writeErr == nil && time.Since(start) < 6*time.Second; i++ {
			_, writeErr = conn.Write([]byte{request[i]})
			time.Sleep(100 * time.Millisecond)
		}
		if writeErr == nil {
			answer, _ := io.ReadAll(io.LimitReader(conn, 4096))
			if strings.Contains(string(answer), " 200 ") {
				t.Fatalf("a request trickled over %s was served: %q", time.Since(start), answer)
			}
			if !closedWithin(conn, 2*time.Second) {
				t.Fatal("the trickling connection is still open")
			}
		}
		if elapsed := time.Since(start); elapsed > 4*time.Second {
			t.Fatalf("the trickling client was cut off after %s, want about READ_TIMEOUT (1s)", elapsed)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial()
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %d", resp.StatusCode)
		}
		if !closedWithin(conn, 4*time.Second) {
			t.Fatal("an idle keep-alive connection is still open after 4s")
		}
	})
}

// TestConnectionCap: past MAX_CONNECTIONS a new connection waits; it is
// served as soon as one of the others closes.
func TestConnectionCap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "MAX_CONNECTIONS": "2", "READ_TIMEOUT": "30s"})
	addr := strings.TrimPrefix(p.base, "http://")
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	time.Sleep(200 * time.Millisecond) // both accepted
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(p.base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was served (%d) while two were held", resp.StatusCode)
	}
	held[0].Close()
	client.Timeout = 5 * time.Second
	resp, err := client.Get(p.base + "/healthz")
	if err != nil {
		t.Fatalf("no answer once a connection closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
}

// TestAnswersBeforeRoutingCarrySecurityHeaders: what the HTTP server
// answers before any route runs (413 for a body announced too large, 431
// for headers too large, 400 for a request it cannot parse) has the
// security headers and the error envelope of every other answer.
func TestAnswersBeforeRoutingCarrySecurityHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t)})
	addr := strings.TrimPrefix(p.base, "http://")
	for _, tc := range []struct {
		name    string
		request string
		status  int
	}{
		{"body too large", "POST /stores HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(1<<20+1) + "\r\n\r\n{", http.StatusRequestEntityTooLarge},
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 8<<10) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge},
		{"not HTTP", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprint(conn, tc.request)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), fmt.Sprintf(`"code":%d`, tc.status)) {
				t.Fatalf("got %d %s, want %d in the envelope", resp.StatusCode, body, tc.status)
			}
			for header, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
				"Content-Security-Policy": "default-src 'self'",
			} {
				if got := resp.Header.Get(header); !strings.HasPrefix(got, want) {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
		})
	}
}

// TestMetricsListener: with METRICS_ADDR, production serves the metrics
// there and answers 404 for /metrics on the public port.
func TestMetricsListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	metricsAddr := "127.0.0.1:" + freePort(t)
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "APP_ENV": "production", "MAIL_DISABLED": "true",
		"JWT_SECRET_KEY": strongKey, "METRICS_ADDR": metricsAddr})
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("public /metrics in production: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `http_requests_total{method="GET",route="unmatched",status="404"} 1`) {
		t.Fatalf("the metrics listener: %d\n%s", resp.StatusCode, body)
	}
}
