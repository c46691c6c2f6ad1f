package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The references run exactly the statements an endpoint sends. They are
// taken from the wire: a recording server, on the same database, talks to
// PostgreSQL through captureProxy, which passes every message on and keeps
// the statements and their arguments. Its connection runs pgx's exec mode
// (default_query_exec_mode=exec), whose Parse messages name the type of
// every argument, so the arguments can be read back; the SQL text is the
// one the service sends in any mode.

// statement is one statement as the service sent it.
type statement struct {
	sql  string
	args []any // int64, string or bool
}

// captureProxy relays one PostgreSQL connection at a time and records the
// statements sent over it.
type captureProxy struct {
	ln       net.Listener
	upstream string // host:port of PostgreSQL

	mu       sync.Mutex
	recorded []statement
	err      error
}

// newCaptureProxy listens on a local port in front of the server of dbURL.
func newCaptureProxy(dbURL string) (*captureProxy, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &captureProxy{ln: ln, upstream: u.Host}
	go p.serve()
	return p, nil
}

// url is dbURL through the proxy, in exec mode.
func (p *captureProxy) url(dbURL string) string {
	u, _ := url.Parse(dbURL)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	q.Set("default_query_exec_mode", "exec")
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *captureProxy) close() { p.ln.Close() }

// take returns what was recorded since the last take.
func (p *captureProxy) take() ([]statement, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out, err := p.recorded, p.err
	p.recorded, p.err = nil, nil
	return out, err
}

func (p *captureProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(client)
	}
}

// relay passes one connection on, reading what the client sends.
func (p *captureProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		p.fail(err)
		return
	}
	defer server.Close()
	go io.Copy(client, server) // PostgreSQL's answers, untouched

	backend := pgproto3.NewBackend(client, client)
	frontend := pgproto3.NewFrontend(server, server)
	startup, err := backend.ReceiveStartupMessage()
	if err != nil {
		p.fail(err)
		return
	}
	frontend.Send(startup)
	parsed := map[string]*pgproto3.Parse{}
	for {
		if err := frontend.Flush(); err != nil {
			return
		}
		msg, err := backend.Receive()
		if err != nil {
			return // the client closed the connection
		}
		switch m := msg.(type) {
		case *pgproto3.Parse:
			parsed[m.Name] = &pgproto3.Parse{Name: m.Name, Query: m.Query, ParameterOIDs: append([]uint32(nil), m.ParameterOIDs...)}
		case *pgproto3.Bind:
			p.record(parsed[m.PreparedStatement], m)
		}
		frontend.Send(msg)
	}
}

// record keeps a statement with its arguments, decoded by their types.
func (p *captureProxy) record(parse *pgproto3.Parse, bind *pgproto3.Bind) {
	if parse == nil {
		p.fail(errors.New("a Bind of a statement that was never parsed"))
		return
	}
	st := statement{sql: parse.Query}
	for i, raw := range bind.Parameters {
		arg, err := decodeArg(raw, formatOf(bind, i), oidOf(parse, i))
		if err != nil {
			p.fail(fmt.Errorf("%s: argument %d: %w", parse.Query, i+1, err))
			return
		}
		st.args = append(st.args, arg)
	}
	p.mu.Lock()
	p.recorded = append(p.recorded, st)
	p.mu.Unlock()
}

func (p *captureProxy) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// formatOf is argument i's format: one code for all, or one each.
func formatOf(bind *pgproto3.Bind, i int) int16 {
	switch len(bind.ParameterFormatCodes) {
	case 0:
		return 0
	case 1:
		return bind.ParameterFormatCodes[0]
	}
	return bind.ParameterFormatCodes[i]
}

func oidOf(parse *pgproto3.Parse, i int) uint32 {
	if i < len(parse.ParameterOIDs) {
		return parse.ParameterOIDs[i]
	}
	return 0
}

// PostgreSQL's type oids of the arguments the service sends.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt4    = 23
	oidText    = 25
	oidVarchar = 1043
)

// decodeArg reads an argument in text (0) or binary (1) format.
func decodeArg(raw []byte, format int16, oid uint32) (any, error) {
	if raw == nil {
		return nil, errors.New("NULL arguments cannot be given to pgbench")
	}
	if format == 0 {
		switch oid {
		case oidInt8, oidInt4:
			return strconv.ParseInt(string(raw), 10, 64)
		case oidBool:
			return string(raw) == "t", nil
		}
		return string(raw), nil
	}
	switch {
	case oid == oidInt8 && len(raw) == 8:
		return int64(binary.BigEndian.Uint64(raw)), nil
	case oid == oidInt4 && len(raw) == 4:
		return int64(int32(binary.BigEndian.Uint32(raw))), nil
	case oid == oidBool && len(raw) == 1:
		return raw[0] == 1, nil
	case oid == oidText || oid == oidVarchar:
		return string(raw), nil
	}
	return nil, fmt.Errorf("binary argument of type oid %d", oid)
}
