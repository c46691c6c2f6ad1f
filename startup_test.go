package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"stores-api/internal/testdb"
)

// Start-up says, once the port is bound, where the API, its docs, the
// admin panel, the metrics and the database are, the mode, and what the
// migrations did; never a database password.
func TestStartUpSaysWhereEverythingIs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dbURL := testdb.NewURL(t)
	p := startServer(t, map[string]string{"DATABASE_URL": dbURL})
	base := p.base
	var logs string
	deadline := time.Now().Add(10 * time.Second)
	for logs = p.logs.String(); !strings.Contains(logs, "msg=configuration"); logs = p.logs.String() {
		if time.Now().After(deadline) {
			t.Fatalf("no configuration line:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := []string{
		"msg=listening url=" + base + " mode=development",
		`msg="API docs" url=` + base + "/swagger-ui",
		`msg="admin panel" url=` + base + "/admin",
		"msg=metrics url=" + base + "/metrics",
		"msg=migrations applied_now=",
	}
	if strings.HasPrefix(dbURL, "sqlite:///") {
		want = append(want, "msg=database dialect=sqlite file="+strings.TrimPrefix(dbURL, "sqlite:///"))
	} else {
		want = append(want, "msg=database dialect=postgres host=")
	}
	for _, w := range want {
		if !strings.Contains(logs, w) {
			t.Errorf("the start-up log lacks %q:\n%s", w, logs)
		}
	}
	if !regexp.MustCompile(`schema_version=[1-9][0-9]*`).MatchString(logs) {
		t.Errorf("the start-up log lacks the schema version:\n%s", logs)
	}
	if strings.Contains(logs, "jwt_access_ttl=900000000000") {
		t.Errorf("a duration is logged in nanoseconds:\n%s", logs)
	}
	// GET / lists where to go.
	status, body, err := p.send("GET", "/", "", nil)
	if err != nil || status != http.StatusOK || body["docs"] != "/swagger-ui" || body["admin"] != "/admin" {
		t.Fatalf("GET / = %d %v %v", status, body, err)
	}
}

// The JSON logs of production write durations as Go durations too.
func TestProductionLogsReadableDurations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, map[string]string{"DATABASE_URL": testdb.NewURL(t), "APP_ENV": "production",
		"JWT_SECRET_KEY": strongKey, "MAIL_DISABLED": "true"})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs.String(), `"msg":"configuration"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no configuration line:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if logs := p.logs.String(); !strings.Contains(logs, `"jwt_access_ttl":"15m0s"`) {
		t.Fatalf("durations are not readable:\n%s", logs)
	}
}

// A port another process holds stops start-up with a message naming PORT.
func TestTakenPortNamesPORT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+portString(ln.Addr()),
		"DATABASE_URL=sqlite:///"+filepath.Join(t.TempDir(), "d.db"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("started on a taken port:\n%s", out)
	}
	if !strings.Contains(string(out), "set PORT to a free port") || strings.Contains(string(out), "msg=listening") {
		t.Fatalf("the message does not name PORT, or claims to listen:\n%s", out)
	}
}

// --help, -h and help list the commands and exit 0.
func TestHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"--help", "-h", "help"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", arg, err, out)
		}
		for _, command := range []string{"serve", "worker", "migrate up|down|status", "promote-admin EMAIL",
			"demote-admin EMAIL", "end-sessions EMAIL", "healthcheck"} {
			if !strings.Contains(string(out), "  "+command) {
				t.Errorf("%s does not list %q:\n%s", arg, command, out)
			}
		}
	}
}

func portString(addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}
