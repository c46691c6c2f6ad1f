package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"stores-api/internal/smtptest"
	"stores-api/internal/testdb"
)

// startWorker runs `stores-api worker` with env; it is killed when the
// test ends if it still runs.
func startWorker(t *testing.T, env map[string]string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "worker")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "BCRYPT_COST=4")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, logs
}

// The API runs with WORKERS=0 and sends nothing; a separate worker
// process sends the welcome email, whose link the API then honours; the
// worker stops cleanly on SIGTERM.
func TestWorkerProcessSendsWhatTheAPIQueues(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	smtp := smtptest.Start(t)
	env := map[string]string{
		"DATABASE_URL":   testdb.NewURL(t),
		"JWT_SECRET_KEY": "shared-secret-of-all-replicas-0123456789",
		"MAIL_URL":       smtp.URL(),
		"PUBLIC_URL":     "https://api.example.test",
	}
	apiEnv := map[string]string{"WORKERS": "0"}
	for k, v := range env {
		apiEnv[k] = v
	}
	api := startServer(t, apiEnv)
	creds := map[string]string{"email": "new@example.com", "password": "correct horse"}
	if status, body, err := api.post("/register", "", creds); err != nil || status != http.StatusCreated {
		t.Fatalf("register: %d %v %v", status, body, err)
	}
	time.Sleep(2 * time.Second) // longer than a worker takes to poll
	if n := smtp.Count(); n != 0 {
		t.Fatalf("the API with WORKERS=0 sent %d emails", n)
	}

	worker, logs := startWorker(t, env)
	msg := smtp.Next(t, 30*time.Second)
	link := regexp.MustCompile(`https://api\.example\.test(/verify-email\?token=[A-Za-z0-9%]+)`).FindStringSubmatch(msg.Text)
	if len(msg.To) != 1 || msg.To[0] != "new@example.com" || link == nil {
		t.Fatalf("email to %v without a verification link:\n%s\nworker log:\n%s", msg.To, msg.Text, logs)
	}
	if _, err := url.Parse(link[1]); err != nil {
		t.Fatal(err)
	}
	if status, body, err := api.send("GET", link[1], "", nil); err != nil || status != http.StatusOK {
		t.Fatalf("following the link: %d %v %v", status, body, err)
	}

	if err := worker.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- worker.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the worker exited with %v:\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the worker did not stop on SIGTERM:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "worker shutting down") {
		t.Errorf("no shutdown line in the worker's log:\n%s", logs)
	}
}

// A worker with no workers to run is a mistake, reported at once.
func TestWorkerRefusesZeroWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cmd, logs := startWorker(t, map[string]string{"WORKERS": "0", "DATABASE_URL": testdb.NewURL(t)})
	err := cmd.Wait()
	if err == nil || !strings.Contains(logs.String(), "WORKERS=0") {
		t.Fatalf("exit %v, log:\n%s", err, logs)
	}
}
