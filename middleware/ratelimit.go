package middleware

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// sharedLimit is the sign-in rate limit with its counters in Redis
// (REDIS_URL), so every replica spends one budget per client address. Each
// request adds one to its address's counter for the current window with a
// single script, which Redis runs atomically: INCR, and an expiry on the
// first count of a window, so counters disappear by themselves and two
// replicas never lose an update between a read and a write.
//
// Redis down is not an outage: the limiter fails open and requests pass,
// unlimited, until Redis answers again. Refusing every sign-in while a
// cache is down would lock every user out to stop a few guesses; the
// password hashes' cost still slows those. One WARN marks the outage and
// one INFO its end; redis_limiter_up says which state the limiter is in.
type sharedLimit struct {
	client *redis.Client
	max    int64
	window time.Duration
	log    *slog.Logger

	mu   sync.Mutex
	down bool // an outage has been logged and not yet its end

	up     prometheus.Gauge
	errors prometheus.Counter
}

// redisTimeout bounds each call to Redis: a slow Redis must not slow
// sign-ins much before the limiter gives up on it.
const redisTimeout = 250 * time.Millisecond

// countScript counts one request in the window of KEYS[1] and returns the
// count and the milliseconds left in the window.
var countScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// newSharedLimit connects to Redis at rawURL (validated by config.Load);
// the connection is made lazily, so start-up does not depend on Redis.
func newSharedLimit(rawURL string, perMinute int, log *slog.Logger) (*sharedLimit, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errors.New("REDIS_URL: not a Redis URL")
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = redisTimeout, redisTimeout, redisTimeout
	opts.MaxRetries = -1 // one try: a retry would only double the wait of a request while Redis is down
	return &sharedLimit{
		client: redis.NewClient(opts),
		max:    int64(perMinute),
		window: time.Minute,
		log:    log,
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rate_limiter_redis_up",
			Help: "1 while the sign-in rate limit reaches Redis, 0 while it fails open."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "rate_limiter_redis_errors_total",
			Help: "Sign-in requests let through unlimited because Redis did not answer."}),
	}, nil
}

// collectors are the limiter's metrics.
func (l *sharedLimit) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.up, l.errors}
}

// handler counts the request against its client address, then answers 429
// past the budget; headers as Fiber's own limiter sets them.
func (l *sharedLimit) handler(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), redisTimeout)
	defer cancel()
	res, err := countScript.Run(ctx, l.client, []string{"signin:" + c.IP()}, l.window.Milliseconds()).Int64Slice()
	if err != nil || len(res) != 2 {
		l.failedOpen(err)
		return c.Next()
	}
	l.reached()
	count, resetMillis := res[0], res[1]
	reset := strconv.FormatInt((resetMillis+999)/1000, 10)
	c.Set("X-RateLimit-Limit", strconv.FormatInt(l.max, 10))
	c.Set("X-RateLimit-Remaining", strconv.FormatInt(max(l.max-count, 0), 10))
	c.Set("X-RateLimit-Reset", reset)
	if count > l.max {
		c.Set(fiber.HeaderRetryAfter, reset)
		return errTooManySignIns
	}
	return c.Next()
}

// failedOpen notes a request let through because Redis did not answer;
// the first of an outage is logged.
func (l *sharedLimit) failedOpen(err error) {
	l.errors.Inc()
	l.up.Set(0)
	l.mu.Lock()
	first := !l.down
	l.down = true
	l.mu.Unlock()
	if first {
		l.log.Warn("the sign-in rate limit cannot reach Redis: sign-ins pass unlimited until it is back", "err", err)
	}
}

// reached notes that Redis answered; the first answer after an outage is
// logged.
func (l *sharedLimit) reached() {
	l.up.Set(1)
	l.mu.Lock()
	recovered := l.down
	l.down = false
	l.mu.Unlock()
	if recovered {
		l.log.Info("the sign-in rate limit reaches Redis again")
	}
}

// close closes the connections to Redis.
func (l *sharedLimit) close() error { return l.client.Close() }
