package sluice

import (
	"log/slog"
	"time"
)

// Option configures an Engine. Options are applied in order; each documents
// its default.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dataDir     string
	brokers     []string
	kafkaAddr   string
	serviceID   string
	logger      *slog.Logger
	props       map[string]string
	manualDrive bool
	inMemory    bool
	pollWait    time.Duration
	// advertisedAddr is the Postgres-wire address other instances forward
	// pull queries to.
	advertisedAddr string
	brokerWait     time.Duration
}

func defaultConfig() config {
	return config{
		dataDir:   "./sluice-data",
		kafkaAddr: "127.0.0.1:9092",
		serviceID: "sluice",
		logger:    slog.Default(),
		props:     map[string]string{},
		pollWait:  100 * time.Millisecond,
	}
}

// WithDataDir sets the directory that holds the catalog, Pebble state and,
// with the embedded broker, its log. Default "./sluice-data".
func WithDataDir(dir string) Option { return optionFunc(func(c *config) { c.dataDir = dir }) }

// WithBrokers makes the engine use an existing Kafka cluster at the given
// seed addresses instead of starting the embedded broker. Default: none (the
// embedded broker runs).
func WithBrokers(addrs ...string) Option {
	return optionFunc(func(c *config) { c.brokers = append([]string(nil), addrs...) })
}

// WithBrokerWait makes Open wait up to d for the brokers of WithBrokers to
// answer (a cluster still starting), retrying with a warning per attempt.
// Default 0: Open fails at once when they do not answer.
func WithBrokerWait(d time.Duration) Option { return optionFunc(func(c *config) { c.brokerWait = d }) }

// WithKafkaAddr sets the embedded broker's listener. Default
// "127.0.0.1:9092". Ignored with WithBrokers.
func WithKafkaAddr(addr string) Option { return optionFunc(func(c *config) { c.kafkaAddr = addr }) }

// WithServiceID names the sluice cluster: instances with the same service id
// share the catalog (the command topic) and the queries' consumer groups.
// Default "sluice".
func WithServiceID(id string) Option { return optionFunc(func(c *config) { c.serviceID = id }) }

// WithLogger sets the logger. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithProperties sets engine-wide defaults for ksqlDB properties (for
// example "ksql.persistence.wrap.single.values" or "auto.offset.reset").
// Sessions override them with SET.
func WithProperties(props map[string]string) Option {
	return optionFunc(func(c *config) {
		for k, v := range props {
			c.props[k] = v
		}
	})
}

// WithManualDrive turns the engine into a test driver, like Kafka Streams'
// TopologyTestDriver: persistent queries do not run on their own; each call
// to (*Engine).RunUntilIdle runs every query, in creation order, until it has
// consumed everything in its source topics. Results are then deterministic.
// Default off.
func WithManualDrive() Option { return optionFunc(func(c *config) { c.manualDrive = true }) }

// WithInMemoryState keeps Pebble state in memory instead of under the data
// directory (tests, and engines whose state is rebuilt from changelogs).
// Default off.
func WithInMemoryState() Option { return optionFunc(func(c *config) { c.inMemory = true }) }

// WithAdvertisedAddr sets the host:port at which other instances of the
// service reach this engine's Postgres-wire server, to forward the pull
// queries over partitions this engine owns (ksqlDB's
// ksql.advertised.listener). sluice serve sets it from --pg-addr (or
// --advertised-addr). Default: none; pull queries on other instances then
// fail for the partitions this engine owns, naming it.
func WithAdvertisedAddr(addr string) Option {
	return optionFunc(func(c *config) { c.advertisedAddr = addr })
}
