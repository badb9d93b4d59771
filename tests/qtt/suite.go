package qtt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Cases expands every file and keeps the cases whose names match filter
// (nil keeps all).
func Cases(files []*File, filter *regexp.Regexp) []*Case {
	var out []*Case
	for _, f := range files {
		for _, c := range f.Expand() {
			if filter == nil || filter.MatchString(c.Name) {
				out = append(out, c)
			}
		}
	}
	return out
}

// RunSuite runs cases on a pool of workers (GOMAXPROCS when workers <= 0)
// and returns their results in case order. report, when set, is called for
// each result in case order as soon as it and every earlier case are done.
func RunSuite(ctx context.Context, r *Runner, cases []*Case, workers int, report func(*Result)) []*Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]*Result, len(cases))
	var mu sync.Mutex
	next := 0
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res := r.Run(ctx, cases[i])
				mu.Lock()
				results[i] = res
				for next < len(results) && results[next] != nil {
					if report != nil {
						report(results[next])
					}
					next++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range cases {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

// Tally counts outcomes.
type Tally struct {
	Pass, Fail, Skip int
	// Negative cases (expected errors) that ran, and how many of them
	// failed at the right stage and with the same message.
	Negative, RightStage, SameMessage int
}

func (t *Tally) add(r *Result) {
	switch r.Status {
	case Pass:
		t.Pass++
	case Fail:
		t.Fail++
	default:
		t.Skip++
	}
	if r.Negative && r.Status != Skip {
		t.Negative++
		if r.RightStage {
			t.RightStage++
		}
		if r.SameMessage {
			t.SameMessage++
		}
	}
}

// Portable is the number of cases that ran (not skipped).
func (t Tally) Portable() int { return t.Pass + t.Fail }

// Summary aggregates results per file and per suite (QTT and REST are
// scored separately).
type Summary struct {
	QTT, REST Tally
	Files     map[string]*Tally
}

// Summarize tallies results.
func Summarize(results []*Result) *Summary {
	s := &Summary{Files: map[string]*Tally{}}
	for _, r := range results {
		if r.Case.REST {
			s.REST.add(r)
		} else {
			s.QTT.add(r)
		}
		f := s.Files[r.Case.File]
		if f == nil {
			f = &Tally{}
			s.Files[r.Case.File] = f
		}
		f.add(r)
	}
	return s
}

// ScoreLine is the one-line score of a suite, e.g. "conformance: 412/936
// portable cases pass (44.0%), 120 skipped; expected errors: 80/150 fail at
// the right stage, 40/150 with the same message".
func ScoreLine(label string, t Tally) string {
	pct := 0.0
	if t.Portable() > 0 {
		pct = 100 * float64(t.Pass) / float64(t.Portable())
	}
	s := fmt.Sprintf("%s: %d/%d portable cases pass (%.1f%%), %d skipped", label, t.Pass, t.Portable(), pct, t.Skip)
	if t.Negative > 0 {
		s += fmt.Sprintf("; expected errors: %d/%d fail at the right stage, %d/%d with the same message",
			t.RightStage, t.Negative, t.SameMessage, t.Negative)
	}
	return s
}

// WriteResult prints one case line, and for a failure its short diff (or,
// with verbose, its statements and full record listings).
func WriteResult(w io.Writer, r *Result, verbose bool) {
	line := fmt.Sprintf("%s  %s", r.Status, r.Case.Name)
	if r.Reason != "" {
		line += ": " + r.Reason
	}
	if r.Status != Skip && r.Elapsed > 0 {
		line += fmt.Sprintf(" (%.1fs)", r.Elapsed.Seconds())
	}
	fmt.Fprintln(w, line)
	if r.Status == Fail {
		for _, d := range r.Diff {
			if d != r.Reason {
				fmt.Fprintln(w, "      "+d)
			}
		}
	}
	if verbose && r.Status != Skip {
		for _, d := range r.Detail {
			for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
				fmt.Fprintln(w, "    | "+l)
			}
		}
	}
}

// WriteSummary prints the per-file counts and the score lines.
func WriteSummary(w io.Writer, s *Summary) {
	names := sortedMapKeys(s.Files)
	width := len("file")
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Fprintf(w, "%-*s  %5s  %5s  %5s\n", width, "file", "pass", "fail", "skip")
	for _, n := range names {
		t := s.Files[n]
		fmt.Fprintf(w, "%-*s  %5d  %5d  %5d\n", width, n, t.Pass, t.Fail, t.Skip)
	}
	if s.QTT.Pass+s.QTT.Fail+s.QTT.Skip > 0 {
		fmt.Fprintln(w, ScoreLine("conformance", s.QTT))
	}
	if s.REST.Pass+s.REST.Fail+s.REST.Skip > 0 {
		fmt.Fprintln(w, ScoreLine("conformance (rest)", s.REST))
	}
}

// ReadBaseline reads a baseline file: one case name per line; blank lines
// and lines starting with # are ignored. A missing file is an empty
// baseline.
func ReadBaseline(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[line] = true
	}
	return out, sc.Err()
}

// WriteBaseline writes the names of the passing results, sorted.
func WriteBaseline(path string, results []*Result) error {
	var names []string
	for _, r := range results {
		if r.Status == Pass {
			names = append(names, r.Case.Name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Conformance cases that pass (tests/qtt). Regenerate with SLUICE_QTT_UPDATE=1 go test ./tests/qtt/\n")
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Regressions returns the results of baseline cases that no longer pass.
func Regressions(baseline map[string]bool, results []*Result) []*Result {
	var out []*Result
	for _, r := range results {
		if baseline[r.Case.Name] && r.Status != Pass {
			out = append(out, r)
		}
	}
	return out
}

// SuiteDir finds the QTT directory: $SLUICE_QTT_DIR, else ../shared/qtt
// next to the repository root (the nearest ancestor of the working
// directory that holds go.mod).
func SuiteDir() (string, error) {
	if d := os.Getenv("SLUICE_QTT_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			q := filepath.Join(d, "..", "shared", "qtt")
			if _, err := os.Stat(q); err != nil {
				return "", fmt.Errorf("QTT files not found at %s (set SLUICE_QTT_DIR): %w", q, err)
			}
			return q, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s; set SLUICE_QTT_DIR", wd)
		}
	}
}
