// Command stores-api serves the Stores REST API, the Go port of the
// "REST APIs with Flask and Python" course project.
//
//	stores-api                  serve (migrations are applied first)
//	stores-api migrate up|down|status
//	stores-api promote-admin EMAIL | demote-admin EMAIL
//	stores-api end-sessions EMAIL  sign a user out everywhere
//	stores-api healthcheck      exit 0 when GET /healthz of the local server answers 200
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
	"gorm.io/gorm"

	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/migrations"
	"stores-api/models"
	"stores-api/resources"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stores-api:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in, so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if err := config.LoadDotEnv(); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)

	command := "serve"
	if len(args) > 0 {
		command, args = args[0], args[1:]
	}
	switch command {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log, args)
	case "promote-admin":
		return setAdmin(ctx, cfg, log, args, true)
	case "demote-admin":
		return setAdmin(ctx, cfg, log, args, false)
	case "end-sessions":
		return endSessions(ctx, cfg, log, args)
	case "healthcheck":
		return healthcheck(ctx, probeHost(cfg.Host), cfg.Port, healthcheckTimeout)
	}
	return fmt.Errorf("unknown command %q (want serve, migrate, promote-admin, demote-admin, end-sessions or healthcheck)", command)
}

// healthcheckTimeout bounds the healthcheck command, so a wedged server
// makes the container unhealthy instead of stacking up hung probes.
const healthcheckTimeout = 3 * time.Second

// healthcheck asks the server listening on host:port for GET /healthz and
// fails unless it answers 200. It is the image's HEALTHCHECK, because the
// distroless image has no curl or wget. It never opens the database: the
// process being alive is the question, and a database outage is what
// GET /readyz reports.
func healthcheck(ctx context.Context, host string, port int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// No proxy: HTTP_PROXY set for the application must not reroute a
	// probe of this very machine.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: GET %s answered %s", url, resp.Status)
	}
	return nil
}

// probeHost is where the healthcheck command finds the server: loopback
// when it listens on every interface (HOST=0.0.0.0 in the image), else the
// address it was told to listen on.
func probeHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB connects to DATABASE_URL.
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	target, err := models.ParseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, target, err
	}
	db, err := models.Open(ctx, target, models.Options{
		MaxOpen:     cfg.DBMaxOpenConns,
		MaxIdle:     cfg.DBMaxIdleConns,
		MaxLifetime: cfg.DBConnMaxLifetime,
		SlowQuery:   cfg.DBSlowQuery,
	}, log)
	return db, target, err
}

// openMigrated connects to DATABASE_URL and applies pending migrations.
// The caller closes the database with models.Close.
func openMigrated(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, models.Target, error) {
	db, target, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, target, err
	}
	sqlDB, err := db.DB()
	if err == nil {
		err = migrations.Up(ctx, target.Dialect, sqlDB)
	}
	if err != nil {
		models.Close(db)
		return nil, target, err
	}
	return db, target, nil
}

// serve applies migrations, then serves until ctx is cancelled; then it
// stops accepting, lets in-flight requests finish and closes the database.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, target, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if cfg.UsingDevSecret {
		log.Warn("JWT_SECRET_KEY is not set: using the public development key; never do this in production")
	}
	sessions := blocklist.New(db)
	go sessions.PruneEvery(ctx, time.Hour, log)
	server := &resources.Server{DB: db, Dialect: target.Dialect, Config: cfg, Log: log, Sessions: sessions}
	app := resources.New(server)
	if handler := server.MetricsHandler(); handler != nil && cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, handler, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	// Past MAX_CONNECTIONS, new connections wait in the kernel's backlog
	// until one closes, so memory stays bounded however many arrive.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	listenErr := make(chan error, 1)
	go func() { listenErr <- app.Listener(ln) }()
	log.Info("listening", "config", cfg)

	select {
	case err := <-listenErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout)
	if err := app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// serveMetrics serves GET /metrics on a listener of its own (METRICS_ADDR),
// which operators keep on an internal network, as Prometheus exporters
// do. The returned function stops it.
func serveMetrics(addr string, handler http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the metrics listener stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// migrate runs "migrate up", "migrate down" (one step) or "migrate status".
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api migrate up|down|status")
	}
	db, target, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	p, err := migrations.NewProvider(target.Dialect, sqlDB)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		results, err := p.Up(ctx)
		for _, r := range results {
			fmt.Println(r)
		}
		return err
	case "down":
		r, err := p.Down(ctx)
		if r != nil {
			fmt.Println(r)
		}
		return err
	case "status":
		statuses, err := p.Status(ctx)
		for _, s := range statuses {
			applied := "pending"
			if !s.AppliedAt.IsZero() {
				applied = s.AppliedAt.Format(time.RFC3339)
			}
			fmt.Printf("%-40s %s\n", s.Source.Path, applied)
		}
		return err
	}
	return fmt.Errorf("unknown migrate command %q (want up, down or status)", args[0])
}

// setAdmin grants or withdraws admin rights of an existing user.
func setAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, admin bool) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api promote-admin|demote-admin EMAIL")
	}
	db, _, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	email := strings.ToLower(strings.TrimSpace(args[0]))
	res := db.WithContext(ctx).Model(&models.User{}).Where("email = ?", email).Update("is_admin", admin)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("no user with email %q", email)
	}
	fmt.Printf("%s is_admin=%t\n", email, admin)
	return nil
}

// endSessions ends every session of a user, API tokens and admin panel
// sign-ins alike: a lost laptop, a leaked token.
func endSessions(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: stores-api end-sessions EMAIL")
	}
	db, _, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	email := strings.ToLower(strings.TrimSpace(args[0]))
	var user models.User
	if err := db.WithContext(ctx).Where("email = ?", email).Take(&user).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("no user with email %q", email)
	} else if err != nil {
		return err
	}
	n, err := blocklist.New(db).EndAll(ctx, user.ID)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d sessions ended\n", email, n)
	return nil
}
