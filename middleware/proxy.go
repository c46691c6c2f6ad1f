package middleware

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// trustProxies sets how the app finds the client's address. Fiber then
// honours X-Forwarded-For (and X-Forwarded-Proto) only on connections from
// TRUSTED_PROXIES; with none set, no forwarding header is believed, so a
// client cannot choose its own address for the rate limits and the logs.
func trustProxies(cfg *fiber.Config, trusted []string) {
	cfg.EnableTrustedProxyCheck = true
	if len(trusted) == 0 {
		return
	}
	cfg.TrustedProxies = trusted
	cfg.ProxyHeader = fiber.HeaderXForwardedFor
	cfg.EnableIPValidation = true
}

// forwardedClient resolves the client behind trusted proxies. Proxies
// append the address they received the request from to X-Forwarded-For,
// so everything left of the last untrusted address was written by the
// client and may be forged. The header is rewritten to that one address,
// which c.IP() (and so the rate limiter and the logs) then reports.
func forwardedClient(trusted []string) fiber.Handler {
	var prefixes []netip.Prefix
	for _, t := range trusted {
		if p, err := netip.ParsePrefix(t); err == nil {
			prefixes = append(prefixes, p.Masked())
		} else if a, err := netip.ParseAddr(t); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		header := &c.Request().Header
		values := header.PeekAll(fiber.HeaderXForwardedFor)
		if len(values) == 0 || !c.IsProxyTrusted() {
			return c.Next() // Fiber ignores the header for untrusted peers
		}
		var hops []string
		for _, v := range values {
			hops = append(hops, strings.Split(string(v), ",")...)
		}
		client := ""
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // garbage: nothing further left can be trusted
			}
			client = a.Unmap().String()
			if !isTrusted(a) {
				break
			}
		}
		header.Del(fiber.HeaderXForwardedFor)
		if client != "" { // else c.IP() falls back to the proxy's own address
			header.Set(fiber.HeaderXForwardedFor, client)
		}
		return c.Next()
	}
}
