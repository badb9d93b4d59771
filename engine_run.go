package sluice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/storage"
)

// engineState is the running engine.
type engineState struct {
	log      *slog.Logger
	broker   *storage.Broker // nil with WithBrokers
	seeds    []string
	kafka    *storage.Kafka
	state    *storage.State
	cmdlog   *storage.CommandLog
	producer *kgo.Client // shared by INSERT VALUES and at-least-once sinks
	cat      *catalog
	// instance identifies this engine among the instances of its service
	// (group.go); it lives in the data directory.
	instance string

	// ddlMu serializes statements that change the catalog, so that each is
	// validated against the catalog it will be applied to.
	ddlMu sync.Mutex

	mu      sync.Mutex
	queries map[string]*persistentQuery // running persistent queries
	closed  bool

	ctx    context.Context // lives until Close
	cancel context.CancelFunc

	// stopFollow ends the command follower; followDone is closed when it
	// has ended (both nil in manual drive, which runs no follower).
	stopFollow context.CancelFunc
	followDone chan struct{}
}

const (
	catalogMetaKey = "catalog"
)

func commandTopic(serviceID string) string { return "_sluice-" + serviceID + "-command" }

func open(ctx context.Context, cfg config) (e *Engine, err error) {
	st := &engineState{
		log:     cfg.logger,
		cat:     newCatalog(),
		queries: map[string]*persistentQuery{},
	}
	eng := &Engine{cfg: cfg, engineState: st}
	e = eng
	defer func() {
		if err != nil {
			// e is nil here when the failing return said so; clean up the
			// engine under construction, not the result.
			eng.closeResources()
			e = nil
		}
	}()
	st.ctx, st.cancel = context.WithCancel(context.Background())

	st.seeds = cfg.brokers
	if len(st.seeds) == 0 {
		st.broker, err = storage.StartBroker(ctx, storage.BrokerConfig{
			DataDir: filepath.Join(cfg.dataDir, "broker"),
			Addr:    cfg.kafkaAddr,
			Logger:  cfg.logger,
		})
		if err != nil {
			return nil, err
		}
		st.seeds = st.broker.Addrs()
	}
	if st.kafka, err = storage.DialKafkaWait(ctx, st.seeds, cfg.logger, cfg.brokerWait); err != nil {
		return nil, err
	}
	if st.state, err = storage.OpenState(filepath.Join(cfg.dataDir, "state"), cfg.inMemory); err != nil {
		return nil, err
	}
	if st.instance, err = e.loadInstanceID(); err != nil {
		return nil, err
	}
	if st.producer, err = storage.NewProducer(st.seeds, storage.ProducerOptions{
		Linger:      lingerOf(cfg.props),
		Compression: cfg.props[propCompression],
	}); err != nil {
		return nil, err
	}
	if st.cmdlog, err = storage.OpenCommandLog(ctx, st.kafka, commandTopic(cfg.serviceID)); err != nil {
		return nil, err
	}
	// The snapshot in Pebble says which commands the local catalog already
	// reflects; replay the rest from the command topic.
	if b, ok, err := st.state.GetMeta(catalogMetaKey); err != nil {
		return nil, fmt.Errorf("read catalog snapshot: %w", err)
	} else if ok {
		if err := st.cat.unmarshal(b); err != nil {
			return nil, fmt.Errorf("decode catalog snapshot: %w", err)
		}
	}
	if err := e.catchUpCommands(ctx); err != nil {
		return nil, err
	}
	if err := e.reconcileQueries(ctx); err != nil {
		return nil, err
	}
	if !cfg.manualDrive {
		e.follow()
	}
	st.log.Info("sluice engine open", "kafka", st.seeds, "data_dir", cfg.dataDir,
		"sources", len(st.cat.sortedSources()), "queries", len(st.cat.queryList()))
	return e, nil
}

