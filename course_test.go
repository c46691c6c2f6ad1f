package main

// docs/COURSE.md quotes the code it explains. These tests keep the quotes
// true: every excerpt names the file it comes from, on the line before its
// fence, and must still be found in that file.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// courseDoc is the guide for learners of the Flask course.
const courseDoc = "docs/COURSE.md"

// excerptSource is how COURSE.md names an excerpt's file: the last non-blank
// line before the fence ends with "From [path](../path):". Link text and
// target are the same path, relative to the repository root and to docs/.
var excerptSource = regexp.MustCompile(`From \[([^\]]+)\]\(\.\./([^)]+)\):$`)

// linkBeforeFence is a line that ends like a source but is not one: "From"
// wrapped onto the line before, say. It would leave the block unchecked.
var linkBeforeFence = regexp.MustCompile(`\]\(\.\./[^)]+\):$`)

// courseExcerpt is one fenced block of COURSE.md.
type courseExcerpt struct {
	lang   string   // the fence's info string: "go", "diff", "dockerfile" …
	line   int      // the line of the opening fence, from 1
	source string   // the file named before the fence, "" if none
	lines  []string // the block's lines, without the fence's indentation
}

// first is the excerpt's first non-blank line, to name it in a failure.
func (e courseExcerpt) first() string {
	for _, l := range e.lines {
		if strings.TrimSpace(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return "(empty)"
}

// parseCourseExcerpts reads the fenced blocks of a Markdown text, with the
// file each one names. A malformed name (link text and target differing,
// or "From" wrapped onto the line before) is reported as an error rather
// than taken as no name.
func parseCourseExcerpts(text string) ([]courseExcerpt, error) {
	var (
		out       []courseExcerpt
		cur       *courseExcerpt
		indent    string
		lastProse string // the last non-blank line outside a block
	)
	for i, raw := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(raw)
		if cur != nil {
			if trimmed == "```" {
				out = append(out, *cur)
				cur = nil
				continue
			}
			cur.lines = append(cur.lines, strings.TrimPrefix(raw, indent))
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			indent = raw[:strings.Index(raw, "```")]
			cur = &courseExcerpt{lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), line: i + 1}
			if m := excerptSource.FindStringSubmatch(strings.TrimSpace(lastProse)); m != nil {
				if m[1] != m[2] {
					return nil, fmt.Errorf("%s:%d: the link before the fence shows %q but opens %q", courseDoc, i+1, m[1], m[2])
				}
				cur.source = m[1]
			} else if linkBeforeFence.MatchString(strings.TrimSpace(lastProse)) {
				return nil, fmt.Errorf("%s:%d: the line before the fence links a file but does not read From [path](../path):", courseDoc, i+1)
			}
			lastProse = ""
			continue
		}
		if trimmed != "" {
			lastProse = raw
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the block is never closed", courseDoc, cur.line)
	}
	return out, nil
}

// normalizeCodeLine compares lines whatever their indentation and spacing:
// gofmt aligns columns differently once a neighbouring line is left out.
func normalizeCodeLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isElision reports a line that stands for code left out of an excerpt.
func isElision(normalized string) bool {
	switch normalized {
	case "…", "...", "// …", "// ...", "# …", "# ...":
		return true
	}
	return false
}

// excerptSegments are the excerpt's lines to look for, normalized, blank
// lines dropped, split at elisions: each segment is contiguous in the file,
// and each comes after the one before. In a diff, the lines marked + are
// new (the worked example) and are not looked for; the others, without
// their first column, are the file as it is.
func excerptSegments(e courseExcerpt) [][]string {
	segments := [][]string{nil}
	for _, l := range e.lines {
		if e.lang == "diff" {
			if strings.HasPrefix(l, "+") {
				continue
			}
			if l != "" {
				l = l[1:]
			}
		}
		n := normalizeCodeLine(l)
		switch {
		case n == "":
		case isElision(n):
			segments = append(segments, nil)
		default:
			segments[len(segments)-1] = append(segments[len(segments)-1], n)
		}
	}
	return segments
}

// codeLine is a non-blank line of a source file, normalized, with its
// line number.
type codeLine struct {
	text string
	num  int
}

// findSegments looks for the segments in order in file. It returns "" when
// they are all there, else what is missing: the excerpt's first line that
// could not follow, and where the closest match stopped.
func findSegments(segments [][]string, file []codeLine) string {
	from := 0
	for _, seg := range segments {
		if len(seg) == 0 {
			continue
		}
		best, bestAt := -1, 0
		found := -1
		for start := from; start < len(file); start++ {
			n := 0
			for n < len(seg) && start+n < len(file) && file[start+n].text == seg[n] {
				n++
			}
			if n == len(seg) {
				found = start
				break
			}
			if n > best {
				best, bestAt = n, start
			}
		}
		if found >= 0 {
			from = found + len(seg)
			continue
		}
		if best <= 0 && from == 0 {
			return fmt.Sprintf("no line of the file is %q", seg[0])
		}
		if best <= 0 {
			return fmt.Sprintf("no line after line %d is %q", file[from-1].num, seg[0])
		}
		stop := bestAt + best
		got := "the end of the file"
		if stop < len(file) {
			got = fmt.Sprintf("line %d, %q", file[stop].num, file[stop].text)
		}
		return fmt.Sprintf("%d lines match from line %d, then the excerpt has %q where the file has %s",
			best, file[bestAt].num, seg[best], got)
	}
	return ""
}

// readCodeLines reads a repository file as its non-blank, normalized lines.
func readCodeLines(path string) ([]codeLine, error) {
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		return nil, err
	}
	var out []codeLine
	for i, l := range strings.Split(string(b), "\n") {
		if n := normalizeCodeLine(l); n != "" {
			out = append(out, codeLine{text: n, num: i + 1})
		}
	}
	return out, nil
}

