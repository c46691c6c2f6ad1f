// Command stores-api serves the Stores REST API, the Go port of the
// "REST APIs with Flask and Python" course project.
//
//	stores-api                  serve (migrations are applied first)
//	stores-api migrate up|down|status
//	stores-api promote-admin EMAIL | demote-admin EMAIL
//	stores-api end-sessions EMAIL  sign a user out everywhere
//	stores-api worker           work the job queue (send emails), serve nothing
//	stores-api healthcheck      exit 0 when GET /healthz of the local server answers 200
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/netutil"
	"gorm.io/gorm"

	"stores-api/admin"
	"stores-api/blocklist"
	"stores-api/config"
	"stores-api/mail"
	"stores-api/middleware"
	"stores-api/migrations"
	"stores-api/models"
	"stores-api/resources"
	"stores-api/tasks"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

// usage lists the commands, for --help.
const usage = `stores-api serves the Stores REST API (the Go port of "REST APIs with Flask and Python").

Usage: stores-api [command]

  serve                        serve the API and the admin panel (the default); migrations run first
  worker                       work the job queue (send the emails) without serving HTTP
  migrate up|down|status       apply all migrations, undo the last one, or list them
  promote-admin EMAIL          make a user an admin
  demote-admin EMAIL           take a user's admin rights away
  end-sessions EMAIL           sign a user out everywhere
  healthcheck                  exit 0 when the local server's GET /healthz answers 200
  help                         show this help (also -h, --help)

Settings come from the environment or a .env file: see README.md, "Configuration".
`

func main() {
	if len(os.Args) > 1 && slices.Contains([]string{"help", "-h", "--help"}, os.Args[1]) {
		fmt.Print(usage)
		return
	}
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
	case "worker":
		return work(ctx, cfg, log)
	case "healthcheck":
		return healthcheck(ctx, probeHost(cfg.Host), cfg.Port, healthcheckTimeout)
	}
	return fmt.Errorf("unknown command %q: stores-api --help lists the commands", command)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: readableDurations}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// readableDurations writes durations as "15m0s" or "1.2ms", as the text
// handler does, in the JSON logs too, whose default is nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// serve applies migrations, then serves until ctx is cancelled; then it
// stops accepting, lets in-flight requests and running jobs finish and
// closes the database.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	applied, err := migrateUp(ctx, cfg, log)
	if err != nil {
		return err
	}
	db, target, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if cfg.UsingDevSecret {
		log.Warn("JWT_SECRET_KEY is not set: using the public development key; never do this in production")
	}
	svc, err := newService(db, target.Dialect, cfg, log)
	if err != nil {
		return err
	}
	defer svc.stack.Close()
	go pruneEvery(ctx, time.Hour, log, map[string]pruner{
		"expired sessions":         svc.sessions.Prune,
		"expired idempotency keys": svc.data.IdempotencyKeys.Prune,
		"expired account tokens":   svc.data.AccountTokens.Prune,
	})
	if handler := svc.stack.MetricsHandler(); handler != nil && cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, handler, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	// Past MAX_CONNECTIONS, new connections wait in the kernel's backlog
	// until one closes, so memory stays bounded however many arrive.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	if err := svc.jobs.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	defer stopJobs(svc.jobs, log)
	listenErr := make(chan error, 1)
	go func() { listenErr <- svc.app.Listener(ln) }()
	logStart(log, cfg, ln.Addr(), target, applied)

	select {
	case err := <-listenErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout)
	if err := svc.app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// listen binds the API's address; a port another process holds is an
// error that says which setting moves it.
func listen(cfg config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr())
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("port %d on %s is taken by another process: stop it, or set PORT to a free port (%w)",
			cfg.Port, cfg.Host, err)
	}
	return ln, err
}