// catchUpCommands applies the commands appended to the command topic since
// the catalog's snapshot, then saves a new snapshot.
func (e *Engine) catchUpCommands(ctx context.Context) error {
	from := e.cat.nextCommand()
	next, err := e.cmdlog.Replay(ctx, from, func(offset int64, _ string, value []byte) error {
		cmd, err := decodeCommand(value)
		if err != nil {
			return fmt.Errorf("command topic offset %d: %w", offset, err)
		}
		e.cat.apply(offset, cmd)
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay command topic: %w", err)
	}
	if next != from {
		return e.saveCatalog()
	}
	return nil
}

// reconcileQueries makes the running persistent queries those of the
// catalog: it starts the catalog's queries that do not run here (at open,
// or created on another instance), restarts replaced ones and stops
// terminated ones.
func (e *Engine) reconcileQueries(ctx context.Context) error {
	want := map[string]bool{}
	var errs []error
	for _, qi := range e.cat.queryList() {
		want[qi.ID] = true
		e.mu.Lock()
		q := e.queries[qi.ID]
		e.mu.Unlock()
		if q != nil && q.info.SQL == qi.SQL {
			continue
		}
		if q != nil {
			if err := e.stopQuery(qi.ID); err != nil {
				errs = append(errs, fmt.Errorf("stop replaced query %s: %w", qi.ID, err))
			}
		}
		if err := e.startQuery(ctx, qi); err != nil {
			errs = append(errs, fmt.Errorf("start query %s: %w", qi.ID, err))
		}
	}
	e.mu.Lock()
	var stale []string
	for id := range e.queries {
		if !want[id] {
			stale = append(stale, id)
		}
	}
	e.mu.Unlock()
	for _, id := range stale {
		e.mu.Lock()
		q := e.queries[id]
		e.mu.Unlock()
		if err := e.stopQuery(id); err != nil {
			errs = append(errs, fmt.Errorf("stop terminated query %s: %w", id, err))
		}
		if q != nil {
			e.terminated(q)
		}
	}
	return errors.Join(errs...)
}

// follow starts the command follower: it applies the commands other
// instances of the service append to the command topic as they arrive, and
// starts and stops queries to match (DESIGN.md decision 2). A command this
// engine appended itself is applied by the statement (under ddlMu) and
// skipped here.
func (e *Engine) follow() {
	ctx, cancel := context.WithCancel(e.ctx)
	e.stopFollow, e.followDone = cancel, make(chan struct{})
	go func() {
		defer close(e.followDone)
		for ctx.Err() == nil {
			_, err := e.cmdlog.Tail(ctx, e.cat.nextCommand(), func(offset int64, _ string, value []byte) error {
				return e.applyRemote(ctx, offset, value)
			})
			if ctx.Err() != nil {
				return
			}
			e.log.Error("follow the command topic; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// applyRemote applies a command read from the command topic unless the
// catalog has it already.
func (e *Engine) applyRemote(ctx context.Context, offset int64, value []byte) error {
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	if offset < e.cat.nextCommand() {
		return nil
	}
	cmd, err := decodeCommand(value)
	if err != nil {
		return fmt.Errorf("command topic offset %d: %w", offset, err)
	}
	e.cat.apply(offset, cmd)
	if err := e.saveCatalog(); err != nil {
		e.log.Warn("save catalog snapshot", "err", err)
	}
	if err := e.reconcileQueries(ctx); err != nil {
		// The catalog has the command; the queries that failed to start
		// show as missing in SHOW QUERIES and start at the next restart.
		e.log.Error("apply a command from another instance", "offset", offset, "err", err)
	}
	e.log.Info("applied a command from another instance", "offset", offset, "sql", cmd.SQL)
	return nil
}

func (c *catalog) nextCommand() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.nextCmd
}

func (e *Engine) saveCatalog() error {
	b, err := e.cat.marshal()
	if err != nil {
		return err
	}
	return e.state.PutMeta(catalogMetaKey, b)
}

// Close stops every query (committing what it processed), then the broker.
// It is safe to call more than once.
func (e *Engine) Close() error {
	if e == nil || e.engineState == nil {
		return nil
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if e.stopFollow != nil {
		e.stopFollow()
		<-e.followDone
	}
	e.mu.Lock()
	qs := make([]*persistentQuery, 0, len(e.queries))
	for _, q := range e.queries {
		qs = append(qs, q)
	}
	e.mu.Unlock()
	var errs []error
	for _, q := range qs {
		if err := q.stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop query %s: %w", q.id, err))
		}
	}
	errs = append(errs, e.closeResources())
	return errors.Join(errs...)
}

// closeResources releases what open acquired, in reverse order.
func (e *Engine) closeResources() error {
	var errs []error
	if e.cancel != nil {
		e.cancel()
	}
	if e.producer != nil {
		e.producer.Close()
	}
	if e.cmdlog != nil {
		e.cmdlog.Close()
	}
	if e.kafka != nil {
		e.kafka.Close()
	}
	if e.state != nil {
		errs = append(errs, e.state.Close())
	}
	if e.broker != nil {
		errs = append(errs, e.broker.Close())
	}
	return errors.Join(errs...)
}

// KafkaAddrs returns the seed addresses of the Kafka cluster the engine uses
// (the embedded broker's listener by default).
func (e *Engine) KafkaAddrs() []string { return append([]string(nil), e.seeds...) }

// Source returns the catalog entry named name (exact, already folded).
func (e *Engine) Source(name string) (*Source, bool) { return e.cat.Source(name) }

// Sources returns every stream and table, sorted by name.
func (e *Engine) Sources() []*Source { return e.cat.sortedSources() }

// AddrInUseError is returned by Open when the embedded broker's listen
// address is taken; Addr names it.
type AddrInUseError = storage.AddrInUseError
