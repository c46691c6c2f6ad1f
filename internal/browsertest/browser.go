// Package browsertest drives a headless Chromium through the app's pages
// (the admin panel, Swagger UI) for the tests of the front ends.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// screenshotDirEnv names a directory where the browser test saves its
// screenshots even when it passes, at laptop and phone widths, to look at
// the pages.
const screenshotDirEnv = "SCREENSHOT_DIR"

// Browser drives one headless Chromium through the admin panel of a real
// server listening on a loopback port.
type Browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots []screenshot // the main pages as they looked, saved on failure
}

type screenshot struct {
	name string
	png  []byte
}

// New starts Chromium with a fresh profile. Without Chromium the
// test is skipped, except in CI, where a missing browser is a failure.
func New(t *testing.T, base string) *Browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install it with: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("%s is missing: install it with: apt-get install -y chromium", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a tiny /dev/shm
		chromedp.Flag("hide-scrollbars", true),       // screenshots as wide as the page
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, ctx: ctx, base: base}
	t.Cleanup(func() {
		b.saveShots()
		cancelCtx()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as ctx, so
	// it cannot run under a context with a timeout: the wait for it has
	// one of its own instead, so a browser that hangs fails the test
	// plainly rather than at the test binary's ten-minute limit.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", chromiumPath, err)
		}
	case <-time.After(startTimeout):
		t.Fatalf("%s did not start within %s", chromiumPath, startTimeout)
	}
	return b
}

// startTimeout bounds how long Chromium may take to start.
const startTimeout = 60 * time.Second

// Run runs browser actions and stops the test on failure, with a
// screenshot of where the browser was.
func (b *Browser) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.Shot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Open loads a page.
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.Run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// Submit clicks a submit button and waits until the page it leads to has
// loaded (after the POST and its redirect), so what is read next comes
// from that page, whole.
func (b *Browser) Submit(button string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		b.Shot("failure")
		b.t.Fatalf("submit %s: %v", button, err)
	}
}

// Fill replaces the value of an input by typing into it, as a person
// using the keyboard would.
func (b *Browser) Fill(field, value string) {
	b.t.Helper()
	b.Run("fill "+field,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, field)),
		chromedp.SendKeys(chromedp.CSS(field), value),
	)
}

// Get runs an action that returns a value and stops the test on failure.
func Get[T any](b *Browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.Shot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// innerText reads the visible text of the first element matching sel in
// one evaluation, "" when there is none: no node id is kept between
// finding the element and reading it, so a page that replaces its DOM
// meanwhile cannot break the read.
func innerText(sel string) string {
	return fmt.Sprintf(`((document.querySelector(%q) || {}).innerText || "")`, sel)
}

// Text is the visible text of the first element matching sel, with its
// white space folded, once the element is there.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s := Get(b, "read "+sel, chromedp.Poll[string](innerText(sel), chromedp.WithPollingTimeout(10*time.Second)))
	return strings.Join(strings.Fields(s), " ")
}

// ExpectText fails unless the element's text comes to contain want.
func (b *Browser) ExpectText(sel, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	check := fmt.Sprintf(`%s.replace(/\s+/g, " ").includes(%q)`, innerText(sel), want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](check, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](innerText(sel)))
		b.Shot("failure")
		b.t.Fatalf("%s shows %q, want it to contain %q", sel, strings.Join(strings.Fields(got), " "), want)
	}
}

// Value is the current value of a form field.
func (b *Browser) Value(sel string) string {
	b.t.Helper()
	return Get(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// Checked reports whether a checkbox is ticked.
func (b *Browser) Checked(sel string) bool {
	b.t.Helper()
	return Get(b, "state of "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).checked`, sel)))
}

// Shot keeps a screenshot of the current page.
func (b *Browser) Shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.shots = append(b.shots, screenshot{name: name, png: png})
	}
}

// saveShots writes the screenshots when the test failed, or always when
// SCREENSHOT_DIR is set, and logs where they are.
func (b *Browser) saveShots() {
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" && !b.t.Failed() {
		return
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "screenshots-"); err != nil {
			b.t.Log(err)
			return
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Log(err)
		return
	}
	for i, s := range b.shots {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.png", i+1, s.name)), s.png, 0o644); err != nil {
			b.t.Log(err)
		}
	}
	b.t.Logf("screenshots: %s", dir)
}

// PhoneShots keeps screenshots of the main pages at a phone's width too,
// when someone asked to see them.
func (b *Browser) PhoneShots(pages ...[2]string) {
	if os.Getenv(screenshotDirEnv) == "" {
		return
	}
	for _, width := range []int64{390, 1280} {
		b.Run("resize", chromedp.EmulateViewport(width, 800))
		for _, p := range pages {
			b.Open(p[1])
			b.Shot(fmt.Sprintf("%s-%d", p[0], width))
		}
	}
	b.Run("resize", chromedp.EmulateViewport(1280, 900))
}
