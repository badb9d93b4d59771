package sql

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// qttDir holds ksqlDB's query-validation tests, shared test data that is
// never copied into the repository.
const qttDir = "../../shared/qtt"

// stripJSONComments removes // and /* */ comments outside JSON strings.
func stripJSONComments(data []byte) []byte {
	var out bytes.Buffer
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(data) {
				i++
				out.WriteByte(data[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out.WriteByte(c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			out.WriteByte('\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			i += 2
			for i+1 < len(data) && !(data[i] == '*' && data[i+1] == '/') {
				i++
			}
			i++
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

type qttCase struct {
	Name              string          `json:"name"`
	Statements        []string        `json:"statements"`
	ExpectedException json.RawMessage `json:"expectedException"`
	ExpectedError     json.RawMessage `json:"expectedError"` // rest/ files
}

// qttStatement is one statement of a QTT case, with {FORMAT} replaced.
type qttStatement struct {
	key      string // file - case name: statement, the known-failure key
	text     string
	negative bool
}

func loadQTT(t *testing.T) []qttStatement {
	t.Helper()
	if _, err := os.Stat(qttDir); err != nil {
		t.Skipf("QTT data not available: %v", err)
	}
	var files []string
	err := filepath.WalkDir(qttDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []qttStatement
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []qttCase `json:"tests"`
		}
		if err := json.Unmarshal(stripJSONComments(data), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rel, _ := filepath.Rel(qttDir, f)
		for _, c := range doc.Tests {
			for _, s := range c.Statements {
				s = strings.ReplaceAll(s, "{FORMAT}", "JSON")
				key := rel + " - " + c.Name + ": " + strings.Join(strings.Fields(s), " ")
				if seen[key] {
					continue
				}
				seen[key] = true
				neg := len(c.ExpectedException) > 0 && string(c.ExpectedException) != "null" ||
					len(c.ExpectedError) > 0 && string(c.ExpectedError) != "null"
				out = append(out, qttStatement{key: key, text: s, negative: neg})
			}
		}
	}
	return out
}

// TestQTTStatementsParse parses every statement of every QTT case. A
// statement of a positive case must parse unless it is listed in
// testdata/qtt_known_failures.txt, a list that may only shrink. Negative
// cases may fail to parse but must not panic.
func TestQTTStatementsParse(t *testing.T) {
	stmts := loadQTT(t)
	known := map[string]bool{}
	if data, err := os.ReadFile("testdata/qtt_known_failures.txt"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				known[l] = true
			}
		}
	}
	var ok, failed, negFailed, negTotal int
	var failures []string
	for _, s := range stmts {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("PANIC parsing %s: %v", s.key, r)
				}
			}()
			parsed, err := Parse(s.text)
			for _, st := range parsed {
				// The canonical form must read back as itself.
				f := Format(st)
				again, err := ParseOne(f)
				if err != nil {
					t.Errorf("%s\n  formatted %s\n  does not parse: %s", s.key, f, formatErr(err))
				} else if f2 := Format(again); f2 != f {
					t.Errorf("%s\n  formatted %s\n  reformatted %s", s.key, f, f2)
				}
			}
			if s.negative {
				negTotal++
				if err != nil {
					negFailed++
				}
				return
			}
			if err == nil {
				ok++
				if known[s.key] {
					t.Errorf("now parses, remove from known failures: %s", s.key)
				}
				return
			}
			failed++
			failures = append(failures, s.key)
			if !known[s.key] {
				t.Errorf("%s\n  %s", s.key, formatErr(err))
			} else {
				t.Logf("known failure: %s\n  %s", s.key, formatErr(err))
			}
		}()
	}
	t.Logf("positive statements: %d parsed, %d failed (%.2f%% parsed); negative cases: %d of %d statements rejected",
		ok, failed, 100*float64(ok)/float64(max(ok+failed, 1)), negFailed, negTotal)
	if os.Getenv("QTT_WRITE_KNOWN") != "" {
		sort.Strings(failures)
		content := "# QTT statements of positive cases that do not parse yet. This list may only shrink.\n" +
			strings.Join(failures, "\n") + "\n"
		if err := os.WriteFile("testdata/qtt_known_failures.txt", []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
