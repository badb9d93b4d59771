package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBenchNexmarkQ1 runs the real binary, because the benchmark re-executes
// it to run the broker in a child process: 'bench nexmark --query q1' must
// end with one well-formed result line whose engine and baseline outputs
// agree record for record.
func TestBenchNexmarkQ1(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs brokers")
	}
	bin := filepath.Join(t.TempDir(), "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "bench", "nexmark", "--query", "q1", "--events", "20000", "--verify", "--work-dir", t.TempDir())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench nexmark: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bench: load (broker process)") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one result line, got %q", stdout.String())
	}
	num := `[0-9]+(\.[0-9]+)?`
	shape := regexp.MustCompile(`^nexmark query=q1 events=18400 eps=` + num + ` eps_per_core=` + num +
		` eps_per_core_embedded=` + num + ` baseline_eps_per_core=` + num + ` ratio=` + num +
		` p50_ms=na p99_ms=na latency_eps=na peak_rss_mb=` + num + ` peak_rss_embedded_mb=` + num +
		` output=(\d+) baseline_output=(\d+) verify="ok"$`)
	m := shape.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("result line has the wrong shape:\n%s", lines[0])
	}
	// 20,000 events hold 18,400 bids; q1 maps each to one output record.
	if out, base := m[len(m)-2], m[len(m)-1]; out != "18400" || base != out {
		t.Errorf("engine wrote %s records, baseline %s; want 18400 each", out, base)
	}
}

func TestBenchUsage(t *testing.T) {
	if code, _, _ := runCmd("bench"); code != exitUsage {
		t.Errorf("bench without a command: exit %d, want %d", code, exitUsage)
	}
	if code, _, errOut := runCmd("bench", "nexmark", "--query", "q6"); code != exitUsage || !strings.Contains(errOut, "OVER window") {
		t.Errorf("q6: exit %d, stderr %q; want a usage error that explains q6", code, errOut)
	}
	if code, _, errOut := runCmd("bench", "nexmark", "--query", "q99"); code != exitUsage || !strings.Contains(errOut, "unknown nexmark query") {
		t.Errorf("q99: exit %d, stderr %q", code, errOut)
	}
}
