package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"stores-api/internal/testdb"
)

// buildServer compiles the real binary once per test run.
var buildServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stores-api-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stores-api")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// serverProcess is the built binary running on its own port.
type serverProcess struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

// startServer runs the binary with env on a free port and waits until it
// answers.
func startServer(t *testing.T, env map[string]string) *serverProcess {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // no stray .env is read
	cmd.Env = append(os.Environ(), "PORT="+port, "HOST=127.0.0.1", "BCRYPT_COST=4", "AUTH_RATE_LIMIT=0",
		"ADMIN_EMAILS=admin@example.com")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, base: "http://127.0.0.1:" + port, logs: logs}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/stores"); err == nil {
			resp.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not start:\n%s", logs)
	return nil
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// send makes a request with an optional JSON body and token and decodes
// the JSON answer.
func (p *serverProcess) send(method, path, token string, body any) (int, map[string]any, error) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// post sends a JSON body and decodes the JSON answer.
func (p *serverProcess) post(path, token string, body any) (int, map[string]any, error) {
	return p.send("POST", path, token, body)
}

// adminToken registers the admin and logs in.
func (p *serverProcess) adminToken(t *testing.T) string {
	t.Helper()
	creds := map[string]string{"email": "admin@example.com", "password": "correct horse"}
	if status, body, err := p.post("/register", "", creds); err != nil || status != http.StatusCreated {
		t.Fatalf("register: %d %v %v", status, body, err)
	}
	status, body, err := p.post("/login", "", creds)
	if err != nil || status != http.StatusOK {
		t.Fatalf("login: %d %v %v", status, body, err)
	}
	return body["access_token"].(string)
}

// SIGTERM during a stream of writes: every write answered 2xx is stored,
// nothing is answered 5xx, later requests are refused cleanly, and the
// process exits 0.
func TestSIGTERMDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dbURL := testdb.NewURL(t)
	p := startServer(t, map[string]string{"DATABASE_URL": dbURL})
	token := p.adminToken(t)

	var (
		mu       sync.Mutex
		answered []string // names of stores answered 201
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("store-%d-%d", w, i)
				status, body, err := p.post("/stores", token, map[string]string{"name": name})
				switch {
				case err != nil: // refused after shutdown began: fine
					return
				case status == http.StatusCreated:
					mu.Lock()
					answered = append(answered, name)
					mu.Unlock()
				default:
					t.Errorf("write answered %d: %v", status, body)
					return
				}
			}
		}(w)
	}
	// Signal once writes are flowing: some answered, more in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes answered in 10s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- p.cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not stop\n%s", p.logs)
	}
	close(stop)
	wg.Wait()
	if len(answered) == 0 {
		t.Fatal("no write succeeded before the signal")
	}
	if _, err := http.Get(p.base + "/stores"); err == nil {
		t.Error("the server still answers after exiting")
	}

	// Every acknowledged write is in the database.
	restarted := startServer(t, map[string]string{"DATABASE_URL": dbURL})
	creds := map[string]string{"email": "admin@example.com", "password": "correct horse"}
	_, body, err := restarted.post("/login", "", creds)
	if err != nil {
		t.Fatal(err)
	}
	stored := restarted.storeNames(t, body["access_token"].(string))
	for _, name := range answered {
		if !stored[name] {
			t.Errorf("store %s was acknowledged but is not stored", name)
		}
	}
	if !strings.Contains(p.logs.String(), "shutting down") {
		t.Errorf("no shutdown log line:\n%s", p.logs)
	}
}

func (p *serverProcess) storeNames(t *testing.T, token string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for page := 1; ; page++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/stores?per_page=100&page=%d", p.base, page), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, s := range list {
			names[s["name"].(string)] = true
		}
		// Without paging the first page is the whole list.
		if len(list) < 100 || resp.Header.Get("X-Total-Count") == "" {
			return names
		}
	}
}
