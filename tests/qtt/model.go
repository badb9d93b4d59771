package qtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one QTT (or REST QTT) file.
type File struct {
	Path string // as given to LoadFile
	// Stem prefixes every case name: the file name without ".json", with
	// "rest/" in front for REST files.
	Stem  string
	REST  bool // a rest-query-validation-tests file
	Tests []*TestObject
}

// TestObject is one element of a file's "tests" array, before expansion.
// Unknown keys are ignored, as in the Java loader.
type TestObject struct {
	Name              string             `json:"name"`
	Statements        []string           `json:"statements"`
	Inputs            []Record           `json:"inputs"`
	Outputs           []Record           `json:"outputs"`
	ExpectedException *ExpectedException `json:"expectedException"`
	Post              *Post              `json:"post"`
	Properties        map[string]any     `json:"properties"`
	Format            []string           `json:"format"`
	Config            []string           `json:"config"`
	Topics            []TopicSpec        `json:"topics"`
	Enabled           *bool              `json:"enabled"`

	// REST files only.
	ExpectedError *ExpectedException `json:"expectedError"`
	Responses     []Response         `json:"responses"`
}

// Record is an input record or an expected output record (SPEC 3.5).
type Record struct {
	Topic string `json:"topic"`
	// Key is the key's JSON text; nil when absent (which means null).
	Key json.RawMessage `json:"key"`
	// Value is the value's JSON text; "null" is a tombstone. It is nil
	// only when the file omits the field, which the loader rejects.
	Value     json.RawMessage `json:"value"`
	Timestamp *int64          `json:"timestamp"`
	Window    *Window         `json:"window"`
	// Headers is nil when the field is absent.
	Headers []Header `json:"headers"`
}

// Window is the window a record's key is wrapped in.
type Window struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Type  string `json:"type"` // "time" or "session"
}

// IsSession reports a session window.
func (w *Window) IsSession() bool { return strings.EqualFold(w.Type, "session") }

// Header is a record header; Value is base64, nil for a null value.
type Header struct {
	Key   string  `json:"KEY"`
	Value *string `json:"VALUE"`
}

// ExpectedException is a negative test's expectation (SPEC 3.8); REST files
// call it expectedError and add an HTTP status.
type ExpectedException struct {
	Type         string `json:"type"`
	Message      string `json:"message"`
	Cause        string `json:"cause"`
	CauseMessage string `json:"causeMessage"`
	Status       int    `json:"status"`
}

// Post holds post conditions (SPEC 3.9).
type Post struct {
	Sources []PostSource `json:"sources"`
	Topics  *PostTopics  `json:"topics"`
}

// PostSource asserts a stream or table of the catalog.
type PostSource struct {
	Name          string          `json:"name"`
	Type          string          `json:"type"`
	Schema        *string         `json:"schema"`
	KeyFormat     *PostFormat     `json:"keyFormat"`
	ValueFormat   json.RawMessage `json:"valueFormat"` // "JSON" or {"format": "JSON"}
	KeyFeatures   []string        `json:"keyFeatures"`
	ValueFeatures []string        `json:"valueFeatures"`
	IsSource      *bool           `json:"isSource"`
}

// PostFormat is a key format assertion.
type PostFormat struct {
	Format     string            `json:"format"`
	WindowType string            `json:"windowType"`
	WindowSize *int64            `json:"windowSize"`
	Features   []string          `json:"features"`
	Properties map[string]string `json:"properties"`
}

// PostTopics asserts the topics that exist after the run.
type PostTopics struct {
	Blacklist string      `json:"blacklist"`
	Topics    []PostTopic `json:"topics"`
}

// PostTopic asserts one topic.
type PostTopic struct {
	Name        string      `json:"name"`
	KeyFormat   *PostFormat `json:"keyFormat"`
	ValueFormat *PostFormat `json:"valueFormat"`
	Partitions  *int32      `json:"partitions"`
}

// TopicSpec is an entry of a test's "topics" (SPEC 3.4).
type TopicSpec struct {
	Name        string `json:"name"`
	KeyFormat   string `json:"keyFormat"`
	ValueFormat string `json:"valueFormat"`
	Partitions  int32  `json:"partitions"`
	Replicas    int16  `json:"replicas"`
	// KeySchema and ValueSchema are only present for schema-registry
	// formats, which the runner skips; they are kept to detect that.
	KeySchema   json.RawMessage `json:"keySchema"`
	ValueSchema json.RawMessage `json:"valueSchema"`
}

// Response is one expected REST response: an admin entity or the rows of a
// query.
type Response struct {
	Admin map[string]any  `json:"admin"`
	Query []QueryResponse `json:"query"`
}

