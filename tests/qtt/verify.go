package qtt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// maxDiffsPerTopic bounds the record mismatches listed in a short diff.
const maxDiffsPerTopic = 3

// actualRecord is an output record read back and decoded.
type actualRecord struct {
	key     any
	window  *Window
	value   any
	ts      int64
	headers []kgo.RecordHeader
	err     error // a decoding problem, reported as a mismatch
}

func (a *actualRecord) String() string {
	if a.err != nil {
		return "undecodable: " + a.err.Error()
	}
	return renderRecord(renderValue(a.key), a.window, renderValue(a.value), &a.ts, renderHeaders(a.headers))
}

func renderRecord(key string, w *Window, value string, ts *int64, headers string) string {
	s := "key=" + key
	if w != nil {
		s += fmt.Sprintf(" window=%s[%d,%d]", w.Type, w.Start, w.End)
	}
	s += " value=" + value
	if ts != nil {
		s += fmt.Sprintf(" ts=%d", *ts)
	}
	if headers != "" {
		s += " headers=" + headers
	}
	return s
}

func renderHeaders(hs []kgo.RecordHeader) string {
	if len(hs) == 0 {
		return ""
	}
	parts := make([]string, len(hs))
	for i, h := range hs {
		v := "null"
		if h.Value != nil {
			v = base64.StdEncoding.EncodeToString(h.Value)
		}
		parts[i] = h.Key + ":" + v
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func renderExpected(e *Record) string {
	key := "null"
	if e.Key != nil {
		key = compactJSON(e.Key)
	}
	var hs []string
	for _, h := range e.Headers {
		v := "null"
		if h.Value != nil {
			v = *h.Value
		}
		hs = append(hs, h.Key+":"+v)
	}
	headers := ""
	if len(hs) > 0 {
		headers = "[" + strings.Join(hs, " ") + "]"
	}
	return renderRecord(key, e.Window, compactJSON(e.Value), e.Timestamp, headers)
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// verifyOutputs compares every topic named in the expected outputs with its
// contents (SPEC 3.7): same count, same order, matching records.
func verifyOutputs(ctx context.Context, c *Case, b *broker, sources []*sluice.Source, res *Result) {
	exact := !strings.EqualFold(c.Properties["use.exact.numeric.comparison"], "false")
	noInputs := len(c.Test.Inputs) == 0
	var topics []string
	byTopic := map[string][]*Record{}
	for i := range c.Test.Outputs {
		o := &c.Test.Outputs[i]
		if _, ok := byTopic[o.Topic]; !ok {
			topics = append(topics, o.Topic)
		}
		byTopic[o.Topic] = append(byTopic[o.Topic], o)
	}
	for _, topic := range topics {
		want := byTopic[topic]
		recs, err := b.readTopic(ctx, topic)
		missing := errors.Is(err, errNoTopic)
		if err != nil && !missing {
			res.diff("%s: %v", topic, err)
			continue
		}
		src := owningSource(sources, topic, true)
		if src == nil && len(recs) > 0 {
			res.diff("%s: no stream or table has this topic, so its records cannot be decoded", topic)
			continue
		}
		got := make([]*actualRecord, len(recs))
		for i, kr := range recs {
			got[i] = decodeRecord(src, kr, exact)
		}
		res.detail("topic %s: expected %d records", topic, len(want))
		for i, e := range want {
			res.detail("  [%d] %s", i, renderExpected(e))
		}
		res.detail("topic %s: got %d records", topic, len(got))
		for i, a := range got {
			res.detail("  [%d] %s", i, a)
		}
		if len(got) != len(want) {
			note := ""
			if missing {
				note = " (the topic does not exist)"
			}
			res.diff("%s: expected %d records, got %d%s", topic, len(want), len(got), note)
		}
		shown := 0
		for i := 0; i < len(got) && i < len(want); i++ {
			d := compareRecord(want[i], got[i], noInputs)
			if d == "" {
				continue
			}
			if shown < maxDiffsPerTopic {
				res.diff("%s[%d]: %s", topic, i, d)
				res.diff("    expected %s", renderExpected(want[i]))
				res.diff("    actual   %s", got[i])
			} else if shown == maxDiffsPerTopic {
				res.diff("%s: more mismatching records follow (use -v)", topic)
			}
			shown++
		}
		if len(got) != len(want) && shown == 0 {
			// Show where the lists part.
			n := min(len(got), len(want))
			if len(want) > n {
				res.diff("    first missing: %s", renderExpected(want[n]))
			}
			if len(got) > n {
				res.diff("    first extra:   %s", got[n])
			}
		}
	}
}

func decodeRecord(src *sluice.Source, kr *kgo.Record, exact bool) *actualRecord {
	a := &actualRecord{ts: kr.Timestamp.UnixMilli(), headers: kr.Headers}
	if src == nil {
		return a
	}
	var err error
	a.key, a.window, err = decodeKey(src, kr.Key, exact)
	if err != nil {
		a.err = fmt.Errorf("key %q: %w", kr.Key, err)
		return a
	}
	a.value, err = decodeValue(src, kr.Value, exact)
	if err != nil {
		a.err = fmt.Errorf("value %q: %w", kr.Value, err)
	}
	return a
}

// compareRecord matches one expected record with an actual one; "" means
// they match.
func compareRecord(e *Record, a *actualRecord, noInputs bool) string {
	if a.err != nil {
		return a.err.Error()
	}
	if e.Window != nil {
		switch {
		case a.window == nil:
			return fmt.Sprintf("key: expected window %s[%d,%d], got an unwindowed key", e.Window.Type, e.Window.Start, e.Window.End)
		case e.Window.IsSession() != a.window.IsSession() || e.Window.Start != a.window.Start || e.Window.End != a.window.End:
			return fmt.Sprintf("window: expected %s[%d,%d], got %s[%d,%d]", e.Window.Type, e.Window.Start, e.Window.End,
				a.window.Type, a.window.Start, a.window.End)
		}
	} else if a.window != nil {
		return fmt.Sprintf("key: expected an unwindowed key, got window %s[%d,%d]", a.window.Type, a.window.Start, a.window.End)
	}
	ek, err := parseExpected(e.Key)
	if err != nil {
		return "expected key: " + err.Error()
	}
	if d := compareValue(ek, a.key, "key"); d != "" {
		return d
	}
	ev, err := parseExpected(e.Value)
	if err != nil {
		return "expected value: " + err.Error()
	}
	if d := compareValue(ev, a.value, "value"); d != "" {
		return d
	}
	if d := compareHeaders(e.Headers, a.headers); d != "" {
		return d
	}
	if e.Timestamp != nil && *e.Timestamp != a.ts && !(noInputs && *e.Timestamp == 0) {
		return fmt.Sprintf("timestamp: expected %d, got %d", *e.Timestamp, a.ts)
	}
	return ""
}

// compareHeaders: an absent expectation means no headers (SPEC 3.7).
func compareHeaders(exp []Header, got []kgo.RecordHeader) string {
	if len(exp) != len(got) {
		return fmt.Sprintf("headers: expected %d, got %d %s", len(exp), len(got), renderHeaders(got))
	}
	for i, h := range exp {
		g := got[i]
		if h.Key != g.Key {
			return fmt.Sprintf("headers[%d]: expected key %q, got %q", i, h.Key, g.Key)
		}
		if h.Value == nil {
			if g.Value != nil {
				return fmt.Sprintf("headers[%d]: expected a null value, got %s", i, base64.StdEncoding.EncodeToString(g.Value))
			}
			continue
		}
		want, err := base64.StdEncoding.DecodeString(*h.Value)
		if err != nil {
			return fmt.Sprintf("headers[%d]: bad expected base64 %q", i, *h.Value)
		}
		if g.Value == nil || !bytes.Equal(want, g.Value) {
			v := "null"
			if g.Value != nil {
				v = base64.StdEncoding.EncodeToString(g.Value)
			}
			return fmt.Sprintf("headers[%d]: expected %s, got %s", i, *h.Value, v)
		}
	}
	return ""
}

// verifyPost checks post conditions (SPEC 3.9). ksqlDB-internal topic names
// (_confluent-ksql-*) are implementation details and are not checked; key
// features are not checked either (sluice's catalog does not record them).
func verifyPost(ctx context.Context, post *Post, b *broker, sources []*sluice.Source, res *Result) {
	byName := map[string]*sluice.Source{}
	for _, s := range sources {
		byName[s.Name] = s
	}
	for _, ps := range post.Sources {
		src := byName[ps.Name]
		if src == nil {
			src = byName[strings.ToUpper(ps.Name)]
		}
		if src == nil {
			res.diff("post: source %s does not exist", ps.Name)
			continue
		}
		if ps.Type != "" && !strings.EqualFold(ps.Type, src.Kind.String()) {
			res.diff("post: %s is a %s, expected a %s", src.Name, src.Kind, strings.ToUpper(ps.Type))
		}
		if ps.Schema != nil {
			want, err := parseSchema(*ps.Schema)
			if err != nil {
				res.diff("post: %s: %v", src.Name, err)
			} else if d := compareSchemas(want, sourceSchema(src)); d != "" {
				res.diff("post: %s: %s", src.Name, d)
			}
		}
		if kf := ps.KeyFormat; kf != nil {
			if !strings.EqualFold(kf.Format, src.KeyFormat.Name) {
				res.diff("post: %s: key format %s, expected %s", src.Name, src.KeyFormat.Name, kf.Format)
			}
			gotType := ""
			var gotSize int64
			if src.Window != nil {
				gotType, gotSize = src.Window.Type, src.Window.Size
			}
			if !strings.EqualFold(kf.WindowType, gotType) {
				res.diff("post: %s: window type %q, expected %q", src.Name, gotType, kf.WindowType)
			} else if kf.WindowSize != nil && *kf.WindowSize != gotSize {
				res.diff("post: %s: window size %d, expected %d", src.Name, gotSize, *kf.WindowSize)
			}
		}
		if ps.ValueFormat != nil {
			want := postFormatName(ps.ValueFormat)
			if !strings.EqualFold(want, src.ValueFormat.Name) {
				res.diff("post: %s: value format %s, expected %s", src.Name, src.ValueFormat.Name, want)
			}
		}
		if ps.ValueFeatures != nil {
			var got []string
			if w := src.ValueFormat.WrapSingle; w != nil {
				if *w {
					got = []string{"WRAP_SINGLES"}
				} else {
					got = []string{"UNWRAP_SINGLES"}
				}
			}
			want := append([]string(nil), ps.ValueFeatures...)
			sort.Strings(want)
			if strings.Join(want, ",") != strings.Join(got, ",") {
				res.diff("post: %s: value features %v, expected %v", src.Name, got, want)
			}
		}
		if ps.IsSource != nil && *ps.IsSource != src.IsSource {
			res.diff("post: %s: isSource %v, expected %v", src.Name, src.IsSource, *ps.IsSource)
		}
	}
	if post.Topics == nil {
		return
	}
	existing, err := b.topics(ctx)
	if err != nil {
		res.diff("post: listing topics: %v", err)
		return
	}
	if bl := post.Topics.Blacklist; bl != "" {
		re, err := regexp.Compile("^(?:" + bl + ")$")
		if err != nil {
			res.diff("post: bad blacklist %q: %v", bl, err)
		} else {
			for _, name := range sortedMapKeys(existing) {
				if re.MatchString(name) {
					res.diff("post: topic %s exists but matches the blacklist %s", name, bl)
				}
			}
		}
	}
	for _, pt := range post.Topics.Topics {
		if strings.HasPrefix(pt.Name, "_confluent-ksql-") {
			continue
		}
		parts, ok := existing[pt.Name]
		if !ok {
			res.diff("post: topic %s does not exist", pt.Name)
			continue
		}
		if pt.Partitions != nil && *pt.Partitions != parts {
			res.diff("post: topic %s has %d partitions, expected %d", pt.Name, parts, *pt.Partitions)
		}
		src := owningSource(sources, pt.Name, true)
		if src == nil {
			continue
		}
		if pt.KeyFormat != nil && !strings.EqualFold(pt.KeyFormat.Format, src.KeyFormat.Name) {
			res.diff("post: topic %s: key format %s, expected %s", pt.Name, src.KeyFormat.Name, pt.KeyFormat.Format)
		}
		if pt.ValueFormat != nil && !strings.EqualFold(pt.ValueFormat.Format, src.ValueFormat.Name) {
			res.diff("post: topic %s: value format %s, expected %s", pt.Name, src.ValueFormat.Name, pt.ValueFormat.Format)
		}
	}
}

// postFormatName reads a value format written as "JSON" or {"format": "JSON"}.
func postFormatName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var f PostFormat
	if json.Unmarshal(raw, &f) == nil {
		return f.Format
	}
	return string(raw)
}

// sourceSchema renders a catalog source's columns for schema comparison.
func sourceSchema(src *sluice.Source) []schemaColumn {
	out := make([]schemaColumn, len(src.Columns))
	for i, c := range src.Columns {
		role := c.Role
		if role == sql.ColPrimaryKey {
			role = sql.ColKey
		}
		out[i] = schemaColumn{Name: c.Name, Type: c.Type, Role: role, HeaderKey: c.HeaderKey}
	}
	return out
}
