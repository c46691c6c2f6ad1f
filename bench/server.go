package main

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// createDatabase makes a fresh database on the server and returns its URL
// and a function that drops it.
func createDatabase(serverURL string) (string, func(), error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	name := "bench_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating the benchmark database: %w", err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// server is the built binary running in production mode.
type server struct {
	cmd  *exec.Cmd
	base string
	logs bytes.Buffer
}

// startServer builds and starts the server on dbURL, signing tokens with
// secret; extraEnv adds settings.
func startServer(dbURL, secret string, extraEnv ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "stores-api-bench")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "stores-api")
	// The binary the Dockerfile ships: static and stripped. A cgo build
	// links libc dynamically, which adds its pages to the resident size.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://127.0.0.1:" + port}
	s.cmd = exec.Command(bin)
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(),
		"APP_ENV=production",
		"MAIL_DISABLED=true",
		"HOST=127.0.0.1",
		"PORT="+port,
		"DATABASE_URL="+dbURL,
		"JWT_SECRET_KEY="+secret,
		"ADMIN_EMAILS="+adminEmail,
		"AUTH_RATE_LIMIT=0",
		"JWT_ACCESS_TTL=24h", // one token serves the whole run
		"LOG_LEVEL=warn",
		"DB_MAX_OPEN_CONNS="+strconv.Itoa(connections),
		"DB_MAX_IDLE_CONNS="+strconv.Itoa(connections),
	)
	s.cmd.Env = append(s.cmd.Env, extraEnv...)
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("the server did not start:\n%s", s.logs.String())
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
	}
}

// peakRSS reads the process's high-water mark of resident memory.
func (s *server) peakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0, errors.New("no VmHWM in /proc status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb * 1024, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
