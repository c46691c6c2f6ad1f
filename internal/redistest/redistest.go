// Package redistest runs a real Redis server for tests: redis-server, on a
// port of its own, keeping nothing on disk, that a test can stop and start
// again to see what the service does while Redis is down.
package redistest

import (
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"
)

// Server is a redis-server process.
type Server struct {
	port string
	cmd  *exec.Cmd
}

// Start runs redis-server on a free port until the test ends. redis-server
// must be installed (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{port: fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)}
	ln.Close()
	s.run(t)
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://127.0.0.1:" + s.port + "/0" }

// Stop kills the server: clients get connection refused. Its data is gone.
func (s *Server) Stop() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.run(t)
}

func (s *Server) run(t testing.TB) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server is not installed (apt-get install redis-server): %v", err)
	}
	s.cmd = exec.Command(path, "--port", s.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("tcp", "127.0.0.1:"+s.port); err == nil {
			conn.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("redistest: redis-server did not start on port %s", s.port)
}
