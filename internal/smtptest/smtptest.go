// Package smtptest runs a real SMTP server on the loopback interface for tests.
//
// It speaks SMTP over TCP (github.com/emersion/go-smtp), so a test exercises the same
// dial, EHLO, AUTH and DATA exchange a production mail server would see; a mock Sender
// would prove nothing about the SMTP client. Stop and Restart let a test take the server
// down and bring it back on the same port, as a mail outage does.
package smtptest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// bindRetry bounds how long Restart keeps trying to bind the old port: it can be briefly
// held by the socket just closed, or by another test that happened to grab it.
const bindRetry = 3 * time.Second

// Server is an SMTP server on 127.0.0.1 that keeps every message it accepts for Next.
type Server struct {
	user, pass string // both empty: no AUTH is offered or required
	addr       string

	mu     sync.Mutex
	queue  []Received    // delivered, not yet taken by Next
	arrive chan struct{} // signalled (capacity 1) whenever queue grows
	srv    *smtp.Server  // nil while stopped
	ln     net.Listener  // the listener srv serves, closed by Stop
	served chan struct{} // closed when srv's Serve goroutine returns
	count  atomic.Int64  // messages delivered since Start
}

// Start runs a server without authentication on a free loopback port and stops it when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "", "")
}

// StartWithAuth runs a server that offers AUTH PLAIN and refuses MAIL FROM until the
// client has authenticated as user with pass.
func StartWithAuth(t testing.TB, user, pass string) *Server {
	t.Helper()
	return start(t, user, pass)
}

func start(t testing.TB, user, pass string) *Server {
	t.Helper()
	s := &Server{user: user, pass: pass, arrive: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr returns the host:port the server listens on; it does not change across Restart.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's address as a MAIL_URL without credentials.
func (s *Server) URL() string { return "smtp://" + s.addr }

// Count returns how many messages the server has accepted since Start, including those
// already taken by Next.
func (s *Server) Count() int { return int(s.count.Load()) }

// Stop closes the listener and every open connection, so senders get "connection
// refused" until Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, served := s.srv, s.ln, s.served
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close() // closes the open connections
	_ = ln.Close()  // srv.Close misses the listener if Serve has not registered it yet
	<-served
}

// Restart listens again on the same port after Stop, retrying the bind briefly. Messages
// queued before the stop stay queued.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		t.Fatalf("smtptest: Restart on a running server; call Stop first")
	}
	ln, err := listenRetry(s.addr, bindRetry)
	if err != nil {
		t.Fatalf("smtptest: restart: %v", err)
	}
	s.serve(ln)
}

// Next waits up to timeout for the next message not yet returned and fails the test if
// none arrives. It calls t.Fatalf, so call it only from the test's own goroutine.
func (s *Server) Next(t testing.TB, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if r, ok := s.pop(); ok {
			return r
		}
		select {
		case <-s.arrive:
		case <-deadline.C:
			t.Fatalf("smtptest: no message within %v (%d received so far)", timeout, s.Count())
			return Received{}
		}
	}
}

// listenRetry binds addr, retrying until the port is free or the wait is over.
func listenRetry(addr string, wait time.Duration) (net.Listener, error) {
	stop := time.Now().Add(wait)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(stop) {
			return ln, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serve runs a fresh go-smtp server on ln: a closed go-smtp server cannot be reused.
func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // plain text AUTH is fine on loopback; there is no TLS here
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	served := make(chan struct{})
	s.mu.Lock()
	s.srv, s.ln, s.served = srv, ln, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns once Stop closes ln
	}()
}

// deliver queues a parsed message for Next.
func (s *Server) deliver(r Received) {
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	s.count.Add(1)
	select {
	case s.arrive <- struct{}{}:
	default: // a signal is already pending
	}
}

// pop takes the oldest queued message.
func (s *Server) pop() (Received, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Received{}, false
	}
	r := s.queue[0]
	s.queue = s.queue[1:]
	return r, true
}

func (s *Server) newSession(*smtp.Conn) (smtp.Session, error) {
	return &session{srv: s}, nil
}

// session is one SMTP connection's state: go-smtp calls its methods in protocol order.
type session struct {
	srv    *Server
	authed bool
	to     []string
}

// AuthMechanisms offers PLAIN only when the server was started with credentials; an empty
// list makes go-smtp leave AUTH out of the EHLO reply.
func (s *session) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against the server's.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.srv.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

// Mail starts a message, refusing it until the client authenticated if AUTH is required.
func (s *session) Mail(string, *smtp.MailOptions) error {
	if s.srv.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

// Rcpt records an envelope recipient.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data parses the message and queues it; a message that does not parse is refused, so
// the sending test sees an SMTP error rather than a silently missing email.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("smtptest: read DATA: %w", err)
	}
	msg, err := parse(raw, s.to)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	s.srv.deliver(msg)
	return nil
}

// Reset forgets the envelope between messages on one connection.
func (s *session) Reset() {
	s.to = nil
}

// Logout has nothing to release.
func (s *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)