// TestCourseExcerptsMatchTheirFiles checks every excerpt of COURSE.md
// against the file it names. Go excerpts, and the diffs of the worked
// example, must name one; a block of another language is checked when it
// names one (the Dockerfile and compose excerpts do).
func TestCourseExcerptsMatchTheirFiles(t *testing.T) {
	b, err := os.ReadFile(courseDoc)
	if err != nil {
		t.Fatal(err)
	}
	excerpts, err := parseCourseExcerpts(string(b))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range excerpts {
		if e.source == "" {
			if e.lang == "go" || e.lang == "diff" {
				t.Errorf("%s:%d: excerpt %q names no file: end the line before its fence with From [path](../path):",
					courseDoc, e.line, e.first())
			}
			continue
		}
		file, err := readCodeLines(e.source)
		if err != nil {
			t.Errorf("%s:%d: excerpt %q names %s, which cannot be read: %v", courseDoc, e.line, e.first(), e.source, err)
			continue
		}
		if missing := findSegments(excerptSegments(e), file); missing != "" {
			t.Errorf("%s:%d: excerpt %q is not in %s: %s", courseDoc, e.line, e.first(), e.source, missing)
		}
		checked++
	}
	if checked == 0 {
		t.Fatalf("%s: no excerpt names its file; the parser or the convention has changed", courseDoc)
	}
}

// TestCourseExcerptParser pins the matcher on small texts, so that a
// mistake in it cannot pass every excerpt.
func TestCourseExcerptParser(t *testing.T) {
	file := func(lines ...string) []codeLine {
		var out []codeLine
		for i, l := range lines {
			if n := normalizeCodeLine(l); n != "" {
				out = append(out, codeLine{text: n, num: i + 1})
			}
		}
		return out
	}
	src := file("func f() {", "\tx := 1", "", "\ty  := 2", "\treturn x + y", "}")
	cases := []struct {
		name    string
		doc     string
		source  string
		present bool
	}{
		{"contiguous, spacing and blank lines aside", "From [a.go](../a.go):\n```go\n\tx := 1\n    y := 2\n```\n", "a.go", true},
		{"indented under a list item", "- see\n  From [a.go](../a.go):\n\n  ```go\n  \treturn x + y\n  }\n  ```\n", "a.go", true},
		{"elided middle", "From [a.go](../a.go):\n```go\nfunc f() {\n\t// …\n}\n```\n", "a.go", true},
		{"elided with a shell comment", "From [a.go](../a.go):\n```dockerfile\n\tx := 1\n# ...\n}\n```\n", "a.go", true},
		{"not contiguous", "From [a.go](../a.go):\n```go\nfunc f() {\n\ty := 2\n```\n", "a.go", false},
		{"out of order across a gap", "From [a.go](../a.go):\n```go\n\ty := 2\n...\n\tx := 1\n```\n", "a.go", false},
		{"changed line", "From [a.go](../a.go):\n```go\n\tx := 3\n```\n", "a.go", false},
		{"diff: + lines are new", "From [a.go](../a.go):\n```diff\n \tx := 1\n+\tz := 3\n \ty := 2\n```\n", "a.go", true},
		{"diff: context must be there", "From [a.go](../a.go):\n```diff\n \tx := 9\n+\tz := 3\n```\n", "a.go", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es, err := parseCourseExcerpts(tc.doc)
			if err != nil || len(es) != 1 {
				t.Fatalf("parse: %v, %d blocks", err, len(es))
			}
			if es[0].source != tc.source {
				t.Fatalf("source %q, want %q", es[0].source, tc.source)
			}
			missing := findSegments(excerptSegments(es[0]), src)
			if (missing == "") != tc.present {
				t.Fatalf("found = %v (%s), want %v", missing == "", missing, tc.present)
			}
		})
	}
	if es, _ := parseCourseExcerpts("Some prose.\n\n```go\nx\n```\n"); len(es) != 1 || es[0].source != "" {
		t.Errorf("a block after plain prose names no file: %+v", es)
	}
	if _, err := parseCourseExcerpts("From [a.go](../b.go):\n```go\nx\n```\n"); err == nil {
		t.Error("a link whose text and target differ is accepted")
	}
	if _, err := parseCourseExcerpts("It is read. From\n[a.go](../a.go):\n```yaml\nx\n```\n"); err == nil {
		t.Error(`a source whose "From" is on the line before is taken for no source`)
	}
}
