package qtt

import (
	"context"
	"log/slog"
	"os"

	"github.com/sluicedb/sluice"
)

// Target is the engine under test, as the runner drives it. Statements of
// one case run in one session, in order.
type Target interface {
	// Exec runs one statement (a CREATE, INSERT, SET, DROP, ...).
	Exec(ctx context.Context, stmt string) error
	// Query runs a pull or push query.
	Query(ctx context.Context, stmt string) (*sluice.Rows, error)
	// RunUntilIdle lets every persistent query, in creation order, consume
	// everything in its source topics.
	RunUntilIdle(ctx context.Context) error
	// Sources lists the catalog's streams and tables.
	Sources() []*sluice.Source
	Close() error
}

// TargetConfig is what a case needs from a fresh engine.
type TargetConfig struct {
	Brokers    []string          // the case's private Kafka cluster
	DataDir    string            // an empty directory owned by the case
	ServiceID  string            // ksql.service.id
	Properties map[string]string // base settings (SPEC 3.6.1) with the case's properties on top
}

// OpenFunc starts a fresh engine for one case.
type OpenFunc func(ctx context.Context, cfg TargetConfig) (Target, error)

// OpenSluice starts sluice through its public API: manual drive (queries
// run only inside RunUntilIdle), in-memory state, on the case's broker.
// Engine logs go to stderr when SLUICE_QTT_LOG is set, and are discarded
// otherwise.
func OpenSluice(ctx context.Context, cfg TargetConfig) (Target, error) {
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("SLUICE_QTT_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e, err := sluice.Open(ctx,
		sluice.WithBrokers(cfg.Brokers...),
		sluice.WithDataDir(cfg.DataDir),
		sluice.WithServiceID(cfg.ServiceID),
		sluice.WithProperties(cfg.Properties),
		sluice.WithManualDrive(),
		sluice.WithInMemoryState(),
		sluice.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	return &sluiceTarget{e: e, s: e.NewSession()}, nil
}

type sluiceTarget struct {
	e *sluice.Engine
	s *sluice.Session
}

func (t *sluiceTarget) Exec(ctx context.Context, stmt string) error {
	_, err := t.s.Exec(ctx, stmt)
	return err
}

func (t *sluiceTarget) Query(ctx context.Context, stmt string) (*sluice.Rows, error) {
	return t.s.Query(ctx, stmt)
}

func (t *sluiceTarget) RunUntilIdle(ctx context.Context) error { return t.e.RunUntilIdle(ctx) }
func (t *sluiceTarget) Sources() []*sluice.Source              { return t.e.Sources() }
func (t *sluiceTarget) Close() error                           { return t.e.Close() }

// serviceID is the ksql.service.id of the Java harness (SPEC 3.6.1).
const serviceID = "some.ksql.service.id"

// baseProperties are the Java harness's base settings (SPEC 3.6.1).
func baseProperties() map[string]string {
	return map[string]string{
		"cache.max.bytes.buffering":    "0",
		"auto.offset.reset":            "earliest",
		"ksql.service.id":              serviceID,
		"ksql.headers.columns.enabled": "true",
	}
}