// QueryResponse is one element of a query response stream.
type QueryResponse struct {
	Header *struct {
		Schema string `json:"schema"`
	} `json:"header"`
	Row *struct {
		Columns []json.RawMessage `json:"columns"`
	} `json:"row"`
	FinalMessage *string `json:"finalMessage"`
}

// LoadFile reads and validates one file. rest selects the REST format.
func LoadFile(path string, rest bool) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	clean, err := StripComments(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var doc struct {
		Tests []*TestObject `json:"tests"`
	}
	if err := decodeExact(clean, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Tests) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	stem := strings.TrimSuffix(filepath.Base(path), ".json")
	if rest {
		stem = "rest/" + stem
	}
	f := &File{Path: path, Stem: stem, REST: rest, Tests: doc.Tests}
	for i, t := range f.Tests {
		if err := t.validate(rest); err != nil {
			return nil, fmt.Errorf("%s: test %d (%q): %w", path, i, t.Name, err)
		}
	}
	return f, nil
}

func (t *TestObject) validate(rest bool) error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("name is empty")
	}
	if len(t.Statements) == 0 {
		return errors.New("statements is empty")
	}
	for _, r := range append(append([]Record(nil), t.Inputs...), t.Outputs...) {
		if r.Topic == "" || strings.TrimSpace(r.Topic) != r.Topic {
			return fmt.Errorf("bad record topic %q", r.Topic)
		}
		if r.Value == nil {
			return fmt.Errorf("record on %s has no value", r.Topic)
		}
	}
	if !rest && t.ExpectedException == nil && len(t.Inputs) == 0 && len(t.Outputs) == 0 {
		return errors.New("a test without expectedException needs inputs or outputs")
	}
	if len(t.Config) > 0 {
		if _, err := t.configKey(); err != nil {
			return err
		}
	}
	return nil
}

// configKey returns the property whose value is "{CONFIG}".
func (t *TestObject) configKey() (string, error) {
	var keys []string
	for k, v := range t.Properties {
		if s, ok := v.(string); ok && strings.EqualFold(s, "{CONFIG}") {
			keys = append(keys, k)
		}
	}
	if len(keys) != 1 {
		return "", fmt.Errorf("config expansion needs exactly one property set to {CONFIG}, found %d", len(keys))
	}
	return keys[0], nil
}

// Case is one expanded test case, ready to run.
type Case struct {
	Name       string // "<stem> - <test>[ - FORMAT][ - key=value]"
	File       string // the file's stem
	Format     string // the expanded format, or ""
	Statements []string
	Properties map[string]string
	Test       *TestObject // the source object (inputs, outputs, post, ...)
	REST       bool
}

const missingFormat = "To use {FORMAT} in your statements please set the 'format' test case element"

// Expand turns every test object of f into its cases (SPEC 3.3).
func (f *File) Expand() []*Case {
	var out []*Case
	for _, t := range f.Tests {
		formats := t.Format
		if len(formats) == 0 {
			formats = []string{""}
		}
		configs := t.Config
		if len(configs) == 0 {
			configs = []string{""}
		}
		cfgKey, _ := t.configKey() // validated by LoadFile when configs exist
		for _, fm := range formats {
			for _, c := range configs {
				props := make(map[string]string, len(t.Properties))
				for k, v := range t.Properties {
					props[k] = propertyString(v)
				}
				name := f.Stem + " - " + t.Name
				if fm != "" {
					name += " - " + fm
				}
				if c != "" {
					props[cfgKey] = c
					name += " - " + cfgKey + "=" + c
				}
				repl := fm
				if repl == "" {
					repl = missingFormat
				}
				stmts := make([]string, len(t.Statements))
				for i, s := range t.Statements {
					stmts[i] = strings.ReplaceAll(s, "{FORMAT}", repl)
				}
				out = append(out, &Case{Name: name, File: f.Stem, Format: fm, Statements: stmts,
					Properties: props, Test: t, REST: f.REST})
			}
		}
	}
	return out
}

// propertyString renders a property value as ksqlDB's config parser sees it.
func propertyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// LoadDir loads every *.json file under dir, recursively, except files whose
// names start with "LICENSE" or "NOTICE". Files under a directory named
// "rest" are REST files. Case names must be unique across the result.
func LoadDir(dir string) ([]*File, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var files []*File
	seen := map[string]string{}
	for _, p := range paths {
		rest := filepath.Base(filepath.Dir(p)) == "rest"
		f, err := LoadFile(p, rest)
		if err != nil {
			return nil, err
		}
		for _, c := range f.Expand() {
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("duplicate case name %q in %s and %s", c.Name, prev, p)
			}
			seen[c.Name] = p
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .json files under %s", dir)
	}
	return files, nil
}
