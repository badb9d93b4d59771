package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, _ := runCmd(args...)
		if code != exitOK || !strings.Contains(out, "sluice serve [flags]") {
			t.Errorf("%v: code %d, stdout %q; want usage and exit 0", args, code, out)
		}
	}
	code, out, _ := runCmd("version")
	if code != exitOK || !strings.HasPrefix(out, "sluice ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: code %d, stdout %q", code, out)
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	if got := versionString(); !strings.HasPrefix(got, "sluice v9.9.9 ") {
		t.Errorf("versionString with -X main.version = %q", got)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "--log-level", "loud"}, `--log-level "loud" is not one of`},
	} {
		code, _, stderr := runCmd(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: code %d, stderr %q; want exit %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	code, _, stderr := runCmd("serve", "-h")
	if code != exitOK || !strings.Contains(stderr, "-pg-addr") || !strings.Contains(stderr, "-brokers") {
		t.Errorf("serve -h: code %d, stderr %q", code, stderr)
	}
}

// A taken --pg-addr is reported in one line naming the flag, before the
// engine is opened.
func TestServePGAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	code, _, stderr := runCmd("serve", "--pg-addr", addr, "--data-dir", t.TempDir(), "--kafka-addr", "127.0.0.1:0")
	want := "sluice: --pg-addr " + addr + " is already in use; pass another address with --pg-addr\n"
	if code != exitError || stderr != want {
		t.Errorf("code %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
}

func TestStartupMessage(t *testing.T) {
	f := serveFlags{pgAddr: "0.0.0.0:7432"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("open: %w", &sluice.AddrInUseError{Addr: "127.0.0.1:9092"}),
			"sluice: --kafka-addr 127.0.0.1:9092 is already in use; pass another address with --kafka-addr (or use an existing cluster with --brokers)"},
		{&server.AddrInUseError{Addr: "127.0.0.1:7432"},
			"sluice: --pg-addr 127.0.0.1:7432 is already in use; pass another address with --pg-addr"},
		{fmt.Errorf("%w: x", server.ErrInsecureListen),
			"sluice: --pg-addr 0.0.0.0:7432 is not a loopback address and authentication is trust; add users with --user or --users-file (scram-sha-256), bind a loopback address such as 127.0.0.1:7432, or pass --allow-unauthenticated-remote on a private network"},
		{errors.New("sluice: data dir is locked"), "sluice: data dir is locked"},
	} {
		if got := startupMessage(c.err, f); got != c.want {
			t.Errorf("startupMessage(%v) =\n  %q\nwant\n  %q", c.err, got, c.want)
		}
	}
}

func TestBrokerList(t *testing.T) {
	got := brokerList(" a:1, b:2,,")
	if strings.Join(got, "|") != "a:1|b:2" {
		t.Errorf("brokerList = %q", got)
	}
	if brokerList("") != nil {
		t.Error("brokerList(\"\") is not empty")
	}
}