// logStart tells, once the port is bound, where everything is: the API and
// its docs, the admin panel, the metrics, the database and its schema.
func logStart(log *slog.Logger, cfg config.Config, addr net.Addr, db models.Target, applied migrations.Applied) {
	base := "http://" + displayAddr(addr)
	log.Info("listening", "url", base, "mode", cfg.Env)
	log.Info("API docs", "url", base+"/swagger-ui", "openapi", base+"/openapi.json")
	log.Info("admin panel", "url", base+admin.Prefix)
	switch {
	case !cfg.MetricsEnabled:
		log.Info("metrics off (METRICS_ENABLED=false)")
	case cfg.MetricsAddr != "":
		log.Info("metrics", "url", "http://"+cfg.MetricsAddr+"/metrics")
	case cfg.Production() && cfg.MetricsToken == "":
		log.Info("metrics not served on the public port in production: set METRICS_ADDR or METRICS_TOKEN")
	default:
		log.Info("metrics", "url", base+"/metrics")
	}
	log.Info("database", db.LogAttrs()...)
	log.Info("migrations", "applied_now", applied.Count, "schema_version", applied.Version)
	log.Info("configuration", "config", cfg)
}

// displayAddr is a listen address as a browser can open it: a wildcard
// host becomes localhost.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// service is what serves one database: the data layer, the middleware
// both front ends share, the job queue and the app.
type service struct {
	data     *models.Models
	sessions *blocklist.Sessions
	stack    *middleware.Stack
	jobs     *tasks.Queue
	app      *fiber.App
}

// newService builds the service on db: the data layer, the shared
// middleware, the job queue with its mail sender, the JSON API, and the
// admin panel mounted on it.
func newService(db *gorm.DB, dialect string, cfg config.Config, log *slog.Logger) (*service, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	stack, err := middleware.New(middleware.Options{Config: cfg, Log: log, DB: sqlDB, Dialect: dialect})
	if err != nil {
		return nil, err
	}
	svc := &service{data: models.New(db, cfg.BcryptCost), sessions: blocklist.New(db), stack: stack}
	if svc.jobs, err = newQueue(sqlDB, dialect, svc.data, svc.stack, cfg, log); err != nil {
		return nil, err
	}
	svc.app = resources.New(resources.Deps{Data: svc.data, Sessions: svc.sessions, Config: cfg, Log: log,
		Stack: svc.stack, Jobs: svc.jobs})
	svc.app.Mount(admin.Prefix, admin.New(admin.Deps{Data: svc.data, Sessions: svc.sessions, Config: cfg, Log: log,
		SignInLimit: svc.stack.SignInLimit(), Jobs: svc.jobs}))
	return svc, nil
}

// newQueue is the job queue on db, with WORKERS workers, sending mail as
// MAIL_URL says and exporting its metrics with the stack's.
func newQueue(db *sql.DB, dialect string, data *models.Models, stack *middleware.Stack, cfg config.Config,
	log *slog.Logger) (*tasks.Queue, error) {
	sender, err := newMailSender(cfg, log)
	if err != nil {
		return nil, err
	}
	return tasks.New(tasks.Config{Dialect: dialect, DB: db, Data: data, Mail: sender, PublicURL: cfg.PublicURL,
		Workers: cfg.Workers, Log: log, Metrics: stack.MetricsRegistry()})
}

// newMailSender sends through MAIL_URL; without it, development writes
// emails to the log and MAIL_DISABLED drops them (config.Load refuses
// production with neither).
func newMailSender(cfg config.Config, log *slog.Logger) (mail.Sender, error) {
	switch {
	case cfg.MailURL != "":
		return mail.NewSMTP(cfg.MailURL, cfg.MailFrom)
	case cfg.MailDisabled:
		return mail.NewDiscard(log), nil
	}
	return mail.NewLog(log), nil
}

// stopJobs lets the running jobs finish, or returns them to the queue.
func stopJobs(jobs *tasks.Queue, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := jobs.Stop(ctx); err != nil {
		log.Warn("stopping the job workers", "err", err)
	}
}

// pruner deletes what expired before now, and says how much.
type pruner func(ctx context.Context, now time.Time) (int64, error)

// pruneEvery runs each pruner every interval until ctx ends.
func pruneEvery(ctx context.Context, interval time.Duration, log *slog.Logger, pruners map[string]pruner) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			for what, prune := range pruners {
				if n, err := prune(ctx, now); err != nil {
					log.Warn("pruning failed", "what", what, "err", err)
				} else if n > 0 {
					log.Info("pruned", "what", what, "removed", n)
				}
			}
		}
	}
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
